import ArgumentParser
import Foundation
import GRDB
import StreamStore
import StreamStoreOutbox

extension StreamTool {
    /// `stream-tool outbox relay|status`: a SQLite database's transactional outbox
    /// (docs/OUTBOX.md).
    struct OutboxCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "outbox",
            abstract: "Publish a SQLite outbox's pending rows to the store; show what is pending.",
            discussion: """
                A service writes its events into the streamstore_outbox table of its own SQLite \
                database, in the same transaction as the state change (the StreamStoreOutbox \
                library, or plain SQL from any language: docs/OUTBOX.md). relay appends the rows \
                to their topics and deletes them once they are durable; status reads the \
                database only.
                """,
            subcommands: [Relay.self, Status.self])
    }
}

/// The `--db FILE` both outbox commands take.
struct OutboxDatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("The application's SQLite database holding the outbox tables.", valueName: "FILE"))
    var path: String

    /// The database, opened without changing its journal mode, waiting up to 5 s for the
    /// application's write lock; refused when the file or the outbox table is missing.
    func open() throws -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ToolError("There is no database at \(path); --db names the application's SQLite file.")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let database = try DatabaseQueue(path: path, configuration: configuration)
        let hasOutbox = try database.read { db in try db.tableExists(OutboxSchema.outboxTable) }
        guard hasOutbox else {
            throw ToolError("\(path) has no \(OutboxSchema.outboxTable) table; create it with the migration (OutboxSchema, docs/OUTBOX.md).")
        }
        return database
    }
}
