import Logging
import NIOCore

/// The group coordinator of the classic Kafka group protocol for every group of this broker:
/// JoinGroup, SyncGroup, Heartbeat, LeaveGroup, with session timeouts and rebalance deadlines
/// enforced by a ticker. Membership lives in memory (members rejoin after a restart, as they
/// do when a Kafka coordinator moves); committed offsets live in the store's groups.
actor KafkaGroupCoordinator {
    private var groups: [String: KafkaGroup] = [:]
    private let configuration: KafkaServerConfiguration
    private var ticker: Task<Void, Never>?
    private var memberCounter = 0
    /// How often deadlines and session timeouts are checked.
    static let tickMilliseconds: Int64 = 100

    init(configuration: KafkaServerConfiguration) {
        self.configuration = configuration
    }

    /// Stops the ticker and answers every waiting request; the server is going away.
    func shutdown() {
        ticker?.cancel()
        ticker = nil
        let now = ContinuousClock.now
        for name in Array(groups.keys) {
            guard var group = groups[name] else { continue }
            for member in group.members.map(\.id) { group.remove(member, now: now, initialDelayMilliseconds: 0) }
            groups[name] = group
        }
    }

    private func startTicker() {
        guard ticker == nil else { return }
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(KafkaGroupCoordinator.tickMilliseconds))
                await self?.tick()
            }
        }
    }

    /// Expires silent members and completes rebalances whose time is up.
    private func tick() {
        let now = ContinuousClock.now
        for name in Array(groups.keys) {
            guard var group = groups[name] else { continue }
            for member in group.members where member.joinWaiter == nil && member.syncWaiter == nil {
                if member.lastSeen.advanced(by: .milliseconds(member.sessionTimeoutMilliseconds)) < now {
                    configuration.logger.info("Group \(name): member \(member.id) missed its session timeout; rebalancing.")
                    group.remove(member.id, now: now, initialDelayMilliseconds: 0)
                }
            }
            if group.state == .preparingRebalance {
                if group.everyoneJoined(now: now) || (group.rebalanceDeadline.map { $0 <= now } ?? false) { group.completeJoin() }
            }
            groups[name] = group
        }
    }

    func join(_ request: JoinGroupRequest, clientId: String, clientHost: String) async -> JoinGroupResponse {
        var refusal = JoinGroupResponse()
        refusal.memberId = request.memberId
        guard !request.groupId.isEmpty else { return refused(refusal, .invalidGroupId) }
        guard configuration.sessionTimeoutRangeMilliseconds.contains(request.sessionTimeoutMilliseconds) else {
            return refused(refusal, .invalidSessionTimeout)
        }
        guard !request.protocols.isEmpty else { return refused(refusal, .inconsistentGroupProtocol) }
        startTicker()
        var group = groups[request.groupId] ?? KafkaGroup(name: request.groupId)
        if let type = group.protocolType, type != request.protocolType, !group.members.isEmpty {
            return refused(refusal, .inconsistentGroupProtocol)
        }
        if !request.memberId.isEmpty && group.index(of: request.memberId) == nil { return refused(refusal, .unknownMemberId) }
        // A member that joins must share a protocol with the others; a group of one is free.
        if let others = Optional(group.members.filter { $0.id != request.memberId }), !others.isEmpty {
            let names = Set(request.protocols.map(\.name))
            guard others.allSatisfy({ member in member.protocols.contains { names.contains($0.name) } }) else {
                return refused(refusal, .inconsistentGroupProtocol)
            }
        }
        let memberId = request.memberId.isEmpty ? newMemberId(clientId: clientId) : request.memberId
        let rebalanceTimeout = Int64(request.rebalanceTimeoutMilliseconds > 0 ? request.rebalanceTimeoutMilliseconds : request.sessionTimeoutMilliseconds)
        let now = ContinuousClock.now
        var member = KafkaGroup.Member(
            id: memberId, groupInstanceId: request.groupInstanceId, clientId: clientId, clientHost: clientHost,
            sessionTimeoutMilliseconds: Int64(request.sessionTimeoutMilliseconds), rebalanceTimeoutMilliseconds: rebalanceTimeout,
            protocols: request.protocols, lastSeen: now)
        group.protocolType = request.protocolType
        return await withCheckedContinuation { continuation in
            member.joinWaiter = continuation
            if let index = group.index(of: memberId) {
                if let earlier = group.members[index].joinWaiter {
                    var superseded = JoinGroupResponse()
                    superseded.errorCode = KafkaErrorCode.rebalanceInProgress.rawValue
                    superseded.memberId = memberId
                    earlier.resume(returning: superseded)
                }
                member.assignment = group.members[index].assignment
                group.members[index] = member
            } else {
                group.members.append(member)
            }
            if group.state != .preparingRebalance {
                group.prepareRebalance(now: now, initialDelayMilliseconds: configuration.initialRebalanceDelayMilliseconds)
            }
            if group.everyoneJoined(now: now) { group.completeJoin() }
            groups[request.groupId] = group
        }
    }

    func sync(_ request: SyncGroupRequest) async -> SyncGroupResponse {
        var response = SyncGroupResponse()
        guard var group = groups[request.groupId], let index = group.index(of: request.memberId) else {
            return refused(response, .unknownMemberId)
        }
        guard request.generationId == group.generation else { return refused(response, .illegalGeneration) }
        group.members[index].lastSeen = .now
        switch group.state {
        case .empty, .preparingRebalance:
            groups[request.groupId] = group
            return refused(response, .rebalanceInProgress)
        case .stable:
            groups[request.groupId] = group
            response.assignment = group.members[index].assignment
            return response
        case .completingRebalance:
            if request.memberId == group.leaderId {
                let assignments = Dictionary(request.assignments.map { ($0.memberId, $0.assignment) }, uniquingKeysWith: { first, _ in first })
                for member in group.members.indices {
                    group.members[member].assignment = assignments[group.members[member].id] ?? ByteBuffer()
                    if let waiter = group.members[member].syncWaiter {
                        group.members[member].syncWaiter = nil
                        var answer = SyncGroupResponse()
                        answer.assignment = group.members[member].assignment
                        waiter.resume(returning: answer)
                    }
                }
                group.state = .stable
                configuration.logger.info("Group \(request.groupId) is stable at generation \(group.generation) with \(group.members.count) members.")
                groups[request.groupId] = group
                response.assignment = group.members[index].assignment
                return response
            }
            return await withCheckedContinuation { continuation in
                group.members[index].syncWaiter = continuation
                groups[request.groupId] = group
            }
        }
    }

    func heartbeat(_ request: HeartbeatRequest) -> HeartbeatResponse {
        var response = HeartbeatResponse()
        guard var group = groups[request.groupId], let index = group.index(of: request.memberId) else {
            response.errorCode = KafkaErrorCode.unknownMemberId.rawValue
            return response
        }
        group.members[index].lastSeen = .now
        groups[request.groupId] = group
        if request.generationId != group.generation {
            response.errorCode = KafkaErrorCode.illegalGeneration.rawValue
        } else if group.state == .preparingRebalance {
            response.errorCode = KafkaErrorCode.rebalanceInProgress.rawValue
        }
        return response
    }

    func leave(_ request: LeaveGroupRequest) -> LeaveGroupResponse {
        var response = LeaveGroupResponse()
        let leaving = request.members.isEmpty ? [request.memberId] : request.members.map(\.memberId)
        guard var group = groups[request.groupId] else {
            response.errorCode = KafkaErrorCode.unknownMemberId.rawValue
            return response
        }
        for memberId in leaving {
            var entry = LeaveGroupResponse.Member()
            entry.memberId = memberId
            if group.index(of: memberId) == nil {
                entry.errorCode = KafkaErrorCode.unknownMemberId.rawValue
                if request.members.isEmpty { response.errorCode = entry.errorCode }
            } else {
                group.remove(memberId, now: .now, initialDelayMilliseconds: 0)
                configuration.logger.info("Group \(request.groupId): member \(memberId) left.")
            }
            response.members.append(entry)
        }
        groups[request.groupId] = group
        return response
    }

    /// Why an OffsetCommit from this member and generation may not commit now, if it may not:
    /// it must come from a member of the current generation, or from anyone (generation -1)
    /// while the group has no members.
    func commitRefusal(groupId: String, memberId: String, generationId: Int32) -> KafkaErrorCode? {
        guard let group = groups[groupId], !group.members.isEmpty else {
            return generationId < 0 ? nil : .unknownMemberId
        }
        if generationId < 0 && memberId.isEmpty { return .rebalanceInProgress }
        guard let index = group.index(of: memberId) else { return .unknownMemberId }
        guard generationId == group.generation else { return .illegalGeneration }
        // As Kafka's coordinator: members of the generation may still commit while the group
        // prepares a rebalance (what they processed before giving partitions up), but not
        // once the new generation's assignment is being handed out.
        if group.state == .completingRebalance { return .rebalanceInProgress }
        groups[groupId]?.members[index].lastSeen = .now
        return nil
    }

    /// Groups with members, with their protocol type.
    func activeGroups() -> [(name: String, protocolType: String)] {
        groups.values.filter { !$0.members.isEmpty }.map { ($0.name, $0.protocolType ?? "") }
    }

    func describe(_ name: String) -> DescribeGroupsResponse.Group? {
        guard let group = groups[name] else { return nil }
        var described = DescribeGroupsResponse.Group()
        described.groupId = name
        described.groupState = group.state.rawValue
        described.protocolType = group.protocolType ?? ""
        described.protocolData = group.state == .stable ? group.protocolName ?? "" : ""
        described.members = group.members.map { member in
            var entry = DescribeGroupsResponse.Member()
            entry.memberId = member.id
            entry.groupInstanceId = member.groupInstanceId
            entry.clientId = member.clientId
            entry.clientHost = member.clientHost
            if group.state == .stable {
                entry.memberMetadata = member.metadata(for: group.protocolName ?? "")
                entry.memberAssignment = member.assignment
            }
            return entry
        }
        return described
    }

    private func newMemberId(clientId: String) -> String {
        memberCounter += 1
        let prefix = clientId.isEmpty ? "member" : String(clientId.prefix(64))
        return "\(prefix)-\(memberCounter)-\(UInt64.random(in: 0...UInt64.max))"
    }

    private func refused(_ response: JoinGroupResponse, _ code: KafkaErrorCode) -> JoinGroupResponse {
        var copy = response
        copy.errorCode = code.rawValue
        return copy
    }

    private func refused(_ response: SyncGroupResponse, _ code: KafkaErrorCode) -> SyncGroupResponse {
        var copy = response
        copy.errorCode = code.rawValue
        return copy
    }
}
