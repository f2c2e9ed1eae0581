#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import StreamStore

/// `stream-tool`: look inside a StreamStore, write to it and read from it (CLI.md).
///
/// Every subcommand takes `--store DIR`, before or after its name; the default is
/// `$STREAM_STORE_DIR`, else `./stream-data`.
@main
struct StreamTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream-tool",
        abstract: "Create, fill, read and check a StreamStore event log.",
        discussion: """
            A store is one folder of topics; each topic is split into partitions, and each \
            partition is an ordered log of records in Kafka's RecordBatch v2 format.

            The store folder comes from --store, else $STREAM_STORE_DIR, else ./stream-data. \
            Commands that write (create, produce, demo) create it when it is missing; the others \
            fail instead.

            A runtime error prints one line starting with "error:" to stderr and exits 1; \
            verify exits 3 when it finds corruption, schema check when it finds a change \
            that is not additive.

            Durations: 500ms, 30s, 15m, 12h, 7d. Sizes: 1048576, 64KiB, 256MiB, 1GiB. \
            Times: ISO 8601 (2026-11-29T10:00:00Z) or milliseconds since the epoch.
            """,
        version: Store.version,
        subcommands: [
            Create.self, Alter.self, Topics.self, Produce.self, Replay.self, Groups.self, DeadLetters.self, Describe.self, Retention.self, Dump.self,
            Verify.self, Trace.self, Schema.self, OutboxCommand.self, Sagas.self, Demo.self, Bench.self, Serve.self, Users.self, Mirror.self,
        ])

    /// Accepted before the subcommand name (`stream-tool --store DIR topics`); the subcommands
    /// read it through ``StoreOptions/resolved(parent:)``.
    @OptionGroup(title: "Store options")
    var storeOptions: StoreOptions

    /// Ignores SIGPIPE before parsing, so `stream-tool replay ... | head` ends with a failed
    /// write that the tool handles (closing the store cleanly) instead of being killed mid-way.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        await main(nil)
    }
}
