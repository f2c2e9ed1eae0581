#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The committed seed corpus (Fuzz/Corpus/<target>/): a few small inputs per target made from
/// real data the engine wrote, so fuzzing starts past the format's first checks.
///
/// Every target calls ``writeIfRequested(_:)`` from `LLVMFuzzerInitialize`: when the environment
/// variable `STREAMSTORE_FUZZ_WRITE_CORPUS` names a folder, the target writes its seeds there and
/// exits instead of fuzzing. The seeds are thus made by the same build that fuzzes them.
public enum SeedCorpus {
    public static let environmentVariable = "STREAMSTORE_FUZZ_WRITE_CORPUS"

    public static func writeIfRequested(_ makeSeeds: () throws -> [(name: String, bytes: [UInt8])]) {
        guard let value = getenv(environmentVariable), case let folder = String(cString: value), !folder.isEmpty else { return }
        do {
            PosixFiles.makeFolders(folder)
            for name in PosixFiles.list(folder) { PosixFiles.remove(folder + "/" + name) }
            for seed in try makeSeeds() {
                PosixFiles.write(seed.bytes, to: folder + "/" + seed.name)
                print("\(folder)/\(seed.name): \(seed.bytes.count) bytes")
            }
        } catch {
            fatalError("cannot write the seed corpus: \(error)")
        }
        exit(0)
    }
}
