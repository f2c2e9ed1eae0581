/*
 * The raw disk under the other peers, through the page cache as they use it:
 *   - buffered write: --mib MiB in 1 MiB write(2) calls into a new file (no sync);
 *   - page-cache read: that file read back in 1 MiB read(2) calls;
 *   - write with fdatasync per MiB: --sync-mib MiB, an fdatasync after every 1 MiB write;
 *   - fsync latency: --fsyncs appends of 4 KiB, each followed by fdatasync.
 * Latencies are per fdatasync call.
 *
 *   raw --dir DIR [--mib 1024] [--sync-mib 256] [--fsyncs 1000]
 */
#include "common.h"

int main(int argc, char **argv) {
    const char *dir = opt_str(argc, argv, "--dir", NULL);
    long mib = opt_long(argc, argv, "--mib", 1024);
    long sync_mib = opt_long(argc, argv, "--sync-mib", 256);
    long fsyncs = opt_long(argc, argv, "--fsyncs", 1000);
    if (!dir) die("--dir is required");
    const size_t chunk = 1u << 20;
    value_pool pool = pool_make(chunk);   /* one random MiB */
    uint8_t *buffer = pool.bytes;
    char *path = path_join(dir, "raw-write");
    char *sync_path = path_join(dir, "raw-sync");
    char *small_path = path_join(dir, "raw-4k");

    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) die("open %s: %s", path, strerror(errno));
    uint64_t start = now_ns();
    for (long i = 0; i < mib; i++) write_all(fd, buffer, chunk);
    uint64_t write_ns = now_ns() - start;
    close(fd);

    fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *in = malloc(chunk);
    uint64_t total = 0, sum = 0;
    start = now_ns();
    for (;;) {
        ssize_t n = read(fd, in, chunk);
        if (n < 0) die("read: %s", strerror(errno));
        if (n == 0) break;
        total += (uint64_t)n;
        sum += in[0] + in[n - 1];
    }
    uint64_t read_ns = now_ns() - start;
    close(fd);
    if (total != (uint64_t)mib * chunk) die("read %llu bytes, wrote %ld MiB", (unsigned long long)total, mib);
    unlink(path);

    latencies per_mib;
    lat_init(&per_mib, sync_mib);
    fd = open(sync_path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) die("open %s: %s", sync_path, strerror(errno));
    start = now_ns();
    for (long i = 0; i < sync_mib; i++) {
        write_all(fd, buffer, chunk);
        uint64_t t0 = now_ns();
        if (fdatasync(fd) != 0) die("fdatasync: %s", strerror(errno));
        lat_add(&per_mib, now_ns() - t0);
    }
    uint64_t sync_ns = now_ns() - start;
    close(fd);
    unlink(sync_path);

    latencies small;
    lat_init(&small, fsyncs);
    fd = open(small_path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) die("open %s: %s", small_path, strerror(errno));
    for (long i = 0; i < fsyncs; i++) {
        write_all(fd, buffer + (i % 256) * 4096, 4096);
        uint64_t t0 = now_ns();
        if (fdatasync(fd) != 0) die("fdatasync: %s", strerror(errno));
        lat_add(&small, now_ns() - t0);
    }
    close(fd);
    unlink(small_path);

    char w[200], r[200], s[200], l1[300], l2[300];
    printf("{\"peer\":\"raw\",\"variant\":\"1 MiB I/O\",\"bytes\":%llu,\"syncBytes\":%llu,\"checksum\":%llu,"
           "\"write\":%s,\"read\":%s,\"writeFsyncPerMiB\":%s,\"fsyncPerMiBLatencyMs\":%s,\"fsync4KiBLatencyMs\":%s}\n",
           (unsigned long long)total, (unsigned long long)sync_mib * chunk, (unsigned long long)sum,
           rate_json(w, sizeof w, write_ns, mib, (double)mib * chunk),
           rate_json(r, sizeof r, read_ns, mib, (double)total),
           rate_json(s, sizeof s, sync_ns, sync_mib, (double)sync_mib * chunk),
           lat_json(&per_mib, l1, sizeof l1), lat_json(&small, l2, sizeof l2));
    return 0;
}
