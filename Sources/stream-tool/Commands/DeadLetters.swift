import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool dlq list|redrive`: the dead letters of a topic, and putting them back.
    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dlq",
            abstract: "Dead letters: records a consumer gave up on, and redriving them.",
            discussion: """
                A consumer that processes records with the library's Consumer.process retries a \
                failing record, then appends it to the topic's dead-letter topic TOPIC.dlq with \
                headers saying where it came from (dlq-origin-topic, dlq-origin-partition, \
                dlq-origin-offset), why it failed (dlq-error), how often it was tried \
                (dlq-attempts) and when it was given up (dlq-failed-at), and moves on. replay \
                TOPIC.dlq --format json shows them whole.
                """,
            subcommands: [List.self, Redrive.self])
    }
}

/// How the `dlq` subcommands show a dead letter's parts.
enum DeadLetterText {
    /// Longest error a table shows; --json has all of it.
    static let errorCharacters = 100

    /// `text` on one line, cut to `characters` with "…".
    static func oneLine(_ text: String, characters: Int = errorCharacters) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > characters ? String(line.prefix(characters - 1)) + "…" : line
    }

    /// Writes a `dlq` command's result: `json()` on one line, or `text()`.
    static func write(json: Bool, _ document: () -> JSONValue, text: () -> String) throws {
        let output = BufferedOutput()
        if json {
            document().write(to: output)
            output.append("\n")
        } else {
            output.append(text())
        }
        try output.flush()
    }

    /// What `dlq list` and `dlq redrive` print for a topic whose dead-letter topic has nothing
    /// to show.
    static func noDeadLetters(_ topic: String) -> String {
        "No dead letters for \(topic).\n"
    }
}
