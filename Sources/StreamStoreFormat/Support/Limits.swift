/// Every hard limit of the engine, in one place, each with why it is what it is.
///
/// A limit is checked before anything is written, and breaking one is a typed
/// ``StreamStoreError`` (`.recordTooLarge`, `.batchTooLarge`, `.tooManyHeaders`, `.invalidConfig`).
public enum Limits {
    /// Largest encoded record (key, value, headers and varint framing). Kafka's default
    /// `message.max.bytes` is about 1 MiB; 8 MiB leaves room for large events without letting one
    /// record dominate a segment.
    public static let maxRecordBytes = 8 * 1024 * 1024

    /// Largest encoded batch, header included. Readers allocate at most this much for one batch,
    /// so a corrupt length field can never make them allocate more.
    public static let maxBatchBytes = 16 * 1024 * 1024

    /// Most records in one batch: a batch's offsets must fit the int32 `lastOffsetDelta`, and a
    /// record count this large is already far past any useful batch.
    public static let maxRecordsPerBatch = 1_000_000

    /// Most headers on one record: headers are metadata, and every header costs a decode.
    public static let maxHeadersPerRecord = 64

    /// Longest header key, in UTF-8 bytes.
    public static let maxHeaderKeyBytes = 1024

    /// Largest segment: file positions in the offset index are uint32, and Kafka caps
    /// `segment.bytes` at Int32.max for the same reason.
    public static let maxSegmentBytes = Int(Int32.max)

    /// Smallest segment we accept, so a misconfiguration cannot create a file per batch.
    public static let minSegmentBytes = 4096

    /// Relative offsets in the indexes are uint32; a segment rolls before its offsets would
    /// overflow Int32, as Kafka's does.
    public static let maxRelativeOffset = Int64(Int32.max)

    /// Upper bound on a preallocated index file (Kafka's `segment.index.bytes` default). A full
    /// index rolls the segment.
    public static let maxIndexBytes = 10 * 1024 * 1024

    /// Initial preallocation of an active segment's index files; they grow by doubling up to
    /// ``maxIndexBytes``, so thousands of partitions do not reserve 10 MiB each.
    package static let initialIndexBytes = 64 * 1024

    /// Largest correlation filter of one segment (docs/FORMAT.md, "Correlation filter"): enough
    /// for about 13 million distinct ids at 10 bits each. Past it a filter only gets less
    /// selective (more segments scanned), never wrong; a bigger file is not one of ours.
    package static let maxCorrelationFilterBytes = 16 * 1024 * 1024

    /// Topic names: Kafka's rule, so names are safe as folder names and portable to Kafka.
    public static let maxTopicNameBytes = 249

    /// Most partitions in one topic: each costs descriptors and a folder.
    public static let maxPartitions = 10_000

    /// Sealed segments whose files (log descriptor and index mappings) stay open at once, per
    /// store. More are opened on demand and the least recently used are closed.
    public static let defaultOpenSegmentFiles = 256

    /// Idempotent producers one partition remembers; past it the least recently active is
    /// forgotten. Each costs about 200 bytes; Kafka bounds them by time instead
    /// (`transactional.id.expiration.ms`), which lets a burst of short-lived producers grow
    /// memory without limit.
    public static let maxProducersPerPartition = 10_000

    /// Largest `message-id` the de-duplication window keeps, in bytes: longer ids are refused
    /// (`.invalidConfig`) on de-duplicated topics, so the window's memory stays bounded by
    /// `TopicConfig.dedupeMaxMessageIDs` times this.
    public static let maxMessageIDBytes = 256

    /// Longest error text a dead letter keeps in its `dlq-error` header, in UTF-8 bytes; a
    /// longer description is cut (at a character boundary) and ends in "…". A stack of nested
    /// errors can be long, and the dead letter must still fit ``maxRecordBytes`` beside the
    /// record it carries.
    public static let maxDeadLetterErrorBytes = 4096

    /// Largest de-duplication window, in message ids per topic: at about 400 bytes per id at
    /// the longest, 10 million ids stay within a few GiB.
    public static let maxDedupeMessageIDs = 10_000_000

    // MARK: Events (versioned JSON events, upcasting, schema checks)

    /// Deepest nesting of arrays and objects in an event's JSON that the event decoder parses
    /// for upcasting (Foundation's decoder stops at 512): deeper input is refused with
    /// `.eventDecodingFailed` instead of exhausting the stack.
    public static let maxEventJSONDepth = 256

    /// Deepest path the schema check follows into an event's JSON (`customer.address.city` is
    /// 3): deeper members count as part of their ancestor, so a recursive structure cannot make
    /// the inferred shape endless.
    package static let maxShapeDepth = 8

    /// Most distinct fields the schema check tracks per event type and version: an object used
    /// as a map (keyed by ids) would otherwise add a field per key. Past it new fields are
    /// counted, not tracked, and the report says so.
    package static let maxShapeFieldsPerVersion = 1000

    // MARK: The transactional outbox (StreamStoreOutbox)

    /// Most outbox rows a relay reads and publishes in one pass: a pass holds its rows in
    /// memory and deletes them in one SQLite transaction, and larger passes gain nothing once
    /// the fsync is shared by a thousand rows or so.
    public static let maxOutboxBatchRows = 10_000

    // MARK: The Kafka-protocol server (StreamStoreKafka)

    /// Largest Kafka request frame the server reads (Kafka's `socket.request.max.bytes`). A
    /// longer length prefix closes that connection before anything is buffered for it.
    public static let kafkaMaxRequestBytes = 100 * 1024 * 1024

