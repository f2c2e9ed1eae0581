import Foundation
import StreamStore
import Testing

/// `dlq list` and `dlq redrive`: dead letters a library consumer made, seen and put back from
/// the command line.
@Suite(.timeLimit(.minutes(5))) struct DeadLetterCommandTests {
    struct Poison: Error, CustomStringConvertible {
        var description: String { "card declined" }
    }

    /// Topic `orders`, 2 partitions of 3 records ("p-N"); group `billing` processes all six with
    /// the library, and the records at `poison` ("partition-offset") fail their 2 attempts.
    static func deadLettered(_ tool: ToolRunner, poison: Set<String>) async throws {
        let store = try Store.open(at: tool.store)
        let orders = try store.createTopic("orders", config: TopicConfig(partitionCount: 2))
        for partition in 0..<2 {
            let records = (0..<3).map { Record(key: "k-\(partition)-\($0)", value: "\(partition)-\($0)", headers: [RecordHeader(.messageID, "m-\(partition)-\($0)")]) }
            _ = try await orders.append(records, partition: partition)
        }
        let consumer = try store.consumer(group: "billing", topic: "orders")
        _ = try await consumer.process(retry: RetryPolicy(maxAttempts: 2, initialBackoffMilliseconds: 0, jitterFraction: 0), maxRecords: 6) { record in
            if poison.contains(record.valueString ?? "") { throw Poison() }
        }
        consumer.close()
        try store.close()
    }

    @Test func listShowsEachDeadLetterWithItsOriginAttemptsAndError() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.deadLettered(tool, poison: ["0-1", "1-2"])

        let text = try await tool.succeed(["dlq", "list", "orders"]).stdoutLines
        #expect(text.first?.split(separator: " ", omittingEmptySubsequences: true).first == "OFFSET")
        let rows = text.dropFirst().prefix(2).map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.map { Array($0.prefix(4)) } == [["0", "0", "1", "2"], ["1", "1", "2", "2"]], "offset, origin partition and offset, attempts")
        #expect(rows.allSatisfy { $0.suffix(3) == ["billing", "card", "declined"] })
        #expect(text.last == "2 dead letters in orders.dlq.")

        let document = try jsonObject(try await tool.succeed(["dlq", "list", "orders", "--json"]).stdout)
        #expect(document["topic"] as? String == "orders" && document["deadLetterTopic"] as? String == "orders.dlq")
        let letters = try #require(document["deadLetters"] as? [[String: Any]])
        #expect(letters.map { $0["originOffset"] as? Int } == [1, 2] && letters.map { $0["originPartition"] as? Int } == [0, 1])
        #expect(letters.allSatisfy { $0["attempts"] as? Int == 2 && $0["error"] as? String == "card declined" && $0["group"] as? String == "billing" })
        #expect(letters.allSatisfy { ($0["failedAt"] as? Int ?? 0) > 0 && $0["originTimestamp"] as? Int != nil && $0["redriveCount"] as? Int == 0 })
        #expect((document["invalid"] as? [Any])?.isEmpty == true)

        let limited = try jsonObject(try await tool.succeed(["dlq", "list", "orders", "--json", "--limit", "1"]).stdout)
        #expect((limited["deadLetters"] as? [Any])?.count == 1)
    }

    @Test func redriveAppendsDeadLettersBackOnceAndADryRunChangesNothing() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await Self.deadLettered(tool, poison: ["0-1", "1-2"])

        let preview = try await tool.succeed(["dlq", "redrive", "orders", "--dry-run"]).stdout
        #expect(preview.contains("would be appended to orders[0]") && preview.contains("Dry run: 2 dead letters would be redriven"))
        #expect(try await tool.succeed(["replay", "orders", "--format", "value"]).stdoutLines.count == 6, "a dry run appends nothing")

        let first = try jsonObject(try await tool.succeed(["dlq", "redrive", "orders", "--json", "--limit", "1"]).stdout)
        let redriven = try #require(first["redriven"] as? [[String: Any]])
        #expect(redriven.count == 1 && redriven[0]["outcome"] as? String == "appended" && redriven[0]["newOffset"] as? Int == 3)
        #expect(redriven[0]["targetPartition"] as? Int == 0 && redriven[0]["redriveCount"] as? Int == 1 && first["dryRun"] as? Bool == false)

        let text = try await tool.succeed(["dlq", "redrive", "orders"]).stdout
        #expect(text.contains("appended to orders[1]") && text.contains("Redrove 1 dead letter into orders; group dlq-redrive continues orders.dlq at offset 2."))
        #expect(try await tool.succeed(["dlq", "redrive", "orders"]).stdout.hasPrefix("Nothing to redrive"))

        let replayed = try await tool.succeed(["replay", "orders", "--format", "json"]).stdoutLines.map { try jsonObject($0) }
        let back = replayed.filter { ($0["offset"] as? Int ?? 0) == 3 }
        #expect(back.compactMap { $0["value"] as? String }.sorted() == ["0-1", "1-2"])
        #expect(back.allSatisfy { ($0["headers"] as? [String: String]) == ["message-id": "m-\($0["value"] as? String ?? "")", "redrive-count": "1"] })

        let other = try jsonObject(try await tool.succeed(["dlq", "redrive", "orders", "--group", "audit", "--dry-run", "--json"]).stdout)
        #expect((other["redriven"] as? [[String: Any]])?.map { $0["outcome"] as? String } == ["wouldAppend", "wouldAppend"], "another group starts over")
    }

    @Test func recordsWithoutDeadLetterHeadersAreListedAndSkipped() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        try await tool.succeed(["create", "orders"])
        try await tool.succeed(["create", "orders.dlq"])
        let good = #"{"value":"v","headers":{"dlq-origin-topic":"orders","dlq-origin-partition":"0","dlq-origin-offset":"4","dlq-error":"boom","dlq-attempts":"3","dlq-failed-at":"1795966471995"}}"#
        let badOffset = #"{"value":"w","headers":{"dlq-origin-topic":"orders","dlq-origin-partition":"0","dlq-origin-offset":"x","dlq-error":"boom","dlq-attempts":"3","dlq-failed-at":"1"}}"#
        try await tool.succeed(["produce", "orders.dlq", "--format", "json"], input: [#"{"value":"junk"}"#, good, badOffset].joined(separator: "\n") + "\n")

        let list = try await tool.succeed(["dlq", "list", "orders"]).stdout
        #expect(list.contains("it has no dlq-origin-topic header") && list.contains("its dlq-origin-offset header is \"x\""))
        #expect(list.contains("1 dead letter in orders.dlq; 2 records without valid dead-letter headers (redrive skips them)."))
        let listed = try jsonObject(try await tool.succeed(["dlq", "list", "orders", "--json"]).stdout)
        #expect((listed["invalid"] as? [[String: Any]])?.map { $0["offset"] as? Int } == [0, 2])

        let report = try jsonObject(try await tool.succeed(["dlq", "redrive", "orders", "--json"]).stdout)
        #expect((report["skipped"] as? [[String: Any]])?.map { $0["offset"] as? Int } == [0, 2])
        #expect((report["redriven"] as? [[String: Any]])?.map { $0["originOffset"] as? Int } == [4])
        #expect((report["partitions"] as? [[String: Any]])?.first?["nextOffset"] as? Int == 3)
        #expect(try await tool.succeed(["replay", "orders", "--format", "value"]).stdoutLines == ["v"])
    }

    @Test func aTopicWithoutDeadLettersHasNoneAndErrorsKeepTheContract() async throws {
        let tool = try ToolRunner()
        defer { tool.removeFolder() }
        #expect(try await tool.fail(["dlq", "list", "orders"]).contains("no store"), "no store yet")
        try await tool.succeed(["create", "orders"])
        #expect(try await tool.succeed(["dlq", "list", "orders"]).stdout == "No dead letters for orders.\n")
        #expect(try await tool.succeed(["dlq", "redrive", "orders"]).stdout == "No dead letters for orders.\n")
        let empty = try jsonObject(try await tool.succeed(["dlq", "redrive", "orders", "--json"]).stdout)
        #expect((empty["redriven"] as? [Any])?.isEmpty == true && (empty["partitions"] as? [Any])?.isEmpty == true)
        #expect(!(try await tool.succeed(["topics"]).stdoutLines.contains("orders.dlq")), "listing and redriving create no dead-letter topic")

        #expect(try await tool.fail(["dlq", "list", "nope"]).contains("There is no topic nope"))
        #expect(try await tool.fail(["dlq", "redrive", "nope", "--dry-run"]).contains("There is no topic nope"))
        #expect(try await tool.fail(["dlq", "redrive", "orders", "--group", "../x"]).contains("not a valid group name"))
        for arguments in [["dlq", "list", "orders", "--limit", "-1"], ["dlq", "redrive", "orders", "--limit", "0"], ["dlq", "redrive"]] {
            let result = try await tool.run(arguments)
            #expect(result.status == 64, "\(arguments) is a usage error: \(result.stderr)")
        }
    }
}
