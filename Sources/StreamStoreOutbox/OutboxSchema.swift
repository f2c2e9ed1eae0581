import GRDB

/// The tables of the outbox and the inbox, in the application's own SQLite database
/// (docs/OUTBOX.md has every column, so a service in another language can write outbox rows).
///
/// ```swift
/// var migrator = DatabaseMigrator()
/// migrator.registerMigration("orders") { db in /* the application's tables */ }
/// OutboxSchema.register(in: &migrator)
/// try migrator.migrate(dbQueue)
/// ```
public enum OutboxSchema {
    /// Rows waiting to be published, oldest (lowest `id`) first; the relay deletes a row once
    /// its record is durable in the store.
    public static let outboxTable = "streamstore_outbox"
    /// Message ids an ``Inbox`` consumer has handled, with when.
    public static let inboxTable = "streamstore_inbox"
    /// One row (`id` = 1): what relays have published from this database, and their last error.
    public static let relayTable = "streamstore_outbox_relay"
    /// The name of the migration in GRDB's `grdb_migrations` table.
    public static let migrationIdentifier = "streamstore-outbox-v1"

    /// Adds the migration that creates the tables to the application's migrator.
    public static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration(migrationIdentifier) { db in try create(in: db) }
    }

    /// Creates the tables in `writer`'s database unless they exist (a migrator of its own, so it
    /// can run beside the application's).
    public static func migrate(_ writer: some DatabaseWriter) throws {
        var migrator = DatabaseMigrator()
        register(in: &migrator)
        try migrator.migrate(writer)
    }

    /// The statements of the migration (docs/OUTBOX.md, "Tables"). Ids are `AUTOINCREMENT`:
    /// SQLite has one writer at a time, so id order is commit order, and an id is never
    /// reused after the relay deleted its row. A row written without a `message_id` gets a
    /// random one from the column's default, fixed for the row's life.
    static let statements = [
        """
        CREATE TABLE IF NOT EXISTS \(outboxTable) (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            topic TEXT NOT NULL,
            target_partition INTEGER,
            key BLOB,
            value BLOB,
            message_id TEXT NOT NULL DEFAULT (lower(hex(randomblob(16)))),
            correlation_id TEXT,
            causation_id TEXT,
            headers TEXT,
            created_at_ms INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS \(inboxTable) (
            consumer TEXT NOT NULL,
            message_id TEXT NOT NULL,
            handled_at_ms INTEGER NOT NULL,
            record_partition INTEGER,
            record_offset INTEGER,
            PRIMARY KEY (consumer, message_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX IF NOT EXISTS \(inboxTable)_by_time ON \(inboxTable) (consumer, handled_at_ms)",
        """
        CREATE TABLE IF NOT EXISTS \(relayTable) (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            published_rows INTEGER NOT NULL DEFAULT 0,
            last_published_at_ms INTEGER,
            errors INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_error_at_ms INTEGER
        )
        """,
    ]

    static func create(in db: Database) throws {
        for statement in statements { try db.execute(sql: statement) }
    }
}
