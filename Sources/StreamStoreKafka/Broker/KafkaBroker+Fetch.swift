import NIOCore
import StreamStore
import StreamStoreFormat
import StreamStoreLog

/// Fetch and ListOffsets: stored batches handed on as they lie in the log.
extension KafkaBroker {
    /// Answers once `min_bytes` are there, an error is, or `max_wait_ms` passed; in between it
    /// sleeps until an append to one of the partitions wakes it, never polling. The answer is
    /// the whole response frame, the stored batches read straight into it.
    func fetch(_ request: FetchRequest, header: RequestHeader) async -> ByteBuffer {
        let waitMilliseconds = min(Int64(max(request.maxWaitMilliseconds, 0)), maxFetchWaitMilliseconds)
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(waitMilliseconds))
        while true {
            var (frame, bytes, hasError, watched) = collect(request, header: header)
            let remaining = ContinuousClock.now.duration(to: deadline)
            if bytes >= Int(request.minBytes) || hasError || remaining <= .zero || watched.isEmpty { return finish(&frame) }
            responseBuffers.recycle(frame.buffer)
            await waitForAppend(to: watched, timeout: remaining)
            if ContinuousClock.now >= deadline {
                var last = collect(request, header: header).frame
                return finish(&last)
            }
        }
    }

    /// The response to send; a copy of it goes back to ``responseBuffers`` for a later fetch.
    private func finish(_ frame: inout FetchResponseFrame) -> ByteBuffer {
        KafkaServerMetrics.shared.answered(apiKey: ApiKey.fetch.rawValue, errorCode: frame.firstErrorCode)
        let response = frame.finish()
        responseBuffers.recycle(response)
        return response
    }

    /// One pass over the wanted partitions within the byte limits: the response frame, its
    /// record bytes, whether a partition answered with an error, and the partitions to wait on.
    private func collect(_ request: FetchRequest, header: RequestHeader) -> (frame: FetchResponseFrame, bytes: Int, hasError: Bool, watched: [(Partition, Int64)]) {
        var frame = FetchResponseFrame(header: header, topicCount: request.topics.count, buffer: responseBuffers.take())
        var totalBytes = 0
        var hasError = false
        var watched: [(Partition, Int64)] = []
        let responseLimit = Int(max(request.maxBytes, 0))
        for wanted in request.topics {
            frame.beginTopic(name: wanted.name, partitionCount: wanted.partitions.count)
            let topic = topic(wanted.name)
            for entry in wanted.partitions {
                let slots = frame.beginPartition(index: entry.index)
                switch topic.flatMap({ partition($0, entry.index) }) {
                case .failure(let error):
                    frame.endPartition(slots, error: error, highWatermark: -1, logStartOffset: -1)
                    hasError = true
                case .success(let partition):
                    // KIP-74: the first batch is returned whole even past the limits, so a
                    // consumer always makes progress; later ones must fit both limits.
                    let budget = totalBytes == 0 ? Int(max(entry.maxBytes, 0)) : min(Int(max(entry.maxBytes, 0)), responseLimit - totalBytes)
                    if budget <= 0 && totalBytes > 0 {
                        let offsets = partition.offsets
                        frame.endPartition(slots, highWatermark: offsets.logEnd, logStartOffset: offsets.logStart)
                        break
                    }
                    do throws(StreamStoreError) {
                        let read = try partition.readStoredBatches(from: entry.fetchOffset, maxBytes: budget, into: &frame)
                        totalBytes += frame.endPartition(slots, highWatermark: read.logEndOffset, logStartOffset: read.logStartOffset)
                        watched.append((partition, read.logEndOffset))
                    } catch {
                        let offsets = partition.offsets
                        frame.endPartition(slots, error: KafkaErrorCode(error), highWatermark: offsets.logEnd, logStartOffset: offsets.logStart)
                        hasError = true
                    }
                }
            }
        }
        return (frame, totalBytes, hasError, watched)
    }

    /// Returns once the log end of one of `partitions` moves past the end it had, or after `timeout`.
    private func waitForAppend(to partitions: [(Partition, Int64)], timeout: Duration) async {
        let wakeup = Wakeup()
        for (partition, offset) in partitions { partition.notify(wakeup, whenEndPasses: offset) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await wakeup.wait() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        for (partition, _) in partitions { partition.cancelNotify(wakeup) }
    }

    func listOffsets(_ request: ListOffsetsRequest) -> ListOffsetsResponse {
        var response = ListOffsetsResponse()
        response.topics = request.topics.map { wanted in
            var topicResponse = ListOffsetsResponse.Topic()
            topicResponse.name = wanted.name
            let topic = topic(wanted.name)
            topicResponse.partitions = wanted.partitions.map { entry in
                var result = ListOffsetsResponse.Partition()
                result.index = entry.index
                switch topic.flatMap({ partition($0, entry.index) }) {
                case .failure(let error):
                    result.errorCode = error.rawValue
                case .success(let partition):
                    do throws(StreamStoreError) {
                        (result.offset, result.timestamp) = try offset(in: partition, at: entry.timestamp)
                        result.leaderEpoch = 0
                    } catch {
                        result.errorCode = KafkaErrorCode(error).rawValue
                    }
                }
                return result
            }
            return topicResponse
        }
        return response
    }

    /// Kafka's answer for a timestamp: -1 the log end, -2 the log start, else the first record
    /// at or after it with its timestamp, or (-1, -1) when there is none.
    private func offset(in partition: Partition, at timestamp: Int64) throws(StreamStoreError) -> (offset: Int64, timestamp: Int64) {
        let offsets = partition.offsets
        switch timestamp {
        case ListOffsetsRequest.latestTimestamp: return (offsets.logEnd, -1)
        case ListOffsetsRequest.earliestTimestamp: return (offsets.logStart, -1)
        default:
            let found = try partition.offset(forTimestamp: timestamp)
            guard found < offsets.logEnd else { return (-1, -1) }
            let record = try partition.read(from: found, maxBytes: 1).first { $0.offset >= found }
            return (found, record?.timestamp ?? timestamp)
        }
    }
}
