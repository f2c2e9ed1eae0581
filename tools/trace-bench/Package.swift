// swift-tools-version: 6.1
// Trace measurements on stores of millions of records (README, "Measured"): fills a store with
// flows of events and times Store.trace on it; measure.py runs it and prints medians. A package
// of its own, depending on the root by path, so the library never builds it.
import PackageDescription

let package = Package(
    name: "trace-bench",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "StreamStore", path: "../..")],
    targets: [
        .executableTarget(name: "trace-bench", dependencies: [.product(name: "StreamStore", package: "StreamStore")])
    ],
    swiftLanguageModes: [.v6]
)
