// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "StreamStore",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "StreamStore", targets: ["StreamStore"]),
        // The engine's decoders and checks, for the fuzz targets in Fuzz/; not an application's API.
        .library(name: "StreamStoreFuzzEntryPoints", targets: ["StreamStoreFuzzEntryPoints"]),
        .executable(name: "stream-tool", targets: ["stream-tool"]),
        // The Kafka-protocol server, for services that embed it (docs/KAFKA.md); the fuzz
        // target in Fuzz/ reaches its request handling through `@_spi(Fuzzing)`.
        .library(name: "StreamStoreKafka", targets: ["StreamStoreKafka"]),
        // The transactional outbox and inbox on SQLite (docs/OUTBOX.md); only applications that
        // use it resolve GRDB's build.
        .library(name: "StreamStoreOutbox", targets: ["StreamStoreOutbox"]),
        // Request-reply and sagas over the log (docs/MESSAGING.md).
        .library(name: "StreamStoreMessaging", targets: ["StreamStoreMessaging"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // Only stream-tool uses it (`--metrics-port`); the library reports through swift-metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // `make docs`: the DocC catalogs of the three library modules. A plugin, so nothing
        // that depends on StreamStore links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // Only StreamStoreKafka (the Kafka-protocol server) uses it.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        // Only StreamStoreKafka: TLS for the Kafka server. (SASL SCRAM's SHA-2, HMAC and PBKDF2
        // come from the system's libcrypto, CLibCrypto: swift-crypto would compile a second copy
        // of BoringSSL, 366 of the 772 C files of a fresh debug build.)
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Only StreamStoreOutbox (the transactional outbox and inbox on SQLite) uses it; it links
        // the system's libsqlite3 (libsqlite3-dev, which `make` installs when missing).
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
    ],
    targets: [
        .target(name: "CStreamStoreShims"),
        // libzstd through pkg-config; `make run` and `make test` install libzstd-dev when missing.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // libcrypto from the system (Debian: libssl-dev), for SASL SCRAM in StreamStoreKafka.
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The layers, each seeing only those below it (docs/ARCHITECTURE.md): the batch format,
        // one partition's log on disk, the store an application opens, and inspection for the CLI.
        .target(
            name: "StreamStoreFormat",
            dependencies: ["CStreamStoreShims", "CZstd"]
        ),
        .target(
            name: "StreamStoreLog",
            dependencies: [
                "StreamStoreFormat", "CStreamStoreShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "StreamStore",
            dependencies: [
                "StreamStoreFormat", "StreamStoreLog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "StreamStoreInspect",
            dependencies: ["StreamStore", "StreamStoreLog", "StreamStoreFormat"]
        ),
        // The store as a Kafka broker: the wire protocol's codec, a SwiftNIO server, the broker's
        // request handlers on top of topics and consumer groups (docs/KAFKA.md).
        .target(
            name: "StreamStoreKafka",
            dependencies: [
                "StreamStore", "StreamStoreLog", "StreamStoreFormat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), "CLibCrypto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The transactional outbox and inbox on SQLite: a relay that publishes the rows an
        // application wrote in its own transactions, and an inbox that makes a consumer's effects
        // happen once (docs/OUTBOX.md).
        .target(
            name: "StreamStoreOutbox",
            dependencies: [
                "StreamStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Request-reply (a requester and responders with deadlines) and sagas (a process manager
        // whose state is the events of a saga topic) on the store's public API (docs/MESSAGING.md).
        .target(
            name: "StreamStoreMessaging",
            dependencies: [
                "StreamStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Doors into the format and log layers for the libFuzzer targets in Fuzz/ (a package of
        // its own, so it needs public entry points); nothing else depends on it. It re-exports
        // the CLI's text formats, so they need no library product of their own.
        .target(
            name: "StreamStoreFuzzEntryPoints",
            dependencies: ["StreamStoreFormat", "StreamStoreLog", "StreamToolSupport"]
        ),
        // The CLI's text formats (JSON lines, base64, ISO 8601): a module of their own so the
        // fuzz targets reach them (through StreamStoreFuzzEntryPoints); not a product.
        .target(
            name: "StreamToolSupport",
            dependencies: ["StreamStore"]
        ),
        .executableTarget(
            name: "stream-tool",
            dependencies: [
                "StreamStore", "StreamStoreInspect", "StreamStoreLog", "StreamStoreFormat",
                "StreamToolSupport", "StreamStoreKafka", "StreamStoreOutbox", "StreamStoreMessaging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // A child process that appends until it is killed: crash tests and tools/crash-loop.sh.
        .executableTarget(
            name: "stream-crash-child",
            dependencies: ["StreamStore"]
        ),
        // A child process for the outbox's crash tests: a service writing business rows with
        // outbox rows while its relay runs, or an inbox consumer; killed with SIGKILL.
        .executableTarget(
            name: "stream-outbox-crash-child",
            dependencies: [
                "StreamStoreOutbox", "StreamStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // A child process for the messaging crash tests: a responder answering commands, or a
        // saga process manager with its participants; killed with SIGKILL.
        .executableTarget(
            name: "stream-messaging-crash-child",
            dependencies: ["StreamStoreMessaging", "StreamStore"]
        ),
        // What the test targets share: events a test waits on, the poll of last resort, tags, and
        // the real file system for test file systems that watch a few calls.
        .target(name: "StreamStoreTestSupport", dependencies: ["StreamStoreLog", "StreamStoreFormat"], path: "Tests/StreamStoreTestSupport"),
        .testTarget(
            name: "StreamStoreTests",
            dependencies: [
                "StreamStore", "StreamStoreLog", "StreamStoreFormat", "StreamStoreInspect", "CStreamStoreShims", "stream-crash-child",
                "StreamStoreTestSupport", "StreamStoreFuzzEntryPoints",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Vectors")]
        ),
        // Unit suites of the log layer, which see StreamStoreLog and the format only.
        .testTarget(
            name: "StreamStoreLogTests",
            dependencies: [
                "StreamStoreLog", "StreamStoreFormat", "StreamStoreTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "StreamStoreKafkaTests",
            dependencies: [
                "StreamStoreKafka", "StreamStore", "StreamStoreLog", "StreamStoreFormat", "StreamStoreTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Requests real clients sent, read from the source tree by ClientRequestTests.
            exclude: ["ClientRequests"]
        ),
        // The outbox and inbox on SQLite, and their crash tests (a child killed with SIGKILL).
        .testTarget(
            name: "StreamStoreOutboxTests",
            dependencies: [
                "StreamStoreOutbox", "StreamStore", "StreamStoreTestSupport", "stream-outbox-crash-child",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Request-reply and sagas: concurrency, deadlines, a model of the saga state machine, and
        // crash tests with a child killed with SIGKILL.
        .testTarget(
            name: "StreamStoreMessagingTests",
            dependencies: [
                "StreamStoreMessaging", "StreamStore", "StreamStoreTestSupport", "stream-messaging-crash-child",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        // README.md's Swift examples, compiled (ReadmeSnippetFileTests keeps the file current).
        .testTarget(
            name: "ReadmeSnippetTests",
            dependencies: [
                "StreamStore", "StreamStoreOutbox", "StreamStoreMessaging",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "StreamToolTests",
            dependencies: [
                "stream-tool", "StreamStore", "StreamStoreTestSupport", "StreamStoreOutbox",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            // Golden help texts, read from the source tree by HelpTextTests.
            exclude: ["HelpGoldens"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
