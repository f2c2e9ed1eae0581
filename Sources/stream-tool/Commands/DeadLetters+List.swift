import ArgumentParser
import StreamStore

extension StreamTool.DeadLetters {
    /// `stream-tool dlq list TOPIC`: each dead letter of TOPIC with where it came from and why
    /// it failed.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a topic's dead letters: origin, attempts, error and failure time.",
            discussion: """
                Prints every record kept in TOPIC.dlq, oldest first: its offset there, the \
                partition and offset it came from in TOPIC, how many times it was tried, when \
                it was given up on, the consumer group that gave up, and the error (cut to 100 \
                characters; --json has all of it). A record of TOPIC.dlq without valid dead-letter \
                headers is listed with what is wrong; redrive skips it. Prints that there are \
                none when TOPIC never dead-lettered a record. Redriven dead letters stay listed \
                until retention removes them.

                --json prints {"topic":...,"deadLetterTopic":...,"deadLetters":[{"partition":0, \
                "offset":...,"originTopic":...,"originPartition":...,"originOffset":..., \
                "originTimestamp":ms|null,"group":...|null,"attempts":...,"error":..., \
                "failedAt":ms,"redriveCount":...}],"invalid":[{"partition":0,"offset":..., \
                "error":...}]}.
                """)

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        @Argument(help: "The topic whose dead letters to list (not its .dlq topic).")
        var topic: String

        @Option(parsing: .unconditional, help: ArgumentHelp("List at most N records.", valueName: "N"))
        var limit: Int?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func validate() throws {
            if let limit, limit < 0 { throw ValidationError("--limit must not be negative.") }
        }

        func run() async throws {
            try await reportingErrors {
                let entries = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    try store.deadLetters(of: topic, limit: limit)
                }
                try DeadLetterText.write(json: json, { Self.json(entries, topic: topic) }, text: { Self.text(entries, topic: topic) })
            }
        }

        static func json(_ entries: [Result<DeadLetter, StreamStoreError>], topic: String) -> JSONValue {
            var letters: [JSONValue] = []
            var invalid: [JSONValue] = []
            for entry in entries {
                switch entry {
                case .success(let letter):
                    letters.append(.object([
                        ("partition", .integer(Int64(letter.record.partition))), ("offset", .integer(letter.record.offset)),
                        ("originTopic", .string(letter.originTopic)), ("originPartition", .integer(Int64(letter.originPartition))),
                        ("originOffset", .integer(letter.originOffset)), ("originTimestamp", .optional(letter.originTimestamp)),
                        ("group", letter.group.map(JSONValue.string) ?? .null), ("attempts", .integer(Int64(letter.attempts))),
                        ("error", .string(letter.error)), ("failedAt", .integer(letter.failedAtMilliseconds)),
                        ("redriveCount", .integer(Int64(letter.redriveCount))),
                    ]))
                case .failure(let error):
                    invalid.append(.object([
                        ("partition", .integer(Int64(error.partition ?? 0))), ("offset", .optional(error.offset)), ("error", .string(error.message)),
                    ]))
                }
            }
            return .object([
                ("topic", .string(topic)), ("deadLetterTopic", .string(DeadLetter.topicName(for: topic))), ("deadLetters", .array(letters)),
                ("invalid", .array(invalid)),
            ])
        }

        static func text(_ entries: [Result<DeadLetter, StreamStoreError>], topic: String) -> String {
            guard !entries.isEmpty else { return DeadLetterText.noDeadLetters(topic) }
            var table = TextTable([
                ("OFFSET", .right), ("ORIGIN PARTITION", .right), ("ORIGIN OFFSET", .right), ("ATTEMPTS", .right), ("FAILED AT", .left),
                ("GROUP", .left), ("ERROR", .left),
            ])
            var invalidCount = 0
            for entry in entries {
                switch entry {
                case .success(let letter):
                    table.add([
                        String(letter.record.offset), String(letter.originPartition), String(letter.originOffset), String(letter.attempts),
                        ISO8601.format(milliseconds: letter.failedAtMilliseconds), letter.group ?? "-", DeadLetterText.oneLine(letter.error),
                    ])
                case .failure(let error):
                    invalidCount += 1
                    table.add([
                        error.offset.map(String.init) ?? "-", "-", "-", "-", "-", "-",
                        DeadLetterText.oneLine(error.message, characters: 200),
                    ])
                }
            }
            var summary = Format.count(Int64(entries.count - invalidCount), "dead letter") + " in \(DeadLetter.topicName(for: topic))"
            if invalidCount > 0 { summary += "; " + Format.count(Int64(invalidCount), "record") + " without valid dead-letter headers (redrive skips them)" }
            return table.render() + "\n" + summary + ".\n"
        }
    }
}
