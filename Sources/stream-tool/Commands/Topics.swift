import ArgumentParser
import StreamStore

extension StreamTool {
    /// `stream-tool topics`: the topic names, one a line, sorted, for scripts.
    struct Topics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the topics, one name a line.",
            discussion: "Prints nothing for a store without topics. Fails when there is no store.")

        @ParentCommand var root: StreamTool
        @OptionGroup(title: "Store options") var storeOptions: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let names = try await storeOptions.resolved(parent: root.storeOptions).withReadOnlyStore { store in
                    store.topicNames
                }
                let output = BufferedOutput()
                for name in names { output.append(name + "\n") }
                try output.flush()
            }
        }
    }
}
