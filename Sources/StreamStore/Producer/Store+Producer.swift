import StreamStoreFormat
import StreamStoreLog

extension Store {
    /// A ``Producer`` for `topic`: idempotent unless ``Producer/Options/idempotent`` is off, with
    /// a producer id (and epoch) the store hands out and keeps in `__producers.json`.
    public func producer(for topic: String, options: Producer.Options = Producer.Options()) throws(StreamStoreError) -> Producer {
        let handle = try self.topic(topic)
        try requireWriter("make a producer for topic \(topic)")
        let name = options.name
        return try Producer(topic: handle, options: options, registerIdentity: { [self] () throws(StreamStoreError) in try registerProducer(name: name) })
    }

    /// A fresh producer id at epoch 0, or, for a `name`, that producer's id at its next epoch
    /// (fencing the instances registered before). Persisted before it is returned.
    package func registerProducer(name: String? = nil) throws(StreamStoreError) -> ProducerIdentity {
        try requireWriter("register a producer")
        let identities = try withOpenState { (state) throws(StreamStoreError) -> ProducerIdentities in
            if let existing = state.producerIdentities { return existing }
            let made = try ProducerIdentities(storePath: path, fileSystem: options.fileSystem)
            state.producerIdentities = made
            return made
        }
        return try identities.register(name: name)
    }
}
