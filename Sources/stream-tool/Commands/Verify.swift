import ArgumentParser
extension StreamTool {
    struct Verify: AsyncParsableCommand {
        func run() async throws {}
    }
}
