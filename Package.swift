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
        // The CLI's text formats (JSON lines, base64, ISO 8601), a library so the fuzz targets in
        // Fuzz/ can drive them; not part of the engine's API.
        .library(name: "StreamToolSupport", targets: ["StreamToolSupport"]),
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
    ],
    targets: [
        .target(name: "CStreamStoreShims"),
        // libzstd through pkg-config; `make run` and `make test` install libzstd-dev when missing.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
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
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Doors into the format and log layers for the libFuzzer targets in Fuzz/ (a package of
        // its own, so it needs public entry points); nothing else depends on it.
        .target(
            name: "StreamStoreFuzzEntryPoints",
            dependencies: ["StreamStoreFormat", "StreamStoreLog"]
        ),
        .target(
            name: "StreamToolSupport",
            dependencies: ["StreamStore"]
        ),
        .executableTarget(
            name: "stream-tool",
            dependencies: [
                "StreamStore", "StreamStoreInspect", "StreamStoreLog", "StreamStoreFormat",
                "StreamToolSupport", "StreamStoreKafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
        // What the test targets share: events a test waits on, the poll of last resort, tags, and
        // the real file system for test file systems that watch a few calls.
        .target(name: "StreamStoreTestSupport", dependencies: ["StreamStoreLog"], path: "Tests/StreamStoreTestSupport"),
        .testTarget(
            name: "StreamStoreTests",
            dependencies: [
                "StreamStore", "StreamStoreLog", "StreamStoreFormat", "StreamStoreInspect", "CStreamStoreShims", "stream-crash-child",
                "StreamStoreTestSupport",
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
                "StreamStoreKafka", "StreamStore", "StreamStoreLog", "StreamStoreFormat",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "StreamToolTests",
            dependencies: ["stream-tool", "StreamStore", "StreamStoreTestSupport"],
            // Golden help texts, read from the source tree by HelpTextTests.
            exclude: ["HelpGoldens"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
