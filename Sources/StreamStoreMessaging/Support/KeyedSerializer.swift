import StreamStore

/// One task at a time per key, in the order they lined up: the inputs of one saga instance, or
/// the commands of one key at a responder, never interleave, while different keys go on at once.
final class KeyedSerializer: Sendable {
    /// Per key taken, the gates of the tasks lined up; the first one's is open.
    private let queues = Locked<[String: [Gate]]>([:])

    /// Lines up for `key` now (so the order is the callers'), without waiting.
    func enqueue(_ key: String) -> Gate {
        let gate = Gate()
        let first = queues.withLock { queues in
            queues[key, default: []].append(gate)
            return queues[key]?.count == 1
        }
        if first { gate.open() }
        return gate
    }

    /// Lets the next in line for `key` go; the caller's turn ends.
    func release(_ key: String) {
        let next: Gate? = queues.withLock { queues in
            guard var line = queues[key] else { return nil }
            line.removeFirst()
            queues[key] = line.isEmpty ? nil : line
            return line.first
        }
        next?.open()
    }

    /// Runs `body` in its turn for `key`.
    func run<T>(_ key: String, _ body: () async throws(MessagingError) -> T) async throws(MessagingError) -> T {
        let gate = enqueue(key)
        await gate.wait()
        defer { release(key) }
        return try await body()
    }

    /// A turn: waited for until opened.
    final class Gate: Sendable {
        private let state = Locked<(isOpen: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

        func open() {
            let waiter = state.withLock { state in
                defer { state = (true, nil) }
                return state.waiter
            }
            waiter?.resume()
        }

        func wait() async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let isOpen = state.withLock { state in
                    if !state.isOpen { state.waiter = continuation }
                    return state.isOpen
                }
                if isOpen { continuation.resume() }
            }
        }
    }
}
