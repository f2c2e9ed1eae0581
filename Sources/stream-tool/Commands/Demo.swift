import ArgumentParser
extension StreamTool {
    struct Demo: AsyncParsableCommand {
        func run() async throws {}
    }
}