    /// Most client connections the Kafka server keeps at once; past it new ones are closed on
    /// accept, so a flood of connections cannot exhaust the process's descriptors.
    public static let kafkaMaxConnections = 4096

    /// A Kafka connection with no traffic for this long is closed (Kafka's
    /// `connections.max.idle.ms`).
    public static let kafkaIdleMilliseconds: Int64 = 600_000

    /// Longest a Fetch waits for data (its `max_wait_ms` is cut to this), so a shutdown never
    /// waits on a client's choice.
    public static let kafkaMaxFetchWaitMilliseconds: Int64 = 30_000

    /// Connections the kernel may hold for the Kafka server before it accepts them (the listen
    /// backlog; Linux cuts it to `net.core.somaxconn`). A burst of connects past it waits in the
    /// clients' SYN retries instead of being refused.
    public static let kafkaListenBacklog: Int32 = 1024

    /// Open files `stream-tool serve` asks the kernel for (its soft RLIMIT_NOFILE, raised up to
    /// the hard limit): the connections plus the store's segments and indexes.
    public static let kafkaServeOpenFiles = kafkaMaxConnections + 4096

    /// Largest request a Kafka client may send before it has authenticated (Kafka's
    /// `sasl.server.max.receive.size`): SASL messages are small, and a stranger must not make
    /// the server buffer 100 MiB frames.
    public static let kafkaMaxUnauthenticatedRequestBytes = 512 * 1024

    /// Fewest and most PBKDF2 iterations of a stored SCRAM credential (Kafka's bounds): fewer
    /// makes a stolen users file cheap to attack, more makes each PLAIN login slow.
    public static let kafkaScramMinIterations = 4096
    /// The most PBKDF2 iterations a credential may ask for; also the most a client accepts
    /// from a broker, so a broker cannot make a login arbitrarily slow.
    public static let kafkaScramMaxIterations = 16384

    /// A Kafka users file holds a line of about 200 bytes per credential; 4 MiB is room for
    /// some ten thousand users and bounds what the server reads.
    package static let kafkaMaxUsersFileBytes = 4 * 1024 * 1024

    /// Largest mirror state file (`__kafka/mirror-*.json`) read back: a few hundred bytes per
    /// mirrored partition, so 16 MiB covers far more partitions than `maxPartitions` per topic.
    public static let maxMirrorStateBytes = 16 * 1024 * 1024

    // MARK: Reader processes

    /// Longest a reader process's watcher sleeps on the writer's signal before it looks again:
    /// bounds how late it notices a writer that appeared, restarted or exited without a publish.
    public static let liveWaitSliceMilliseconds: Int64 = 100

    /// A reader process copies the writer's active index again once the writer has written
    /// this much past the copy: lookups scan at most about that far, and copies stay rare.
    public static let readerIndexRefreshBytes: Int64 = 4 * 1024 * 1024

    /// How often a consumer group member looks at the other processes' members of its group:
    /// it notices one that joined, left or died (its lock released by the kernel) at most this
    /// late. A dead member's partitions reach the survivors within about this time, plus the
    /// time a survivor takes to finish the record it is handling.
    public static let groupMembershipCheckMilliseconds: Int64 = 100

    /// Member ids a process tries before it gives up joining a group's members (a try fails
    /// only when another member, cleaning up, removed the file in the moment it was made).
    package static let groupJoinAttempts = 16

    // MARK: Request-reply and sagas (StreamStoreMessaging)

    /// Replies a requester keeps for requests nobody waits for yet (made before a restart, or
    /// whose caller has not asked yet): a reply is a few hundred bytes, so this bounds the
    /// buffer to tens of MiB; past it the oldest are dropped (and counted).
    public static let maxBufferedReplies = 100_000

    /// Commands a responder handles at the same time: each holds a task and its reply until
    /// the reply is durable, and replies appended together share one fsync.
    public static let maxConcurrentCommands = 10_000

    /// Steps of one saga definition: a saga is a business process of a handful of steps, and its
    /// history (every state change an event) grows with them.
    public static let maxSagaSteps = 64

    // MARK: Read caps
    //
    // Files the store reads whole into memory, and how large each may be. A larger file is not
    // one of ours (or was damaged past use), and the cap keeps a stray file from exhausting memory.

    /// `store.json` and `topic.json` hold a few hundred bytes of settings; 64 KiB leaves room for
    /// any config while keeping a store's open cheap.
    package static let maxManifestBytes = 64 * 1024

    /// A partition's checkpoint file is 44 bytes; 4 KiB (one page) bounds what is read before the
    /// file's own checks reject it.
    package static let maxCheckpointBytes = 4096

    /// A consumer group's offset log is read whole when a process first uses the group (then its
    /// new tail); compaction keeps it near the size of its live offsets, and its frames are
    /// addressed with 32-bit lengths.
    package static let maxGroupOffsetLogBytes = Int(Int32.max)

    /// The Kafka server's `producer-ids` file holds one decimal number and a newline; 64 bytes
    /// is room for any Int64.
    package static let maxProducerIdFileBytes = 64

    /// `__producers.json` holds the next free producer id and one line per named producer: 4 MiB
    /// is room for tens of thousands of names, far more than the services of one store.
    package static let maxProducerIdsFileBytes = 4 << 20

    /// A projection snapshot is read and decoded whole; 1 GiB is far past any state a projection
    /// should keep in memory, and still loads on a small machine.
    package static let maxProjectionSnapshotBytes = 1 << 30

    /// Longest user-supplied name or path an error message quotes, in characters; a longer one
    /// is cut and ends in "…", so a message stays one readable line.
    package static let maxQuotedCharacters = 120
}
