import NIOCore
import StreamStore
import StreamStoreFormat
import StreamStoreLog

/// Produce and InitProducerId: client batches appended as they were sent, with the broker's
/// base offset, under the store's idempotent-producer checks.
extension KafkaBroker {
    /// Writes every partition's batch now, in request order (so a connection's pipelined
    /// requests append in the order they were sent, as idempotent sequences need), and answers
    /// once the batches are durable under their topics' flush policies.
    func produce(_ request: ProduceRequest, header: RequestHeader) async -> KafkaReply {
        guard request.transactionalId == nil else {
            return .respond(Self.frame(refuseAll(request, code: .unsupportedVersion, message: "Transactions are not supported by this broker."), to: header))
        }
        guard [0, 1, -1].contains(request.acks) else {
            return .respond(Self.frame(refuseAll(request, code: .invalidRequiredAcks, message: "acks must be 0, 1 or -1 (all)."), to: header))
        }
        var response = ProduceResponse()
        // Where each partition's durability wait must end, by topic and partition position.
        var waits: [(topic: Int, partition: Int, wait: @Sendable () async throws(StreamStoreError) -> Void)] = []
        for (topicIndex, wanted) in request.topics.enumerated() {
            var topicResponse = ProduceResponse.Topic()
            topicResponse.name = wanted.name
            let topic = topic(wanted.name)
            for (partitionIndex, entry) in wanted.partitions.enumerated() {
                var result = ProduceResponse.Partition()
                result.index = entry.index
                switch topic.flatMap({ partition($0, entry.index) }) {
                case .failure(let error):
                    result.errorCode = error.rawValue
                case .success(let partition):
                    let outcome = write(entry.records, to: partition)
                    result.errorCode = outcome.code.rawValue
                    result.errorMessage = outcome.message
                    if let written = outcome.written {
                        let receipt = written.receipt
                        result.baseOffset = receipt.duplicates.first?.originalOffset ?? receipt.baseOffset
                        result.logStartOffset = partition.offsets.logStart
                        if let end = written.durableEnd {
                            waits.append((topicIndex, partitionIndex, { () throws(StreamStoreError) in try await partition.groupCommit.waitDurable(upTo: end) }))
                        }
                    }
                }
                topicResponse.partitions.append(result)
            }
            response.topics.append(topicResponse)
        }
        if waits.isEmpty {
            return request.acks == 0 ? .none : .respond(Self.frame(response, to: header))
        }
        let acks = request.acks
        let logger = self.logger
        let ready = response
        return .later(Task {
            var answer = ready
            for entry in waits {
                do throws(StreamStoreError) {
                    try await entry.wait()
                } catch {
                    logger.error("A produced batch could not be made durable: \(error)")
                    // Written but not durable: not acknowledged, whatever the write said.
                    answer.topics[entry.topic].partitions[entry.partition].errorCode = KafkaErrorCode(error).rawValue
                    answer.topics[entry.topic].partitions[entry.partition].errorMessage = error.message
                    answer.topics[entry.topic].partitions[entry.partition].baseOffset = -1
                }
            }
            return acks == 0 ? nil : Self.frame(answer, to: header)
        })
    }

    /// Checks one partition's records (one RecordBatch v2, whose records decode) and writes it.
    private func write(_ records: ByteBuffer?, to partition: Partition) -> (code: KafkaErrorCode, message: String?, written: Partition.Written?) {
        guard let records, records.readableBytes > 0 else { return (.corruptMessage, "The partition's records are missing.", nil) }
        return records.withUnsafeReadableBytes { bytes in
            if let refusal = RecordBatchCheck.refusal(of: bytes) { return (refusal.code, refusal.message, nil) }
            do throws(StreamStoreError) {
                return (.none, nil, try partition.write(sealedBatch: bytes))
            } catch {
                return (KafkaErrorCode(error), error.message, nil)
            }
        }
    }

    private func refuseAll(_ request: ProduceRequest, code: KafkaErrorCode, message: String) -> ProduceResponse {
        var response = ProduceResponse()
        response.topics = request.topics.map { wanted in
            var topic = ProduceResponse.Topic()
            topic.name = wanted.name
            topic.partitions = wanted.partitions.map { entry in
                var partition = ProduceResponse.Partition()
                partition.index = entry.index
                partition.errorCode = code.rawValue
                partition.errorMessage = message
                return partition
            }
            return topic
        }
        return response
    }

    func initProducerId(_ request: InitProducerIdRequest) -> InitProducerIdResponse {
        var response = InitProducerIdResponse()
        guard request.transactionalId == nil else {
            // A transactional producer needs the transaction coordinator this broker lacks.
            response.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
            return response
        }
        do throws(StreamStoreError) {
            // The store's ids, shared with its own producers, so no two ever get the same one.
            let identity = try store.registerProducer()
            response.producerId = identity.producerId
            response.producerEpoch = identity.epoch
        } catch {
            logger.error("Could not reserve producer ids: \(error)")
            response.errorCode = KafkaErrorCode.kafkaStorageError.rawValue
        }
        return response
    }
}
