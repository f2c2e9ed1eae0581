import Foundation
import GRDB
import StreamStore

/// One row of the outbox table as the relay reads it, or as ``Outbox/enqueue(_:topic:partition:in:)``
/// is about to write it (docs/OUTBOX.md, "Tables").
struct OutboxRow: Sendable, Equatable {
    var id: Int64
    var topic: String
    var partition: Int?
    var key: [UInt8]?
    var value: [UInt8]?
    var messageID: String
    var correlationID: String?
    var causationID: String?
    /// The headers other than the three with columns, in order.
    var otherHeaders: [RecordHeader]
    var createdAtMilliseconds: Int64
    /// Why the row cannot become a record (its headers column does not decode); the relay holds
    /// the row's partition until it is fixed or deleted.
    var problem: OutboxError?

    /// The columns the relay reads, in the order ``init(row:)`` expects them.
    static let columns = "id, topic, target_partition, key, value, message_id, correlation_id, causation_id, headers, created_at_ms"

    /// A row about to be written, checked as the store would check its record.
    init(record: StreamStore.Record, topic: String, partition: Int?) throws {
        guard FileNames.isValidTopicName(topic) else {
            throw StreamStoreError(.invalidTopicName, "\"\(topic)\" is not a valid topic name: use 1 to 249 of a-z A-Z 0-9 . _ - (not . or ..).", topic: topic)
        }
        if let partition, partition < 0 || partition >= Limits.maxPartitions {
            throw StreamStoreError(.partitionOutOfRange, "Partition \(partition) is outside 0..<\(Limits.maxPartitions).", topic: topic, partition: partition)
        }
        guard record.headers.count <= Limits.maxHeadersPerRecord else {
            throw StreamStoreError(.tooManyHeaders, "A record has \(record.headers.count) headers; at most \(Limits.maxHeadersPerRecord) are allowed.", topic: topic)
        }
        let size = (record.key?.count ?? 0) + (record.value?.count ?? 0) + record.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
        guard size <= Limits.maxRecordBytes else {
            throw StreamStoreError(.recordTooLarge, "A record of \(size) bytes is larger than the \(Limits.maxRecordBytes) bytes allowed.", topic: topic)
        }
        self.id = 0
        self.topic = topic
        self.partition = partition
        self.key = record.key
        self.value = record.value
        self.messageID = ""
        self.otherHeaders = []
        self.createdAtMilliseconds = 0
        for header in record.headers {
            let text = header.value.map { String(decoding: $0, as: UTF8.self) }
            switch header.key {
            case HeaderName.messageID.rawValue where messageID.isEmpty && text.map({ !$0.isEmpty }) == true:
                messageID = text ?? ""
            case HeaderName.correlationID.rawValue where correlationID == nil && text != nil:
                correlationID = text
            case HeaderName.causationID.rawValue where causationID == nil && text != nil:
                causationID = text
            default:
                otherHeaders.append(header)
            }
        }
        guard messageID.utf8.count <= Limits.maxMessageIDBytes else {
            throw StreamStoreError(
                .invalidMessageID, "A message-id of \(messageID.utf8.count) bytes is longer than the \(Limits.maxMessageIDBytes) bytes a de-duplicated topic keeps.",
                topic: topic)
        }
    }

    /// A row read from the table (columns as in ``columns``).
    init(row: Row) {
        id = row[0]
        topic = row[1]
        partition = row[2]
        key = OutboxRow.bytes(row[3])
        value = OutboxRow.bytes(row[4])
        messageID = row[5]
        correlationID = row[6]
        causationID = row[7]
        let headers: String? = row[8]
        createdAtMilliseconds = row[9]
        do {
            otherHeaders = try OutboxHeaders.decode(headers)
        } catch {
            otherHeaders = []
            problem = OutboxError(.invalidOutboxRow, "Outbox row \(id): \(error.message) Fix or delete the row; the relay holds its partition until then.", rowID: id)
        }
    }

    /// BLOB or TEXT (another language may write either) as bytes; NULL as nil.
    private static func bytes(_ value: DatabaseValue) -> [UInt8]? {
        switch value.storage {
        case .null: return nil
        case .blob(let data): return [UInt8](data)
        case .string(let text): return Array(text.utf8)
        case .int64(let number): return Array(String(number).utf8)
        case .double(let number): return Array(String(number).utf8)
        }
    }

    /// The record the relay appends: the three id headers first, then the others.
    var record: StreamStore.Record {
        var headers: [RecordHeader] = [RecordHeader(key: HeaderName.messageID.rawValue, value: messageID)]
        headers.reserveCapacity(3 + otherHeaders.count)
        if let correlationID { headers.append(RecordHeader(key: HeaderName.correlationID.rawValue, value: correlationID)) }
        if let causationID { headers.append(RecordHeader(key: HeaderName.causationID.rawValue, value: causationID)) }
        headers += otherHeaders
        return StreamStore.Record(key: key, value: value, headers: headers)
    }
}
