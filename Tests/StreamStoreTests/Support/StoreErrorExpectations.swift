import Testing

@testable import StreamStoreFormat

/// Runs `body`, which must throw a `StreamStoreError`, and returns that error (recording an
/// issue when it throws nothing or something else).
@discardableResult
func expectStoreError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> StreamStoreError? {
    do {
        try await body()
        Issue.record("expected a StreamStoreError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StreamStoreError {
        return error
    } catch {
        Issue.record("expected a StreamStoreError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Runs `body` and returns the `StreamStoreError` it threw, or nil when it succeeded.
func storeErrorIfAny(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> StreamStoreError? {
    do {
        try await body()
        return nil
    } catch let error as StreamStoreError {
        return error
    } catch {
        Issue.record("expected a StreamStoreError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
