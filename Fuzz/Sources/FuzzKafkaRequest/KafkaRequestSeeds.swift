import FuzzSupport

/// Seeds: the requests kafka-python, librdkafka (confluent-kafka) and kcat sent to
/// `stream-tool serve`, captured by `tools/kafka-clients/capture.py` into
/// `Tests/StreamStoreKafkaTests/ClientRequests` (the decoder tests read the same files).
enum KafkaRequestSeeds {
    static let folder = "Tests/StreamStoreKafkaTests/ClientRequests"

    static func make() -> [(name: String, bytes: [UInt8])] {
        let names = PosixFiles.list(RepositoryFiles.root + "/" + folder).filter { $0.hasSuffix(".bin") }.sorted()
        guard !names.isEmpty else { fatalError("no captured client requests under \(RepositoryFiles.root)/\(folder)") }
        return names.map { name in
            guard let bytes = RepositoryFiles.read("\(folder)/\(name)") else { fatalError("cannot read \(folder)/\(name)") }
            return (String(name.dropLast(4)), bytes)
        }
    }
}
