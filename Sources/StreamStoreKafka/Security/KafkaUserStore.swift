import Logging
import StreamStoreFormat

/// The users a server authenticates against: the users file, read at start (where a missing
/// or unsafe file stops the server from starting) and read again whenever it changed on disk,
/// so `users add` and `users remove` take effect for the next login without a restart. A file
/// that turns bad while the server runs refuses every login until it is fixed, with an error
/// in the log: failing closed is safer than keeping users the operator may have removed.
final class KafkaUserStore: Sendable {
    let path: String
    private let logger: Logger
    private let state: Locked<(file: KafkaUsersFile, stamp: KafkaUsersFile.Stamp?)>

    init(path: String, logger: Logger) throws(KafkaSecurityError) {
        self.path = path
        self.logger = logger
        let loaded = try KafkaUsersFile.load(path: path)
        if loaded.file.users.isEmpty {
            logger.warning("The Kafka users file \(path) has no users yet: every login fails until one is added.")
        }
        state = Locked((loaded.file, loaded.stamp))
    }

    /// The users as the file holds them now.
    func current() -> KafkaUsersFile {
        let now = KafkaUsersFile.currentStamp(path: path)
        return state.withLock { state in
            guard now != state.stamp else { return state.file }
            do throws(KafkaSecurityError) {
                let loaded = try KafkaUsersFile.load(path: path)
                state = (loaded.file, loaded.stamp)
                logger.info("Read the Kafka users file again: \(loaded.file.users.count) users.")
            } catch {
                state = (KafkaUsersFile(), now)
                logger.error("The Kafka users file cannot be used, so every login fails until it is fixed: \(error)")
            }
            return state.file
        }
    }
}
