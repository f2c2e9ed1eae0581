// swift-tools-version: 6.1
// The StreamStore benchmark suite (package-benchmark), kept in its own package so the library
// itself does not depend on the benchmark tooling. Run from the repository root with
// `make bench` (full size) or `make bench-smoke` (tiny sizes, a few iterations); see README.md.
import PackageDescription

let package = Package(
    name: "StreamStoreBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Only the MallocInterposer trait: the default traits also pull swift-runtime-interposer
        // (ARC counters on Linux/Swift 6.3), which is not mirrored here and not reliable on this VM.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // `name:` is needed: without it the identity is the clone folder's name.
        .package(name: "StreamStore", path: ".."),
        // The outbox workloads open the application's SQLite database themselves.
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
    ],
    targets: [
        // package-benchmark discovers benchmark executables whose sources sit in a folder whose
        // parent is named `Benchmarks` (here: Benchmarks/StreamStoreBenchmarks).
        .executableTarget(
            name: "StreamStoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "StreamStore", package: "StreamStore"),
                .product(name: "StreamStoreOutbox", package: "StreamStore"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "StreamStoreBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
