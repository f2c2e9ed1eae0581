/*
 * Reads a Redis stream back with XRANGE through hiredis, --batch-records entries per call,
 * each call starting after the last id seen (an exclusive range), as a consumer would page
 * through it. Every entry's value bytes are touched; the count and bytes must match what was
 * written (redis-benchmark wrote it: tools/peers/run.py).
 *
 *   redis_read --port P --key KEY --records N --record-bytes B [--batch-records K]
 */
#include "common.h"

#include <hiredis/hiredis.h>

int main(int argc, char **argv) {
    bench_options o = bench_parse(argc, argv);
    long port = opt_long(argc, argv, "--port", 6379);
    const char *key = opt_str(argc, argv, "--key", "bench");
    redisContext *c = redisConnect("127.0.0.1", (int)port);
    if (!c || c->err) die("redis connect: %s", c ? c->errstr : "out of memory");

    char start_id[64] = "-";
    long seen = 0;
    uint64_t bytes = 0, sum = 0;
    double cpu0 = cpu_seconds();
    uint64_t start = now_ns();
    for (;;) {
        redisReply *reply = redisCommand(c, "XRANGE %s %s + COUNT %ld", key, start_id, o.batch);
        if (!reply) die("redis XRANGE: %s", c->errstr);
        if (reply->type != REDIS_REPLY_ARRAY) die("redis XRANGE: unexpected reply type %d", reply->type);
        if (reply->elements == 0) {
            freeReplyObject(reply);
            break;
        }
        for (size_t i = 0; i < reply->elements; i++) {
            redisReply *entry = reply->element[i];
            redisReply *fields = entry->element[1];
            for (size_t f = 1; f < fields->elements; f += 2) {
                redisReply *value = fields->element[f];
                sum += (uint8_t)value->str[0] + (uint8_t)value->str[value->len - 1];
                bytes += value->len;
            }
            seen++;
        }
        redisReply *last = reply->element[reply->elements - 1]->element[0];
        snprintf(start_id, sizeof start_id, "(%.*s", (int)last->len, last->str);
        freeReplyObject(reply);
    }
    uint64_t read_ns = now_ns() - start;
    double cpu = cpu_seconds() - cpu0;
    redisFree(c);
    if (seen != o.records) die("read %ld entries, expected %ld", seen, o.records);
    if (bytes != (uint64_t)o.records * (uint64_t)o.record_bytes) die("read %llu value bytes", (unsigned long long)bytes);

    char r[200];
    printf("{\"peer\":\"redis-reader\",\"records\":%ld,\"recordBytes\":%ld,\"batchRecords\":%ld,\"checksum\":%llu,"
           "\"clientCpuSeconds\":%.3f,\"read\":%s}\n",
           seen, o.record_bytes, o.batch, (unsigned long long)sum, cpu,
           rate_json(r, sizeof r, read_ns, seen, (double)bytes));
    return 0;
}
