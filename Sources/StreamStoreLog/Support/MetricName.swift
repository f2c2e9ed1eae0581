/// The names of the metrics the store reports (README, "Metrics and logging"). Counters end in
/// `_total`, sizes in `_bytes`, durations in `_seconds`, as Prometheus names them.
package enum MetricName {
    package static let appendedRecords = "streamstore_appended_records_total"
    package static let appendedBytes = "streamstore_appended_bytes_total"
    package static let appendedBatches = "streamstore_appended_batches_total"
    package static let fsyncs = "streamstore_fsyncs_total"
    package static let fsyncDuration = "streamstore_fsync_duration_seconds"
    package static let recoveryTruncations = "streamstore_recovery_truncations_total"
    package static let recoveryTruncatedBytes = "streamstore_recovery_truncated_bytes_total"
    package static let duplicateBatches = "streamstore_duplicate_batches_total"
    package static let dedupeHits = "streamstore_dedupe_hits_total"
    package static let deadLetters = "streamstore_dead_letters_total"
    package static let consumerLag = "streamstore_consumer_lag_records"
}
