#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import StreamStoreKafka

extension StreamTool {
    /// `stream-tool users add|list|remove --file FILE`: the users file of `serve --users`.
    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the users that Kafka clients authenticate as (serve --users FILE).",
            discussion: """
                The users file holds, for each user and SCRAM mechanism, a salted credential \
                derived from the password (PBKDF2 with HMAC-SHA-256 or -512), never the \
                password itself. It is created with mode 0600, and serve refuses a users file \
                that others may read. A running server reads the file again when it changes, \
                so added and removed users take effect for new connections. PLAIN logins (over \
                TLS only) are checked against the same credentials.
                """,
            subcommands: [Add.self, List.self, Remove.self])
    }
}

/// `--mechanism` values: the SCRAM mechanisms a credential can be stored for.
enum ScramMechanismOption: String, ExpressibleByArgument, CaseIterable {
    case scramSHA256 = "SCRAM-SHA-256"
    case scramSHA512 = "SCRAM-SHA-512"

    var mechanism: KafkaSASLMechanism {
        switch self {
        case .scramSHA256: return .scramSHA256
        case .scramSHA512: return .scramSHA512
        }
    }
}

/// Reading a password: from a terminal with the echo off (asked twice), else the first line
/// of standard input, so scripts can pipe it in without it showing in `ps`.
enum PasswordInput {
    static func read(for user: String) throws -> String {
        if isatty(0) != 0 {
            let first = try prompt("Password for \(user): ")
            let second = try prompt("Again: ")
            guard first == second else { throw ToolError("The two passwords differ; nothing was changed.") }
            return try checked(first)
        }
        guard var password = readLine(strippingNewline: true) else {
            throw ToolError("No password on standard input: pipe it in (one line), or run this in a terminal to be asked.")
        }
        if password.hasSuffix("\r") { password.removeLast() }
        return try checked(password)
    }

    private static func checked(_ password: String) throws -> String {
        guard !password.isEmpty else { throw ToolError("The password is empty; nothing was changed.") }
        return password
    }

    /// Asks on stderr and reads one line from the terminal without echoing it.
    private static func prompt(_ text: String) throws -> String {
        StandardError.write(text)
        var saved = termios()
        let canHide = tcgetattr(0, &saved) == 0
        if canHide {
            var hidden = saved
            hidden.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSAFLUSH, &hidden)
        }
        defer {
            if canHide { tcsetattr(0, TCSAFLUSH, &saved) }
            StandardError.line("")
        }
        guard let line = readLine(strippingNewline: true) else { throw ToolError("No password given; nothing was changed.") }
        return line
    }
}
