import ArgumentParser
import StreamStore
import StreamStoreMessaging

extension StreamTool {
    /// `stream-tool sagas list|show`: saga instances and their histories, read from the saga
    /// topics (docs/MESSAGING.md).
    struct Sagas: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Saga instances: where each stands, and the history of one.",
            discussion: """
                A saga's process manager (the StreamStoreMessaging library) keeps every state \
                change of its instances as an event in the topic SAGA.sagas. These commands \
                fold those topics; they open the store read-only, so they work while the \
                service runs.
                """,
            subcommands: [List.self, Show.self])
    }
}

extension SagaStatus: ExpressibleByArgument {}
