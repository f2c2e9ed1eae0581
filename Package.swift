// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "StreamStore",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "StreamStore", targets: ["StreamStore"]),
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
    ],
    targets: [
        .target(name: "CStreamStoreShims"),
        // libzstd through pkg-config; `make run` and `make test` install libzstd-dev when missing.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(
            name: "StreamStore",
            dependencies: [
                "CStreamStoreShims",
                "CZstd",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "StreamToolSupport",
            dependencies: ["StreamStore"]
        ),
        .executableTarget(
            name: "stream-tool",
            dependencies: [
                "StreamStore",
                "StreamToolSupport",
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
        .testTarget(
            name: "StreamStoreTests",
            dependencies: [
                "StreamStore", "CStreamStoreShims", "stream-crash-child",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Vectors")]
        ),
        .testTarget(
            name: "StreamToolTests",
            dependencies: ["stream-tool", "StreamStore"],
            // Golden help texts, read from the source tree by HelpTextTests.
            exclude: ["HelpGoldens"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
