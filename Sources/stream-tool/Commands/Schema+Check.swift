import ArgumentParser
import Foundation
import StreamStore
import StreamStoreInspect

extension StreamTool.Schema {
    /// `stream-tool schema check TOPIC`: one pass over the topic; exit 3 on a change that is not
    /// additive.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a topic's events for changes that are not additive; exit 3 if one is found.",
            discussion: """
                Reads every record of TOPIC once (or those stamped between --from-time and \
                --until-time) and lists each event type with its versions: how many events, the \
                first and the last (by time). Positions are PARTITION@OFFSET. From the JSON values \
                it infers each version's shape (field paths such as customer.name or items[].sku, \
                their JSON types, whether every event has them) and reports every change that is \
                not additive, with example positions:

                  removed         a field is gone
                  renamed         a field is gone and one of its type took its place
                  retyped         a field holds a JSON type it did not hold
                  madeRequired    a field missing or null in some events is in all now
                  notJSON         events whose value is not a JSON object
                  invalidVersion  events whose schema-version is not a number from 1

                between consecutive versions (old events need an upcaster to the new shape) and \
                inside one version (a producer changed the shape without a new version: a field \
                in every event of a partition up to one, in none after it). Integers and other \
                numbers count as one type. New fields, \
                optional or not, are additive. Events whose content-type is not JSON are \
                counted, not inspected. Exits 0 when every change is additive, 3 when one is not, \
                1 when the check could not run. --allow-breaking-bumps lists the changes between \
                versions but does not fail on them (the application upcasts them).

                --against FILE checks what a producer is about to write, before it is deployed: \
                FILE holds sample events (one JSON value per line) or a JSON Schema (one object \
                with properties, type and required, nested in objects and array items); they are \
                compared with --event-type's version --schema-version in the topic (default: its \
                newest), or with the newest version below it when the topic has none yet (a new \
                version).

                --json prints {"topic":...,"records":N,"untypedRecords":N,"elapsedMilliseconds":N, \
                "eventTypes":[{"name":...,"versions":[{"version":N|null,"events":N,"notJSON":N, \
                "opaque":N,"first":POSITION,"last":POSITION,"fields":[{"path":...,"types":[...], \
                "presence":"required"|"optional","present":N,"nulls":N,"possible":N}]}]}], \
                "changes":[{"eventType":...,"kind":...,"scope":"betweenVersions"|"insideVersion"| \
                "against","fromVersion":N|null,"toVersion":N|null,"field":...,"newField":...|null, \
                "fromTypes":[...]|null,"toTypes":[...]|null,"fails":true|false,"message":..., \
                "examples":[{"label":...,"partition":N,"offset":N,"timestamp":ms} or \
                {"label":...,"line":N}]}],"failingChanges":N}; a POSITION is {"partition":N, \
                "offset":N,"timestamp":ms} or null.
                """)

        /// The exit status when a change that is not additive is found (CLI.md).
        static let changesExitCode: Int32 = 3

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic to check.")
        var topic: String

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        @OptionGroup var range: SchemaTimeRange

        @Option(help: ArgumentHelp("Sample events (JSON lines) or a JSON Schema to check against the topic's history.", valueName: "FILE"))
        var against: String?

        @Option(name: .customLong("event-type"), help: ArgumentHelp("The event type of the --against samples or schema.", valueName: "TYPE"))
        var eventType: String?

        @Option(name: .customLong("schema-version"), help: ArgumentHelp("Their version (default: the topic's newest of the type).", valueName: "N"))
        var schemaVersion: Int?

        @Flag(name: .customLong("allow-breaking-bumps"), help: "Do not fail on changes between versions (they are still listed).")
        var allowBreakingBumps = false

        func validate() throws {
            if against != nil && eventType == nil { throw ValidationError("--against needs --event-type: which event type the samples are.") }
            if against == nil && (eventType != nil || schemaVersion != nil) {
                throw ValidationError("--event-type and --schema-version describe the --against file; give --against FILE too.")
            }
            if let schemaVersion, !(1...999_999_999).contains(schemaVersion) {
                throw ValidationError("--schema-version must be a version number from 1, not \(schemaVersion).")
            }
        }

        func run() async throws {
            var failing = 0
            try await reportingErrors {
                let options = try range.scanOptions(eventType: nil)
                let candidate = try against.map { try Self.readCandidate($0, eventType: eventType ?? "") }
                let stopwatch = Stopwatch()
                var report = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    try await SchemaCommand.scan(try store.topic(topic), options: options)
                }
                if let candidate, let eventType {
                    report.changes += report.changes(against: candidate, eventType: eventType, version: schemaVersion)
                }
                let elapsedMilliseconds = Int64(stopwatch.elapsedSeconds * 1000)
                failing = report.changes.filter { $0.fails(allowingBreakingVersionBumps: allowBreakingBumps) }.count
                let output = BufferedOutput()
                if json {
                    SchemaText.json(report, elapsedMilliseconds: elapsedMilliseconds, allowingBreakingBumps: allowBreakingBumps).write(to: output)
                    output.append("\n")
                } else {
                    output.append(SchemaText.check(report, elapsedMilliseconds: elapsedMilliseconds, allowingBreakingBumps: allowBreakingBumps))
                }
                try output.flush()
            }
            if failing > 0 { throw ExitCode(Self.changesExitCode) }
        }

        private static func readCandidate(_ path: String, eventType: String) throws -> VersionReport {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw ToolError("Cannot read \(path); give a file of sample events (JSON lines) or a JSON Schema.")
            }
            return try CandidateShape.read(Array(contents), eventType: eventType)
        }
    }
}

/// `--from-time` and `--until-time` of `schema check` and `schema show`.
struct SchemaTimeRange: ParsableArguments {
    @Option(name: .customLong("from-time"), help: ArgumentHelp("Read only records stamped at or after TIME.", valueName: "TIME"))
    var fromTime: String?

    @Option(name: .customLong("until-time"), help: ArgumentHelp("Read only records stamped at or before TIME.", valueName: "TIME"))
    var untilTime: String?

    func scanOptions(eventType: String?) throws(ToolError) -> SchemaScanOptions {
        var options = SchemaScanOptions(eventType: eventType)
        if let fromTime { options.fromMilliseconds = try Parsing.timeMilliseconds(fromTime) }
        if let untilTime { options.untilMilliseconds = try Parsing.timeMilliseconds(untilTime) }
        return options
    }
}

/// What `schema check` and `schema show` share: the scan, with progress on a terminal.
enum SchemaCommand {
    static func scan(_ topic: Topic, options: SchemaScanOptions) async throws(StreamStoreError) -> SchemaReport {
        let progress = ProgressLine()
        defer { progress.finish() }
        let stopwatch = Stopwatch()
        return try await topic.schemaReport(options) { records in
            progress.update { "checking \(topic.name): " + ProgressText.count(Int64(records), of: nil, unit: "records", seconds: stopwatch.elapsedSeconds) }
        }
    }
}
