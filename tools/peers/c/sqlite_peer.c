/*
 * SQLite through its C API: WAL journal, one table (id INTEGER PRIMARY KEY, v BLOB), a prepared
 * INSERT with sequential ids, one transaction per batch; --synchronous OFF, NORMAL or FULL.
 * Read back: SELECT id, v ORDER BY id, every value's bytes touched. Latency: per COMMIT.
 *
 *   sqlite_peer --dir DIR --synchronous OFF|NORMAL|FULL [--records N] [--record-bytes B] [--batch-records K]
 */
#include "common.h"

#include <sqlite3.h>

static void check(sqlite3 *db, int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) die("sqlite %s: %s", what, sqlite3_errmsg(db));
}

static void exec(sqlite3 *db, const char *sql) {
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK) die("sqlite %s: %s", sql, message);
}

int main(int argc, char **argv) {
    bench_options o = bench_parse(argc, argv);
    const char *synchronous = opt_str(argc, argv, "--synchronous", "OFF");
    if (!o.dir) die("--dir is required");
    if (strcmp(synchronous, "OFF") && strcmp(synchronous, "NORMAL") && strcmp(synchronous, "FULL"))
        die("--synchronous must be OFF, NORMAL or FULL");
    value_pool pool = pool_make(o.record_bytes);
    char *path = path_join(o.dir, "bench.sqlite");
    sqlite3 *db;
    check(NULL, sqlite3_open(path, &db), "open");
    exec(db, "PRAGMA journal_mode=WAL");
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s", synchronous);
    exec(db, pragma);
    exec(db, "CREATE TABLE log(id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    sqlite3_stmt *insert, *begin, *commit;
    check(db, sqlite3_prepare_v2(db, "INSERT INTO log(id, v) VALUES(?, ?)", -1, &insert, NULL), "prepare");
    check(db, sqlite3_prepare_v2(db, "BEGIN", -1, &begin, NULL), "prepare");
    check(db, sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL), "prepare");
    latencies commits;
    lat_init(&commits, o.records / o.batch + 1);

    uint64_t start = now_ns();
    for (long first = 0; first < o.records; first += o.batch) {
        long end = first + o.batch < o.records ? first + o.batch : o.records;
        check(db, sqlite3_step(begin), "BEGIN");
        sqlite3_reset(begin);
        for (long i = first; i < end; i++) {
            sqlite3_bind_int64(insert, 1, i);
            sqlite3_bind_blob(insert, 2, pool_value(&pool, i), (int)o.record_bytes, SQLITE_STATIC);
            check(db, sqlite3_step(insert), "INSERT");
            sqlite3_reset(insert);
        }
        uint64_t t0 = now_ns();
        check(db, sqlite3_step(commit), "COMMIT");
        sqlite3_reset(commit);
        lat_add(&commits, now_ns() - t0);
    }
    uint64_t write_ns = now_ns() - start;

    sqlite3_stmt *select;
    check(db, sqlite3_prepare_v2(db, "SELECT id, v FROM log ORDER BY id", -1, &select, NULL), "prepare");
    long seen = 0;
    uint64_t bytes = 0, sum = 0;
    start = now_ns();
    int rc;
    while ((rc = sqlite3_step(select)) == SQLITE_ROW) {
        const uint8_t *v = sqlite3_column_blob(select, 1);
        int n = sqlite3_column_bytes(select, 1);
        if (sqlite3_column_int64(select, 0) != seen) die("out of order at %ld", seen);
        sum += v[0] + v[n - 1];
        bytes += (uint64_t)n;
        seen++;
    }
    uint64_t read_ns = now_ns() - start;
    check(db, rc, "SELECT");
    if (seen != o.records) die("read %ld records, wrote %ld", seen, o.records);
    sqlite3_finalize(select);
    sqlite3_finalize(insert);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);

    char w[200], r[200], l[300];
    printf("{\"peer\":\"sqlite\",\"variant\":\"WAL, synchronous=%s\",\"version\":\"%s\",\"records\":%ld,\"recordBytes\":%ld,"
           "\"batchRecords\":%ld,\"checksum\":%llu,\"write\":%s,\"read\":%s,\"commitLatencyMs\":%s}\n",
           synchronous, sqlite3_libversion(), o.records, o.record_bytes, o.batch, (unsigned long long)sum,
           rate_json(w, sizeof w, write_ns, o.records, (double)o.records * o.record_bytes),
           rate_json(r, sizeof r, read_ns, seen, (double)bytes), lat_json(&commits, l, sizeof l));
    return 0;
}
