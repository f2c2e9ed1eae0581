import ArgumentParser
import StreamStore
import StreamStoreMessaging

/// A runtime failure of the tool itself (bad input, a missing file), as opposed to one the
/// store reports. The message is a full sentence that says what to do.
struct ToolError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}

/// Runs a command's body and turns every runtime failure into the one-line `error: ...` the CLI
/// promises (CLI.md, "Global"), followed by exit status 1.
///
/// `ExitCode` passes through untouched, so a command can still choose its own status (`verify`
/// exits 3). Usage errors never get here: argument-parser reports them before `run()`.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch is OutputClosed {
        throw ExitCode.success
    } catch let error as StreamStoreError {
        reportError(error.description + (commandHint(for: error).map { " " + $0 } ?? ""))
        throw ExitCode.failure
    } catch let error as ToolError {
        reportError(error.message)
        throw ExitCode.failure
    } catch let error as MessagingError {
        reportError(error.underlying?.description ?? error.message)
        throw ExitCode.failure
    } catch {
        reportError(String(describing: error))
        throw ExitCode.failure
    }
}

/// Writes the one `error: ...` line, the prefix in red on a terminal.
func reportError(_ message: String) {
    let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    StandardError.line(Colours.standardError.failure("error:") + " " + oneLine)
}

/// What to do about a store error with this tool: the library's messages speak of the library
/// only, so the commands and flags that help are named here, by error code.
func commandHint(for error: StreamStoreError) -> String? {
    let maxNameInHint = 40
    switch error.code {
    case .notAStore: return "Point --store at a store folder (create and produce make one in a new or empty folder)."
    case .unknownTopic:
        // The message names the topic already; a long name is not spelled out a second time.
        guard let topic = error.topic, topic.count <= maxNameInHint else { return "Create it first with stream-tool create." }
        return "Create it first: stream-tool create \(topic)"
    case .unknownGroup: return "`stream-tool groups list` shows the groups that committed offsets."
    case .corruptBatch: return "Run `stream-tool verify` to find every damaged batch."
    default: return nil
    }
}
