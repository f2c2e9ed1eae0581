/*
 * NATS JetStream through the NATS C client (nats.c): one stream on file storage, asynchronous
 * publishes with acknowledgements, --batch-records at a time (js_PublishAsync for each record,
 * then js_PublishAsyncComplete waits for every ack of the batch: one latency sample per batch);
 * then read back with a durable pull consumer (ack policy none, from the start), fetching
 * --batch-records messages per request, every message's bytes touched.
 *
 * --mode core instead publishes the same records with core NATS (no JetStream, no stream, no
 * subscriber), then flushes: what this client can push through this server when storage is out
 * of the picture. It shows whether the client could be the bottleneck of the JetStream run.
 *
 * With --server-pid, the server's CPU seconds (utime + stime from /proc) are reported per phase
 * beside the client's own, to show which side of the socket is busy.
 *
 *   nats_peer --url nats://127.0.0.1:P [--mode js|core] [--server-pid PID] [--records N] ...
 */
#include "common.h"

#include <nats/nats.h>

static long errors;

static void on_publish_error(jsCtx *js, jsPubAckErr *pae, void *closure) {
    (void)js;
    (void)closure;
    if (__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED) == 0)
        fprintf(stderr, "nats publish error: %s (%d)\n", pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err), (int)pae->ErrCode);
}

static void check(natsStatus s, const char *what) {
    if (s != NATS_OK) die("nats %s: %s (%s)", what, natsStatus_GetText(s), nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
}

int main(int argc, char **argv) {
    bench_options o = bench_parse(argc, argv);
    const char *url = opt_str(argc, argv, "--url", "nats://127.0.0.1:4222");
    const char *mode = opt_str(argc, argv, "--mode", "js");
    long server_pid = opt_long(argc, argv, "--server-pid", 0);
    value_pool pool = pool_make(o.record_bytes);

    natsOptions *options;
    check(natsOptions_Create(&options), "options");
    check(natsOptions_SetURL(options, url), "url");
    check(natsOptions_SetIOBufSize(options, 1 << 20), "io buffer");
    check(natsOptions_SetMaxPendingMsgs(options, 1 << 20), "max pending");
    natsConnection *nc;
    check(natsConnection_Connect(&nc, options), "connect");
    char w[200], r[200], l[300];
    double bytes = (double)o.records * (double)o.record_bytes;

    if (strcmp(mode, "core") == 0) {
        double cpu0 = cpu_seconds(), server0 = server_cpu(server_pid);
        uint64_t start = now_ns();
        for (long i = 0; i < o.records; i++)
            check(natsConnection_Publish(nc, "core.bench", pool_value(&pool, i), (int)o.record_bytes), "publish");
        check(natsConnection_FlushTimeout(nc, 60000), "flush");
        uint64_t write_ns = now_ns() - start;
        double cpu = cpu_seconds() - cpu0, server = server_cpu(server_pid) - server0;
        printf("{\"peer\":\"nats\",\"variant\":\"core publish\",\"client\":\"nats.c %s\",\"records\":%ld,\"recordBytes\":%ld,"
               "\"write\":%s,\"clientCpuSeconds\":{\"write\":%.3f},\"serverCpuSeconds\":{\"write\":%.3f}}\n",
               nats_GetVersion(), o.records, o.record_bytes, rate_json(w, sizeof w, write_ns, o.records, bytes), cpu, server);
        natsConnection_Destroy(nc);
        natsOptions_Destroy(options);
        nats_Close();
        return 0;
    }

    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.PublishAsync.MaxPending = 4 * o.batch;
    js_options.PublishAsync.ErrHandler = on_publish_error;
    js_options.Wait = 30000;
    jsCtx *js;
    check(natsConnection_JetStream(&js, nc, &js_options), "jetstream");
    jsStreamConfig stream;
    jsStreamConfig_Init(&stream);
    const char *subjects[] = {"bench"};
    stream.Name = "BENCH";
    stream.Subjects = subjects;
    stream.SubjectsLen = 1;
    stream.Storage = js_FileStorage;
    jsErrCode jerr = 0;
    check(js_AddStream(NULL, js, &stream, NULL, &jerr), "add stream");

    latencies batches;
    lat_init(&batches, o.records / o.batch + 1);
    double cpu0 = cpu_seconds(), server0 = server_cpu(server_pid);
    uint64_t start = now_ns();
    for (long first = 0; first < o.records; first += o.batch) {
        long end = first + o.batch < o.records ? first + o.batch : o.records;
        uint64_t t0 = now_ns();
        for (long i = first; i < end; i++)
            check(js_PublishAsync(js, "bench", pool_value(&pool, i), (int)o.record_bytes, NULL), "publish async");
        check(js_PublishAsyncComplete(js, NULL), "publish complete");
        lat_add(&batches, now_ns() - t0);
    }
    uint64_t write_ns = now_ns() - start;
    double write_cpu = cpu_seconds() - cpu0, write_server = server_cpu(server_pid) - server0;
    if (errors) die("%ld asynchronous publishes failed", errors);

    jsSubOptions sub_options;
    jsSubOptions_Init(&sub_options);
    sub_options.Config.AckPolicy = js_AckNone;
    sub_options.Config.DeliverPolicy = js_DeliverAll;
    sub_options.Config.MaxRequestBatch = o.batch;
    natsSubscription *sub;
    check(js_PullSubscribe(&sub, js, "bench", "reader", NULL, &sub_options, &jerr), "pull subscribe");
    long seen = 0;
    uint64_t seen_bytes = 0, sum = 0;
    cpu0 = cpu_seconds();
    server0 = server_cpu(server_pid);
    start = now_ns();
    while (seen < o.records) {
        natsMsgList list;
        long want = o.records - seen < o.batch ? o.records - seen : o.batch;
        check(natsSubscription_Fetch(&list, sub, (int)want, 10000, &jerr), "fetch");
        for (int i = 0; i < list.Count; i++) {
            const uint8_t *data = (const uint8_t *)natsMsg_GetData(list.Msgs[i]);
            int n = natsMsg_GetDataLength(list.Msgs[i]);
            sum += data[0] + data[n - 1];
            seen_bytes += (uint64_t)n;
        }
        seen += list.Count;
        natsMsgList_Destroy(&list);
    }
    uint64_t read_ns = now_ns() - start;
    double read_cpu = cpu_seconds() - cpu0, read_server = server_cpu(server_pid) - server0;
    if (seen != o.records) die("read %ld messages, published %ld", seen, o.records);

    printf("{\"peer\":\"nats\",\"variant\":\"JetStream file storage\",\"client\":\"nats.c %s\",\"records\":%ld,\"recordBytes\":%ld,"
           "\"batchRecords\":%ld,\"checksum\":%llu,\"write\":%s,\"read\":%s,\"commitLatencyMs\":%s,"
           "\"clientCpuSeconds\":{\"write\":%.3f,\"read\":%.3f},\"serverCpuSeconds\":{\"write\":%.3f,\"read\":%.3f}}\n",
           nats_GetVersion(), o.records, o.record_bytes, o.batch, (unsigned long long)sum,
           rate_json(w, sizeof w, write_ns, o.records, bytes), rate_json(r, sizeof r, read_ns, seen, (double)seen_bytes),
           lat_json(&batches, l, sizeof l), write_cpu, read_cpu, write_server, read_server);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(options);
    nats_Close();
    return 0;
}
