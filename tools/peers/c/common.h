/*
 * Shared by the peer benchmark programs in tools/peers/c: options, the clock, the values every
 * peer writes, latency percentiles and the one JSON line each program prints.
 *
 * Every program times itself with CLOCK_MONOTONIC around the work only (no process start, no
 * setup), and prints one JSON object on stdout. Values: a pool of distinct pseudo-random values
 * (at most 4,096 and about 64 MiB, like `stream-tool bench --payload random`), cycled through,
 * so nothing gains from compressing or de-duplicating identical values.
 */
#ifndef PEERS_COMMON_H
#define PEERS_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static __attribute__((unused)) inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static __attribute__((unused)) void die(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs("error: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

/* `--name VALUE` from argv, or the default. */
static __attribute__((unused)) const char *opt_str(int argc, char **argv, const char *name, const char *fallback) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return fallback;
}

static __attribute__((unused)) long opt_long(int argc, char **argv, const char *name, long fallback) {
    const char *text = opt_str(argc, argv, name, NULL);
    if (!text) return fallback;
    char *end;
    long value = strtol(text, &end, 10);
    if (*end != '\0') die("%s wants a number, not \"%s\"", name, text);
    return value;
}

/* The common options: --records N --record-bytes B --batch-records K --dir DIR. */
typedef struct {
    long records;
    long record_bytes;
    long batch;
    const char *dir;
} bench_options;

static __attribute__((unused)) bench_options bench_parse(int argc, char **argv) {
    bench_options o;
    o.records = opt_long(argc, argv, "--records", 1000000);
    o.record_bytes = opt_long(argc, argv, "--record-bytes", 100);
    o.batch = opt_long(argc, argv, "--batch-records", 1000);
    o.dir = opt_str(argc, argv, "--dir", NULL);
    if (o.records <= 0 || o.record_bytes <= 0 || o.batch <= 0) die("records, record bytes and batch must be positive");
    return o;
}

/* ---- Values ---- */

typedef struct {
    uint8_t *bytes;
    long size;
    long mask;
} value_pool;

static __attribute__((unused)) value_pool pool_make(long size) {
    value_pool p;
    long count = 1;
    long fit = (64l << 20) / size;
    if (fit < 1) fit = 1;
    while (count * 2 <= 4096 && count * 2 <= fit) count *= 2;
    p.size = size;
    p.mask = count - 1;
    p.bytes = malloc((size_t)(count * size));
    if (!p.bytes) die("out of memory for the value pool");
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (long i = 0; i < count * size; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        p.bytes[i] = (uint8_t)(state >> 24);
    }
    return p;
}

static __attribute__((unused)) inline const uint8_t *pool_value(const value_pool *p, long index) {
    return p->bytes + (index & p->mask) * p->size;
}

/* Big-endian 8-byte keys: sorted byte-wise as the integers are. */
static __attribute__((unused)) inline void key_be64(uint8_t out[8], uint64_t v) {
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* ---- Latencies ---- */

typedef struct {
    uint64_t *samples;
    long count;
    long capacity;
} latencies;

static __attribute__((unused)) void lat_init(latencies *l, long capacity) {
    l->count = 0;
    l->capacity = capacity > 0 ? capacity : 1;
    l->samples = malloc(sizeof(uint64_t) * (size_t)l->capacity);
    if (!l->samples) die("out of memory for latencies");
}

static __attribute__((unused)) inline void lat_add(latencies *l, uint64_t ns) {
    if (l->count == l->capacity) {
        l->capacity *= 2;
        l->samples = realloc(l->samples, sizeof(uint64_t) * (size_t)l->capacity);
        if (!l->samples) die("out of memory for latencies");
    }
    l->samples[l->count++] = ns;
}

static __attribute__((unused)) int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank, as stream-tool bench does: the smallest sample with `fraction` at or below it. */
static __attribute__((unused)) double lat_at(const latencies *l, double fraction) {
    if (l->count == 0) return 0;
    long rank = (long)(fraction * (double)l->count + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > l->count) rank = l->count;
    return (double)l->samples[rank - 1] / 1e6;
}

/* `{"p50":..,"p99":..,"p99.9":..,"max":..,"samples":N}` in milliseconds, into `out`. */
static __attribute__((unused)) const char *lat_json(latencies *l, char *out, size_t size) {
    qsort(l->samples, (size_t)l->count, sizeof(uint64_t), cmp_u64);
    snprintf(out, size, "{\"p50\":%.4f,\"p99\":%.4f,\"p99.9\":%.4f,\"max\":%.4f,\"samples\":%ld}",
             lat_at(l, 0.50), lat_at(l, 0.99), lat_at(l, 0.999),
             l->count ? (double)l->samples[l->count - 1] / 1e6 : 0.0, l->count);
    return out;
}

/* ---- Rates and output ---- */

/* `{"seconds":..,"recordsPerSecond":..,"megabytesPerSecond":..}` (megabytes of values, 10^6 B). */
static __attribute__((unused)) const char *rate_json(char *out, size_t size, uint64_t ns, long records, double value_bytes) {
    double seconds = (double)ns / 1e9;
    if (seconds <= 0) seconds = 1e-9;
    snprintf(out, size, "{\"seconds\":%.6f,\"recordsPerSecond\":%.1f,\"megabytesPerSecond\":%.3f}",
             seconds, (double)records / seconds, value_bytes / 1e6 / seconds);
    return out;
}

/* User + system CPU seconds of this process so far. */
static __attribute__((unused)) double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
           usage.ru_stime.tv_usec / 1e6;
}

/* The user + system CPU seconds of process `pid` (a server), from /proc/PID/stat (fields 14
 * and 15); 0 without a pid or when it cannot be read. */
static __attribute__((unused)) double server_cpu(long pid) {
    if (pid <= 0) return 0;
    char path[64], text[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *p = strrchr(text, ')');
    if (!p) return 0;
    unsigned long long utime = 0, stime = 0;
    /* After ") ": state(3) ppid(4) ... utime is field 14, stime 15. */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* Joins `dir` and `name` into a fresh string. */
static __attribute__((unused)) char *path_join(const char *dir, const char *name) {
    size_t size = strlen(dir) + strlen(name) + 2;
    char *path = malloc(size);
    snprintf(path, size, "%s/%s", dir, name);
    return path;
}

static __attribute__((unused)) void write_all(int fd, const void *data, size_t size) {
    const uint8_t *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("write: %s", strerror(errno));
        }
        p += n;
        size -= (size_t)n;
    }
}

#endif
