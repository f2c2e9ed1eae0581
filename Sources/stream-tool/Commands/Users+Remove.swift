import ArgumentParser
import StreamStoreKafka

extension StreamTool.Users {
    /// `stream-tool users remove --file FILE NAME`: removes every credential of a user.
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user from a users file.",
            discussion: "Connections already authenticated as the user stay open; new logins fail.")

        @Option(help: ArgumentHelp("The users file.", valueName: "FILE"))
        var file: String

        @Argument(help: "The user name.")
        var name: String

        func run() async throws {
            try await reportingErrors {
                var users = try KafkaUsersFile.load(path: file).file
                guard users.remove(user: name) else { throw ToolError("No user \(name) in \(file); users list --file \(file) shows who is.") }
                try users.save(to: file)
                print("Removed \(name) from \(file).")
            }
        }
    }
}
