/// Reading a batch's records back before it is written: de-duplication needs each record's
/// `message-id`, and drops the records that are retries.
extension RecordBatch {
    /// A header for walking this batch's own encoded records (offsets relative, CRC unset).
    private var walkHeader: BatchHeader {
        BatchHeader(
            baseOffset: 0, batchLength: Int32(storage.count - BatchHeader.lengthPrefixSize),
            attributes: usesAppendTime ? BatchHeader.Attribute.logAppendTime : 0, lastOffsetDelta: Int32(count - 1),
            baseTimestamp: firstTimestamp, maxTimestamp: maxTimestamp,
            producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence, recordCount: Int32(count))
    }

    /// The value of each record's first header named `key`, in record order (nil when the
    /// record has none, or its value is null).
    package func headerValues(forKey key: String) -> [[UInt8]?] {
        var values: [[UInt8]?] = []
        values.reserveCapacity(count)
        var name = key
        name.withUTF8 { wanted in
            withExtendedLifetime(storage) {
                let buffer = headerAndRecordBytes
                let decoder = RecordDecoder(buffer: buffer, records: BatchHeader.size..<buffer.count, header: walkHeader)
                // The batch encoded these records itself, so they always decode.
                try? decoder.forEach { layout in
                    let value = decoder.headerValue(of: layout, forKey: UnsafeRawBufferPointer(wanted))
                    if case .some(.some(let bytes)) = value { values.append(Array(bytes)) } else { values.append(nil) }
                    return true
                }
            }
        }
        return values
    }

    /// A copy of this batch without the records at `indexes`, re-encoded (offset deltas are
    /// renumbered); timestamps, producer fields and record contents are kept.
    package func removing(recordsAt indexes: Set<Int>) -> RecordBatch {
        var kept = RecordBatch(capacityBytes: byteCount, clock: clock)
        kept.producerId = producerId
        kept.producerEpoch = producerEpoch
        kept.baseSequence = baseSequence
        let appendTime = usesAppendTime
        withExtendedLifetime(storage) {
            let buffer = headerAndRecordBytes
            let decoder = RecordDecoder(buffer: buffer, records: BatchHeader.size..<buffer.count, header: walkHeader)
            var index = 0
            try? decoder.forEach { layout in
                defer { index += 1 }
                guard !indexes.contains(index) else { return true }
                let key = layout.key.map { UnsafeRawBufferPointer(rebasing: buffer[$0]) }
                let value = layout.value.map { UnsafeRawBufferPointer(rebasing: buffer[$0]) }
                // The same record fitted this batch's limits, so it fits the smaller one.
                try? kept.append(key: key, value: value, headers: decoder.headers(of: layout), timestamp: appendTime ? nil : layout.timestamp)
                return true
            }
        }
        return kept
    }
}
