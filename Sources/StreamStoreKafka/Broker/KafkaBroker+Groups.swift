import NIOCore
import StreamStore
import StreamStoreFormat

/// FindCoordinator, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups. Committed offsets
/// go to the store's consumer groups, so `stream-tool groups lag` shows a Kafka client's.
extension KafkaBroker {
    func findCoordinator(_ request: FindCoordinatorRequest) -> FindCoordinatorResponse {
        var response = FindCoordinatorResponse()
        guard request.keyType == 0 else {
            response.errorCode = KafkaErrorCode.coordinatorNotAvailable.rawValue
            response.errorMessage = "Transactions are not supported by this broker."
            response.nodeId = -1
            return response
        }
        let (host, port) = advertised.withLock { $0 }
        response.nodeId = configuration.nodeId
        response.host = host
        response.port = port
        return response
    }

    func offsetCommit(_ request: OffsetCommitRequest) async -> OffsetCommitResponse {
        let refusal = await groups.commitRefusal(groupId: request.groupId, memberId: request.memberId, generationId: request.generationId)
        var response = OffsetCommitResponse()
        for wanted in request.topics {
            var topicResponse = OffsetCommitResponse.Topic()
            topicResponse.name = wanted.name
            var code = refusal ?? .none
            if code == .none {
                let offsets = Dictionary(wanted.partitions.map { (Int($0.index), $0.committedOffset) }, uniquingKeysWith: { _, last in last })
                do throws(StreamStoreError) {
                    try await store.group(request.groupId).commit(topic: wanted.name, offsets: offsets)
                } catch {
                    code = KafkaErrorCode(error)
                    logger.debug("Group \(request.groupId) could not commit \(wanted.name): \(error)")
                }
            }
            topicResponse.partitions = wanted.partitions.map { entry in
                var result = OffsetCommitResponse.Partition()
                result.index = entry.index
                result.errorCode = code.rawValue
                return result
            }
            response.topics.append(topicResponse)
        }
        return response
    }

    func offsetFetch(_ request: OffsetFetchRequest) -> OffsetFetchResponse {
        var response = OffsetFetchResponse()
        let group: ConsumerGroup
        do throws(StreamStoreError) {
            group = try store.group(request.groupId)
        } catch {
            response.errorCode = KafkaErrorCode(error).rawValue
            return response
        }
        let wanted: [OffsetFetchRequest.Topic]
        if let topics = request.topics {
            wanted = topics
        } else {
            // Every topic the group committed, every partition it committed.
            let names = (try? group.topics()) ?? []
            wanted = names.map { name in
                var topic = OffsetFetchRequest.Topic()
                topic.name = name
                topic.partitionIndexes = ((try? group.committedOffsets(topic: name)) ?? [:]).keys.sorted().map { Int32($0) }
                return topic
            }
        }
        response.topics = wanted.map { topic in
            var topicResponse = OffsetFetchResponse.Topic()
            topicResponse.name = topic.name
            let committed = (try? group.committedOffsets(topic: topic.name)) ?? [:]
            topicResponse.partitions = topic.partitionIndexes.map { index in
                var result = OffsetFetchResponse.Partition()
                result.index = index
                result.committedOffset = committed[Int(index)] ?? -1
                return result
            }
            return topicResponse
        }
        return response
    }

    func listGroups() async -> ListGroupsResponse {
        var response = ListGroupsResponse()
        var seen: [String: String] = [:]
        for (name, type) in await groups.activeGroups() { seen[name] = type }
        for name in (try? store.groupNames()) ?? [] where seen[name] == nil { seen[name] = "consumer" }
        response.groups = seen.keys.sorted().map { name in
            var group = ListGroupsResponse.Group()
            group.groupId = name
            group.protocolType = seen[name] ?? ""
            return group
        }
        return response
    }

    func describeGroups(_ request: DescribeGroupsRequest) async -> DescribeGroupsResponse {
        var response = DescribeGroupsResponse()
        let stored = Set((try? store.groupNames()) ?? [])
        for name in request.groups {
            if let described = await groups.describe(name) {
                response.groups.append(described)
                continue
            }
            var group = DescribeGroupsResponse.Group()
            group.groupId = name
            // A group known only by its committed offsets has no members: Empty; else Dead.
            group.groupState = stored.contains(name) ? "Empty" : "Dead"
            group.protocolType = stored.contains(name) ? "consumer" : ""
            response.groups.append(group)
        }
        return response
    }
}
