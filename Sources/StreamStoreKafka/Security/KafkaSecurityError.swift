/// Why the Kafka server's security setup (users file, TLS files) could not be used. Each has
/// a stable ``code`` and a message that says what to do.
public struct KafkaSecurityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in a form code can switch on.
    public enum Code: Sendable, Equatable {
        /// The users file does not exist.
        case usersFileMissing
        /// The users file can be read or written by others than its owner (it must be 0600).
        case usersFilePermissions
        /// A line of the users file is not a credential; the message names the line.
        case usersFileInvalid
        /// A user name that the users file cannot hold (empty, whitespace, control characters).
        case invalidUserName
        /// An iteration count outside the bounds in `Limits`.
        case invalidIterations
        /// The TLS certificate chain or private key could not be loaded.
        case tlsFiles
        /// A system call failed with this `errno`.
        case io(errno: Int32)
    }

    /// What went wrong.
    public let code: Code
    /// What went wrong and what to do about it.
    public let message: String
    /// The file involved, if any.
    public let path: String?

    /// An error with `code`, `message` and the file involved.
    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    /// The path (when there is one) and the message.
    public var description: String { path.map { "\($0): \(message)" } ?? message }
}
