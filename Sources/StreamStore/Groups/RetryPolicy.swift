import StreamStoreFormat
import StreamStoreLog
/// How ``Consumer/process(retry:maxRecords:sleep:onFailure:handler:)`` retries a record whose
/// handler throws, before it gives up and dead-letters the record.
///
/// The handler runs at most ``maxAttempts`` times per record. Between two runs the consumer
/// waits ``delayMilliseconds(afterAttempt:using:)``: ``initialBackoffMilliseconds`` after the
/// first failure, ``backoffMultiplier`` times longer after each further one, never longer than
/// ``maxBackoffMilliseconds``, and shortened at random by up to ``jitterFraction`` so that
/// consumers failing together do not retry in lockstep.
///
/// ```swift
/// // 4 runs at most: waits of about 200 ms, 400 ms and 800 ms between them.
/// let retry = RetryPolicy(maxAttempts: 4, initialBackoffMilliseconds: 200)
/// ```
///
/// An error that conforms to ``NonRetriableError`` (such as ``DeadLetterNow``) skips the
/// remaining attempts: the record is dead-lettered at once.
public struct RetryPolicy: Sendable, Equatable, Hashable {
    /// Runs of the handler per record, the first one included: 1 dead-letters a record on its
    /// first failure. At least 1.
    public var maxAttempts: Int
    /// The wait after the first failure. At least 0.
    public var initialBackoffMilliseconds: Int64
    /// How much longer each further wait is than the one before: 1 keeps them equal. At least 1.
    public var backoffMultiplier: Double
    /// The longest wait, whatever the multiplier makes of it. At least
    /// ``initialBackoffMilliseconds``.
    public var maxBackoffMilliseconds: Int64
    /// How much of each wait is left to chance, 0...1: a wait is drawn uniformly from
    /// `(1 - jitterFraction) × w ... w`, where `w` is the wait without jitter. 0 makes waits
    /// exact; 1 is "full jitter".
    public var jitterFraction: Double

    /// A policy; the defaults run a handler 3 times, waiting about 100 ms and 200 ms between
    /// runs (20 % jitter).
    public init(
        maxAttempts: Int = 3, initialBackoffMilliseconds: Int64 = 100, backoffMultiplier: Double = 2,
        maxBackoffMilliseconds: Int64 = 30_000, jitterFraction: Double = 0.2
    ) {
        self.maxAttempts = maxAttempts
        self.initialBackoffMilliseconds = initialBackoffMilliseconds
        self.backoffMultiplier = backoffMultiplier
        self.maxBackoffMilliseconds = maxBackoffMilliseconds
        self.jitterFraction = jitterFraction
    }

    /// Throws `.invalidConfig` naming the first setting out of range.
    public func validate() throws(StreamStoreError) {
        func fail(_ message: String) -> StreamStoreError { StreamStoreError(.invalidConfig, message) }
        guard maxAttempts >= 1 else { throw fail("maxAttempts must be at least 1 (the first run counts), not \(maxAttempts).") }
        guard initialBackoffMilliseconds >= 0 else {
            throw fail("initialBackoffMilliseconds must not be negative, not \(initialBackoffMilliseconds).")
        }
        guard backoffMultiplier.isFinite, backoffMultiplier >= 1 else {
            throw fail("backoffMultiplier must be a number of at least 1, not \(backoffMultiplier).")
        }
        guard maxBackoffMilliseconds >= initialBackoffMilliseconds else {
            throw fail("maxBackoffMilliseconds (\(maxBackoffMilliseconds)) must be at least initialBackoffMilliseconds (\(initialBackoffMilliseconds)).")
        }
        guard jitterFraction.isFinite, (0...1).contains(jitterFraction) else {
            throw fail("jitterFraction must lie within 0...1, not \(jitterFraction).")
        }
    }

    /// The wait before the run that follows failed run number `attempt` (1 for the wait after
    /// the first failure), without jitter: the upper end of what
    /// ``delayMilliseconds(afterAttempt:using:)`` draws.
    public func backoffMilliseconds(afterAttempt attempt: Int) -> Int64 {
        precondition(attempt >= 1, "attempts count from 1")
        let cap = Double(maxBackoffMilliseconds)
        var wait = Double(initialBackoffMilliseconds)
        var step = 1
        while step < attempt && wait < cap {
            wait *= backoffMultiplier
            step += 1
        }
        guard wait < cap else { return maxBackoffMilliseconds }
        return Int64(wait.rounded())
    }

    /// The wait before the run that follows failed run number `attempt`, jitter drawn from
    /// `generator`.
    public func delayMilliseconds(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Int64 {
        let wait = backoffMilliseconds(afterAttempt: attempt)
        guard jitterFraction > 0, wait > 0 else { return wait }
        let cut = Double(wait) * jitterFraction * Double.random(in: 0...1, using: &generator)
        return wait - Int64(cut.rounded(.down))
    }

    /// The wait before the run that follows failed run number `attempt`, jitter drawn from the
    /// system's random numbers.
    public func delayMilliseconds(afterAttempt attempt: Int) -> Int64 {
        var generator = SystemRandomNumberGenerator()
        return delayMilliseconds(afterAttempt: attempt, using: &generator)
    }
}

/// An error a handler throws when retrying cannot help (a record that does not parse, a
/// reference to something that does not exist): ``Consumer/process(retry:maxRecords:sleep:onFailure:handler:)``
/// dead-letters the record at once instead of running the handler again.
///
/// ```swift
/// struct UnknownCustomer: NonRetriableError { var id: String }
/// ```
public protocol NonRetriableError: Error {}

/// A ready-made ``NonRetriableError``: throw it from a handler to dead-letter the record at
/// once, with `reason` as its `dlq-error` text.
///
/// ```swift
/// guard let order = try? JSONDecoder().decode(Order.self, from: Data(record.value ?? [])) else {
///     throw DeadLetterNow("the value is not an order")
/// }
/// ```
public struct DeadLetterNow: NonRetriableError, CustomStringConvertible, Equatable {
    /// Why the record cannot be processed.
    public var reason: String

    /// An error that dead-letters the record at once, `reason` saying why.
    public init(_ reason: String) { self.reason = reason }

    /// The reason, as the dead letter's `dlq-error` header shows it.
    public var description: String { reason }
}
