#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StreamStore

/// The process's open-files limit (RLIMIT_NOFILE), which a server holding thousands of
/// connections needs above the usual soft default of 1,024.
enum OpenFilesLimit {
    /// Raises the soft limit to `wanted`, or to the hard limit when that is lower; returns the
    /// soft limit in force afterwards (nil when it cannot be read).
    @discardableResult
    static func raise(to wanted: Int) -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let target = min(rlim_t(wanted), limit.rlim_max)
        if limit.rlim_cur < target {
            limit.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 { _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) }
        }
        return Int(clamping: limit.rlim_cur)
    }
}
