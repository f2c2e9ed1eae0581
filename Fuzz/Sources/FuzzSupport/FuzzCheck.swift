/// An invariant of a fuzz target. A broken one stops the process with a message, which
/// libFuzzer reports as a crash and saves the input for (`crash-<sha1>` in the artifact folder).
@inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz invariant broken: \(message())", file: file, line: line) }
}
