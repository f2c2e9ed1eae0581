/*
 * RocksDB through its C API: default options but no compression (the values are random, so
 * compression would only cost CPU), 8-byte big-endian sequential keys, one WriteBatch of
 * --batch-records puts per rocksdb_write with the WAL on; --sync 1 sets WriteOptions.sync (an
 * fsync of the WAL per write). Read back: an iterator from the first key, every value's bytes
 * touched. Latency: per rocksdb_write. Background flushes and compactions run as they would.
 *
 *   rocksdb_peer --dir DIR [--sync 0|1] [--records N] [--record-bytes B] [--batch-records K]
 */
#include "common.h"

#include <rocksdb/c.h>

static void check(char *error, const char *what) {
    if (error) die("rocksdb %s: %s", what, error);
}

int main(int argc, char **argv) {
    bench_options o = bench_parse(argc, argv);
    int sync = (int)opt_long(argc, argv, "--sync", 0);
    if (!o.dir) die("--dir is required");
    value_pool pool = pool_make(o.record_bytes);

    rocksdb_options_t *options = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(options, 1);
    rocksdb_options_set_compression(options, rocksdb_no_compression);
    char *error = NULL;
    rocksdb_t *db = rocksdb_open(options, o.dir, &error);
    check(error, "open");
    rocksdb_writeoptions_t *write_options = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(write_options, (unsigned char)(sync ? 1 : 0));
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create();
    latencies commits;
    lat_init(&commits, o.records / o.batch + 1);

    uint8_t key[8];
    uint64_t start = now_ns();
    for (long first = 0; first < o.records; first += o.batch) {
        long end = first + o.batch < o.records ? first + o.batch : o.records;
        rocksdb_writebatch_clear(batch);
        for (long i = first; i < end; i++) {
            key_be64(key, (uint64_t)i);
            rocksdb_writebatch_put(batch, (const char *)key, 8, (const char *)pool_value(&pool, i), (size_t)o.record_bytes);
        }
        uint64_t t0 = now_ns();
        rocksdb_write(db, write_options, batch, &error);
        check(error, "write");
        lat_add(&commits, now_ns() - t0);
    }
    uint64_t write_ns = now_ns() - start;

    rocksdb_readoptions_t *read_options = rocksdb_readoptions_create();
    long seen = 0;
    uint64_t bytes = 0, sum = 0;
    start = now_ns();
    rocksdb_iterator_t *it = rocksdb_create_iterator(db, read_options);
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t n;
        const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &n);
        sum += v[0] + v[n - 1];
        bytes += n;
        seen++;
    }
    rocksdb_iter_get_error(it, &error);
    check(error, "iterate");
    rocksdb_iter_destroy(it);
    uint64_t read_ns = now_ns() - start;
    if (seen != o.records) die("read %ld records, wrote %ld", seen, o.records);

    rocksdb_writebatch_destroy(batch);
    rocksdb_readoptions_destroy(read_options);
    rocksdb_writeoptions_destroy(write_options);
    rocksdb_close(db);
    rocksdb_options_destroy(options);

    char w[200], r[200], l[300];
    printf("{\"peer\":\"rocksdb\",\"variant\":\"%s\",\"records\":%ld,\"recordBytes\":%ld,"
           "\"batchRecords\":%ld,\"checksum\":%llu,\"write\":%s,\"read\":%s,\"commitLatencyMs\":%s}\n",
           sync ? "WAL, sync write" : "WAL, no sync", o.records,
           o.record_bytes, o.batch, (unsigned long long)sum,
           rate_json(w, sizeof w, write_ns, o.records, (double)o.records * o.record_bytes),
           rate_json(r, sizeof r, read_ns, seen, (double)bytes), lat_json(&commits, l, sizeof l));
    return 0;
}
