#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Logging
import StreamStore

/// The options every command shares: which store, and how loudly the store logs.
struct StoreOptions: ParsableArguments {
    /// Where the store lives when neither `--store` nor the environment says.
    static let defaultPath = "./stream-data"
    static let environmentVariable = "STREAM_STORE_DIR"

    @Option(
        name: .customLong("store"),
        help: ArgumentHelp(
            "The store folder (default: $STREAM_STORE_DIR, else ./stream-data).",
            valueName: "DIR"),
        completion: .directory)
    var store: String?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp(
            "The least severe store log messages shown on stderr (default: warning).",
            valueName: "LEVEL"))
    var logLevelOption: Logger.Level?

    var logLevel: Logger.Level { logLevelOption ?? .warning }

    /// These options with anything left unset taken from `parent`: the same options given
    /// before the subcommand name (`stream-tool --store DIR topics`).
    func resolved(parent: StoreOptions) -> StoreOptions {
        var merged = self
        if merged.store == nil { merged.store = parent.store }
        if merged.logLevelOption == nil { merged.logLevelOption = parent.logLevelOption }
        return merged
    }

    /// The folder this run uses.
    var path: String {
        if let store, !store.isEmpty { return store }
        if let fromEnvironment = getenv(Self.environmentVariable), fromEnvironment.pointee != 0 {
            return String(cString: fromEnvironment)
        }
        return Self.defaultPath
    }

    /// How long a command waits for a store that another process has open before it gives
    /// up with an error. `replay --follow` opens the store only for short reading sessions, so
    /// a command started meanwhile gets it within this wait instead of failing.
    static let lockWaitMilliseconds: Int64 = 2000
    /// How often a waiting command tries the lock again.
    static let lockRetryMilliseconds: Int64 = 10

    /// Opens the store, runs `body`, and closes the store whatever happens, so the next run
    /// finds it shut down cleanly. Commands that only read pass `createIfMissing: false` and
    /// fail on a missing store instead of making an empty one.
    func withStore<T>(createIfMissing: Bool, _ body: (Store) async throws -> T) async throws -> T {
        let store = try await openStore(createIfMissing: createIfMissing, lockWaitMilliseconds: Self.lockWaitMilliseconds)
        let result: T
        do {
            result = try await body(store)
        } catch {
            try? store.close()
            throw error
        }
        try store.close()
        return result
    }

    /// Opens the store, trying again for up to `lockWaitMilliseconds` while another process
    /// has it open; after that the `.storeLocked` error is thrown.
    func openStore(createIfMissing: Bool, lockWaitMilliseconds: Int64) async throws -> Store {
        let stopwatch = Stopwatch()
        while true {
            do {
                return try open(createIfMissing: createIfMissing)
            } catch let error as StreamStoreError where error.code == .storeLocked {
                guard stopwatch.elapsedSeconds * 1000 < Double(lockWaitMilliseconds) else { throw error }
                try await Task.sleep(for: .milliseconds(Self.lockRetryMilliseconds))
            }
        }
    }

    /// Opens the store read-only: no lock, nothing written, so it works beside a writer process
    /// (and in a folder this user may only read). Commands that only read use it.
    func openReadOnlyStore() throws -> Store {
        return try Store.open(at: path, options: Store.Options(logger: makeLogger(), createIfMissing: false, retentionCheckMilliseconds: nil, mode: .readOnly))
    }

    /// Opens the store read-only, runs `body`, and closes it whatever happens.
    func withReadOnlyStore<T>(_ body: (Store) async throws -> T) async throws -> T {
        let store = try openReadOnlyStore()
        let result: T
        do {
            result = try await body(store)
        } catch {
            try? store.close()
            throw error
        }
        try store.close()
        return result
    }

    private func makeLogger() -> Logger {
        let level = logLevel
        var logger = Logger(label: "streamstore") { label in StandardErrorLogHandler(label: label) }
        logger.logLevel = level
        return logger
    }

    private func open(createIfMissing: Bool) throws -> Store {
        let store = try Store.open(at: path, options: Store.Options(logger: makeLogger(), createIfMissing: createIfMissing))
        for recovery in store.recoveries {
            StandardError.line("note: recovered \(recovery)")
        }
        return store
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Writes the store's log messages to stderr as `streamstore <level>: message`, one a line,
/// so they never look like the tool's own `error:` line.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var text = "\(label) \(event.level): \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty {
            text += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        StandardError.line(text)
    }
}
