import ArgumentParser
extension StreamTool {
    struct Describe: AsyncParsableCommand {
        func run() async throws {}
    }
}
