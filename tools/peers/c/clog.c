/*
 * The floor: a minimal append-only log with a CRC32C per record, written with plain write(2)
 * into the page cache and read back with read(2), every CRC checked.
 *
 * Record: length (u32, little-endian), CRC32C of the value (u32), the value. Appends build a
 * batch of records in one buffer and write it with one write(2). With --sync 1, an fdatasync
 * follows every batch (one latency sample per batch). Reads go through 4 MiB read(2) calls.
 *
 *   clog --dir DIR [--records N] [--record-bytes B] [--batch-records K] [--sync 0|1]
 */
#include "common.h"

#include <cpuid.h>
#include <nmmintrin.h>

static uint32_t crc_table[8][256];

static void crc_table_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}

static uint32_t crc32c_table(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c;
        c = crc_table[7][w & 0xFF] ^ crc_table[6][(w >> 8) & 0xFF] ^ crc_table[5][(w >> 16) & 0xFF] ^
            crc_table[4][(w >> 24) & 0xFF] ^ crc_table[3][(w >> 32) & 0xFF] ^ crc_table[2][(w >> 40) & 0xFF] ^
            crc_table[1][(w >> 48) & 0xFF] ^ crc_table[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xFF];
    return ~c;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(const uint8_t *p, size_t n) {
    uint64_t c = 0xFFFFFFFFu;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}

static int use_hw;

static inline uint32_t crc32c(const uint8_t *p, size_t n) {
    return use_hw ? crc32c_hw(p, n) : crc32c_table(p, n);
}

int main(int argc, char **argv) {
    bench_options o = bench_parse(argc, argv);
    int sync = (int)opt_long(argc, argv, "--sync", 0);
    if (!o.dir) die("--dir is required");
    unsigned a, b, c, d;
    use_hw = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
    crc_table_init();
    if (crc32c((const uint8_t *)"123456789", 9) != 0xE3069283u) die("CRC32C self-check failed");

    value_pool pool = pool_make(o.record_bytes);
    char *path = path_join(o.dir, "log");
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) die("open %s: %s", path, strerror(errno));
    size_t record_size = 8 + (size_t)o.record_bytes;
    uint8_t *batch = malloc(record_size * (size_t)o.batch);
    latencies commits;
    lat_init(&commits, o.records / o.batch + 1);

    uint64_t start = now_ns();
    for (long first = 0; first < o.records; first += o.batch) {
        long count = o.records - first < o.batch ? o.records - first : o.batch;
        uint8_t *p = batch;
        for (long i = first; i < first + count; i++) {
            const uint8_t *value = pool_value(&pool, i);
            uint32_t length = (uint32_t)o.record_bytes, crc = crc32c(value, (size_t)o.record_bytes);
            memcpy(p, &length, 4);
            memcpy(p + 4, &crc, 4);
            memcpy(p + 8, value, (size_t)o.record_bytes);
            p += record_size;
        }
        uint64_t t0 = now_ns();
        write_all(fd, batch, (size_t)(p - batch));
        if (sync) {
            if (fdatasync(fd) != 0) die("fdatasync: %s", strerror(errno));
            lat_add(&commits, now_ns() - t0);
        }
    }
    uint64_t write_ns = now_ns() - start;
    close(fd);

    /* Read back: 4 MiB read(2) calls, every record's CRC checked. */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open %s: %s", path, strerror(errno));
    size_t chunk = 4u << 20;
    uint8_t *buffer = malloc(chunk + record_size);
    long seen = 0;
    uint64_t seen_bytes = 0;
    size_t have = 0;
    start = now_ns();
    for (;;) {
        ssize_t n = read(fd, buffer + have, chunk + record_size - have);
        if (n < 0) die("read: %s", strerror(errno));
        if (n == 0) break;
        have += (size_t)n;
        size_t at = 0;
        while (have - at >= 8) {
            uint32_t length, crc;
            memcpy(&length, buffer + at, 4);
            memcpy(&crc, buffer + at + 4, 4);
            if (have - at < 8 + (size_t)length) break;
            if (crc32c(buffer + at + 8, length) != crc) die("CRC mismatch at record %ld", seen);
            seen++;
            seen_bytes += length;
            at += 8 + length;
        }
        memmove(buffer, buffer + at, have - at);
        have -= at;
    }
    uint64_t read_ns = now_ns() - start;
    close(fd);
    if (seen != o.records || have != 0) die("read %ld records, wrote %ld", seen, o.records);
    unlink(path);

    char w[200], r[200], l[300];
    double bytes = (double)o.records * (double)o.record_bytes;
    printf("{\"peer\":\"clog\",\"variant\":\"%s\",\"records\":%ld,\"recordBytes\":%ld,\"batchRecords\":%ld,"
           "\"crc\":\"%s\",\"write\":%s,\"read\":%s,\"commitLatencyMs\":%s}\n",
           sync ? "fdatasync per batch" : "page cache", o.records, o.record_bytes, o.batch,
           use_hw ? "sse4.2" : "table", rate_json(w, sizeof w, write_ns, o.records, bytes),
           rate_json(r, sizeof r, read_ns, seen, (double)seen_bytes), lat_json(&commits, l, sizeof l));
    return 0;
}
