import NIOCore

/// One Kafka consumer group's membership, as the classic group protocol keeps it: members
/// join, the coordinator picks a leader and a protocol, the leader assigns partitions (on the
/// client, with whatever assignor the members agree on) and the others receive their share.
struct KafkaGroup {
    enum State: String {
        case empty = "Empty"
        case preparingRebalance = "PreparingRebalance"
        case completingRebalance = "CompletingRebalance"
        case stable = "Stable"
    }

    struct Member {
        var id: String
        var groupInstanceId: String?
        var clientId: String
        var clientHost: String
        var sessionTimeoutMilliseconds: Int64
        var rebalanceTimeoutMilliseconds: Int64
        var protocols: [JoinGroupRequest.JoinProtocol]
        var lastSeen: ContinuousClock.Instant
        var assignment = ByteBuffer()
        /// The JoinGroup request waiting for the rebalance to complete.
        var joinWaiter: CheckedContinuation<JoinGroupResponse, Never>?
        var joinVersion: Int16 = 0
        /// The SyncGroup request waiting for the leader's assignment.
        var syncWaiter: CheckedContinuation<SyncGroupResponse, Never>?

        func metadata(for protocolName: String) -> ByteBuffer {
            protocols.first { $0.name == protocolName }?.metadata ?? ByteBuffer()
        }
    }

    let name: String
    var state = State.empty
    var generation: Int32 = 0
    var protocolType: String?
    var protocolName: String?
    var leaderId: String?
    /// Join order, which picks the leader and orders the member list the leader receives.
    var members: [Member] = []
    /// When the rebalance under way completes even if not every member has rejoined.
    var rebalanceDeadline: ContinuousClock.Instant?
    /// Before this, a rebalance of a group that was empty waits for more members.
    var initialDelayEnd: ContinuousClock.Instant?

    init(name: String) { self.name = name }

    func index(of memberId: String) -> Int? { members.firstIndex { $0.id == memberId } }

    /// True when every member has rejoined and no initial delay holds the rebalance open.
    func everyoneJoined(now: ContinuousClock.Instant) -> Bool {
        guard state == .preparingRebalance, !members.isEmpty, members.allSatisfy({ $0.joinWaiter != nil }) else { return false }
        return initialDelayEnd.map { now >= $0 } ?? true
    }

    /// The protocol every member supports, the leader's preference first.
    func commonProtocol() -> String? {
        guard let first = members.first else { return nil }
        return first.protocols.map(\.name).first { name in members.allSatisfy { member in member.protocols.contains { $0.name == name } } }
    }

    /// Starts a rebalance: sync requests still waiting learn it, and members must rejoin.
    mutating func prepareRebalance(now: ContinuousClock.Instant, initialDelayMilliseconds: Int64) {
        let wasEmpty = state == .empty
        state = .preparingRebalance
        for index in members.indices {
            if let waiter = members[index].syncWaiter {
                members[index].syncWaiter = nil
                var response = SyncGroupResponse()
                response.errorCode = KafkaErrorCode.rebalanceInProgress.rawValue
                waiter.resume(returning: response)
            }
        }
        let longest = members.map(\.rebalanceTimeoutMilliseconds).max() ?? 0
        rebalanceDeadline = now.advanced(by: .milliseconds(longest))
        initialDelayEnd = wasEmpty ? now.advanced(by: .milliseconds(initialDelayMilliseconds)) : nil
    }

    /// Completes the join phase: members that did not rejoin are dropped, a new generation
    /// starts, and every waiting JoinGroup is answered (the leader with every member's metadata).
    mutating func completeJoin() {
        members.removeAll { $0.joinWaiter == nil }
        rebalanceDeadline = nil
        initialDelayEnd = nil
        generation += 1
        guard !members.isEmpty else {
            state = .empty
            leaderId = nil
            protocolName = nil
            protocolType = nil
            return
        }
        guard let chosen = commonProtocol() else {
            for index in members.indices { answerJoin(index, error: .inconsistentGroupProtocol) }
            members.removeAll()
            state = .empty
            return
        }
        protocolName = chosen
        if leaderId.map({ index(of: $0) == nil }) ?? true { leaderId = members.first?.id }
        state = .completingRebalance
        for index in members.indices { answerJoin(index, error: .none) }
    }

    private mutating func answerJoin(_ index: Int, error: KafkaErrorCode) {
        guard let waiter = members[index].joinWaiter else { return }
        members[index].joinWaiter = nil
        var response = JoinGroupResponse()
        response.errorCode = error.rawValue
        response.memberId = members[index].id
        if error == .none {
            response.generationId = generation
            response.protocolName = protocolName ?? ""
            response.leader = leaderId ?? ""
            if members[index].id == leaderId {
                let chosen = protocolName ?? ""
                response.members = members.map { member in
                    var entry = JoinGroupResponse.Member()
                    entry.memberId = member.id
                    entry.groupInstanceId = member.groupInstanceId
                    entry.metadata = member.metadata(for: chosen)
                    return entry
                }
            }
        }
        waiter.resume(returning: response)
    }

    /// Removes a member, answering whatever it still waits for; the group rebalances.
    mutating func remove(_ memberId: String, now: ContinuousClock.Instant, initialDelayMilliseconds: Int64) {
        guard let index = index(of: memberId) else { return }
        let member = members.remove(at: index)
        if let waiter = member.joinWaiter {
            var response = JoinGroupResponse()
            response.errorCode = KafkaErrorCode.unknownMemberId.rawValue
            waiter.resume(returning: response)
        }
        if let waiter = member.syncWaiter {
            var response = SyncGroupResponse()
            response.errorCode = KafkaErrorCode.unknownMemberId.rawValue
            waiter.resume(returning: response)
        }
        if members.isEmpty {
            state = .empty
            generation += 1
            leaderId = nil
            protocolName = nil
            protocolType = nil
            rebalanceDeadline = nil
        } else if state != .preparingRebalance {
            prepareRebalance(now: now, initialDelayMilliseconds: 0)
        }
    }
}
