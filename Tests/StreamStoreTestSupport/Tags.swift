import Testing

extension Tag {
    /// Tests that take more than about two seconds on their own (child processes killed
    /// mid-write, long random runs, waiting out the CLI's lock wait). README, "Tests", says how
    /// to leave them out.
    @Tag package static var slow: Self
}
