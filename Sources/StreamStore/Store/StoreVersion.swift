import StreamStoreFormat

extension Store {
    /// The version of StreamStore this build is: what `stream-tool --version` prints and what
    /// a store logs when it opens, so logs say which build wrote a store. Semantic versioning;
    /// CHANGELOG.md lists what each version changed.
    public static let version = "0.9.0"
}
