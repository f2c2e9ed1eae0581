import ArgumentParser
extension StreamTool {
    struct Replay: AsyncParsableCommand {
        func run() async throws {}
    }
}
