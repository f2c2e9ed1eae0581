import ArgumentParser
import StreamStoreKafka

extension StreamTool.Users {
    /// `stream-tool users list --file FILE`: the users and their mechanisms.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users of a users file and the mechanisms each can log in with.")

        @Option(help: ArgumentHelp("The users file.", valueName: "FILE"))
        var file: String

        func run() async throws {
            try await reportingErrors {
                let users = try KafkaUsersFile.load(path: file).file.users
                guard !users.isEmpty else {
                    print("No users in \(file). Add one: stream-tool users add --file \(file) NAME")
                    return
                }
                var table = TextTable([("USER", .left), ("MECHANISMS", .left)])
                for user in users { table.add([user.name, user.mechanisms.map(\.rawValue).joined(separator: ", ")]) }
                print(table.render(), terminator: "")
            }
        }
    }
}
