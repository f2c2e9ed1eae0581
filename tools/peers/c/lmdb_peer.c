/*
 * LMDB through its C API: sequential 8-byte big-endian keys put with MDB_APPEND, one write
 * transaction per batch. --sync 0 opens the environment with MDB_NOSYNC (the OS writes back);
 * --sync 1 keeps LMDB's default, a durable commit (fdatasync) per transaction. Read back: one
 * read transaction and a cursor from the first key, every value's bytes touched. Latency: per
 * mdb_txn_commit.
 *
 *   lmdb_peer --dir DIR [--sync 0|1] [--records N] [--record-bytes B] [--batch-records K]
 */
#include "common.h"

#include <lmdb.h>

static void check(int rc, const char *what) {
    if (rc != MDB_SUCCESS) die("lmdb %s: %s", what, mdb_strerror(rc));
}

int main(int argc, char **argv) {
    bench_options o = bench_parse(argc, argv);
    int sync = (int)opt_long(argc, argv, "--sync", 0);
    if (!o.dir) die("--dir is required");
    value_pool pool = pool_make(o.record_bytes);

    MDB_env *env;
    check(mdb_env_create(&env), "env_create");
    /* Room for the data twice over: the map is sparse until written. */
    size_t map = (size_t)o.records * (size_t)(o.record_bytes + 64) * 2 + (1ull << 30);
    check(mdb_env_set_mapsize(env, map), "set_mapsize");
    check(mdb_env_open(env, o.dir, (sync ? 0 : MDB_NOSYNC) | MDB_NOTLS, 0600), "env_open");
    MDB_dbi dbi;
    MDB_txn *txn;
    check(mdb_txn_begin(env, NULL, 0, &txn), "txn_begin");
    check(mdb_dbi_open(txn, NULL, 0, &dbi), "dbi_open");
    check(mdb_txn_commit(txn), "commit");
    latencies commits;
    lat_init(&commits, o.records / o.batch + 1);

    uint8_t key_bytes[8];
    uint64_t start = now_ns();
    for (long first = 0; first < o.records; first += o.batch) {
        long end = first + o.batch < o.records ? first + o.batch : o.records;
        check(mdb_txn_begin(env, NULL, 0, &txn), "txn_begin");
        for (long i = first; i < end; i++) {
            key_be64(key_bytes, (uint64_t)i);
            MDB_val key = {8, key_bytes};
            MDB_val value = {(size_t)o.record_bytes, (void *)pool_value(&pool, i)};
            check(mdb_put(txn, dbi, &key, &value, MDB_APPEND), "put");
        }
        uint64_t t0 = now_ns();
        check(mdb_txn_commit(txn), "commit");
        lat_add(&commits, now_ns() - t0);
    }
    uint64_t write_ns = now_ns() - start;

    long seen = 0;
    uint64_t bytes = 0, sum = 0;
    start = now_ns();
    check(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "txn_begin");
    MDB_cursor *cursor;
    check(mdb_cursor_open(txn, dbi, &cursor), "cursor_open");
    MDB_val key, value;
    int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
    while (rc == MDB_SUCCESS) {
        const uint8_t *v = value.mv_data;
        sum += v[0] + v[value.mv_size - 1];
        bytes += value.mv_size;
        seen++;
        rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    uint64_t read_ns = now_ns() - start;
    if (rc != MDB_NOTFOUND) check(rc, "cursor_get");
    if (seen != o.records) die("read %ld records, wrote %ld", seen, o.records);
    mdb_env_close(env);

    int major, minor, patch;
    mdb_version(&major, &minor, &patch);
    char w[200], r[200], l[300];
    printf("{\"peer\":\"lmdb\",\"variant\":\"%s\",\"version\":\"%d.%d.%d\",\"records\":%ld,\"recordBytes\":%ld,"
           "\"batchRecords\":%ld,\"checksum\":%llu,\"write\":%s,\"read\":%s,\"commitLatencyMs\":%s}\n",
           sync ? "sync commit" : "MDB_NOSYNC", major, minor, patch, o.records, o.record_bytes, o.batch,
           (unsigned long long)sum, rate_json(w, sizeof w, write_ns, o.records, (double)o.records * o.record_bytes),
           rate_json(r, sizeof r, read_ns, seen, (double)bytes), lat_json(&commits, l, sizeof l));
    return 0;
}
