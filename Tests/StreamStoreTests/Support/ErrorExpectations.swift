import Testing

@testable import StreamStoreFormat

/// Runs `body`, which must throw a `StreamStoreError` with `code` (and, when `phrase` is given, a
/// message containing it); returns that error. Any other outcome (no error, another type,
/// another code, a message without the phrase) is a recorded issue: an error path that fails
/// for another reason than the one under test does not pass.
@discardableResult
func expectStoreError(
    _ code: StreamStoreError.Code, mentioning phrase: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> StreamStoreError? {
    do {
        try body()
        Issue.record("expected \(code), but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch {
        return check(error, code, phrase, sourceLocation)
    }
}

/// ``expectStoreError(_:mentioning:sourceLocation:_:)`` for an async `body`.
@discardableResult
func expectStoreError(
    _ code: StreamStoreError.Code, mentioning phrase: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> StreamStoreError? {
    do {
        try await body()
        Issue.record("expected \(code), but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch {
        return check(error, code, phrase, sourceLocation)
    }
}

private func check(_ error: any Error, _ code: StreamStoreError.Code, _ phrase: String?, _ sourceLocation: SourceLocation) -> StreamStoreError? {
    guard let error = error as? StreamStoreError else {
        Issue.record("expected \(code), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
    #expect(error.code == code, "expected \(code), got \(error.code): \(error.message)", sourceLocation: sourceLocation)
    if let phrase {
        #expect(error.message.contains(phrase), "the \(code) message does not say \"\(phrase)\": \(error.message)", sourceLocation: sourceLocation)
    }
    return error
}
