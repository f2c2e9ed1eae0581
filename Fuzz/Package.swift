// swift-tools-version: 6.1
// libFuzzer targets for StreamStore, in a package of their own: each target is an executable
// without a `main` (libFuzzer brings one), which builds only with `--sanitize fuzzer` and one
// `--product` at a time, so none of this may sit in the root package that `swift build` and
// `swift test` build whole. Run from the repository root with `make fuzz` (see Fuzz/README.md).
import PackageDescription

let store: Target.Dependency = .product(name: "StreamStore", package: "StreamStore")
let entryPoints: Target.Dependency = .product(name: "StreamStoreFuzzEntryPoints", package: "StreamStore")

let package = Package(
    name: "StreamStoreFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` is needed: without it the identity is the clone folder's name.
        .package(name: "StreamStore", path: ".."),
        // ByteBuffer, for the Kafka request target; the same package the root resolves.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        // What the targets share: temporary folders, seed stores and logs, an independent batch
        // walker, checks that report through libFuzzer, the writing of the seed corpus. Each
        // target writes its own seeds (Fuzz/Corpus/<target>) when STREAMSTORE_FUZZ_WRITE_CORPUS
        // names a folder: `make fuzz-corpus`.
        .target(name: "FuzzSupport", dependencies: [store, entryPoints]),
        // libzstd, for a seed whose zstd frame declares no content size.
        .systemLibrary(name: "CZstdSeeds", pkgConfig: "libzstd"),
        .executableTarget(name: "FuzzBatchDecoder", dependencies: ["FuzzSupport", "CZstdSeeds", store, entryPoints]),
        .executableTarget(name: "FuzzIndexValidation", dependencies: ["FuzzSupport", store, entryPoints]),
        .executableTarget(name: "FuzzSegmentRecovery", dependencies: ["FuzzSupport", store, entryPoints]),
        .executableTarget(
            name: "FuzzJSONLine",
            dependencies: ["FuzzSupport", entryPoints]),
        .executableTarget(
            name: "FuzzKafkaRequest",
            dependencies: [
                "FuzzSupport", store, .product(name: "StreamStoreKafka", package: "StreamStore"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
