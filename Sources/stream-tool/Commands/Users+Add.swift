import ArgumentParser
import StreamStore
import StreamStoreKafka

extension StreamTool.Users {
    /// `stream-tool users add --file FILE NAME`: adds a user, or sets a new password.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user to a users file, or give an existing user a new password.",
            discussion: """
                The password comes from the terminal (asked twice, not shown), or from the \
                first line of standard input when that is not a terminal: \
                printf '%s\\n' "$PASSWORD" | stream-tool users add --file users.txt alice. \
                The file is created (mode 0600) when it does not exist.
                """)

        @Option(help: ArgumentHelp("The users file.", valueName: "FILE"))
        var file: String

        @Argument(help: "The user name (printable, no spaces).")
        var name: String

        @Option(help: ArgumentHelp("A SCRAM mechanism to store a credential for; repeat for both (default: both).", valueName: "MECHANISM"))
        var mechanism: [ScramMechanismOption] = []

        @Option(help: "PBKDF2 iterations of the credential.")
        var iterations = Limits.kafkaScramMinIterations

        func validate() throws {
            guard (Limits.kafkaScramMinIterations...Limits.kafkaScramMaxIterations).contains(iterations) else {
                throw ValidationError("--iterations must be between \(Limits.kafkaScramMinIterations) and \(Limits.kafkaScramMaxIterations).")
            }
        }

        func run() async throws {
            try await reportingErrors {
                var users = try UsersFileAccess.loadOrEmpty(file)
                let mechanisms = (mechanism.isEmpty ? ScramMechanismOption.allCases : mechanism).map(\.mechanism)
                try KafkaUsersFile.checkUserName(name)
                let existed = users.users.contains { $0.name == name }
                let password = try PasswordInput.read(for: name)
                try users.add(user: name, password: password, mechanisms: mechanisms, iterations: iterations)
                try users.save(to: file)
                let what = existed ? "Changed the password of" : "Added"
                print("\(what) \(name) (\(mechanisms.map(\.rawValue).joined(separator: ", "))) in \(file).")
            }
        }
    }
}

/// Loading a users file for the `users` commands, with the library's errors as tool errors.
enum UsersFileAccess {
    /// The file's users, or none when the file does not exist yet.
    static func loadOrEmpty(_ path: String) throws(KafkaSecurityError) -> KafkaUsersFile {
        do {
            return try KafkaUsersFile.load(path: path).file
        } catch {
            guard error.code == .usersFileMissing else { throw error }
            return KafkaUsersFile()
        }
    }
}
