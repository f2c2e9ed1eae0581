import ArgumentParser
extension StreamTool {
    struct Produce: AsyncParsableCommand {
        func run() async throws {}
    }
}
