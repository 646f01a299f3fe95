/*
 * Benchmark tool (not a test): fills a source topic with N example
 * messages as fast as librdkafka can send them, for the end-to-end
 * benchmark. Each message is Confluent Avro of the example schema (`time`
 * plus value0..value9, doubles) under SCHEMA_ID; message k goes to
 * partition k % PARTITIONS with the Kafka timestamp BASE_MS + k * 1000 /
 * RATE (RATE messages per 1 s window, over all partitions). Brokers come
 * from KAFKA_BROKER_URL, as for every kafkaaggregator client.
 *
 *   bench_produce TOPIC N PARTITIONS SCHEMA_ID RATE BASE_MS
 *
 * Afterwards it checks that every partition still starts at offset 0 and
 * that the topic holds exactly N messages: the dev stack's mock cluster
 * keeps about 5 MiB per partition and silently drops older messages, which
 * would make the consumers read fewer messages than were produced.
 */
#include "avro_wire.h"
#include "kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NVALUES 10

static int failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
        (void)rk;
        (void)opaque;
        if (rkm->err && !failed) {
                fprintf(stderr, "bench_produce: delivery failed: %s\n",
                        rd_kafka_err2str(rkm->err));
                failed = 1;
        }
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64: sensor-like readings 15 + 10 U(0,1), full mantissas. */
static double reading(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return 15.0 + 10.0 * (double)(rng >> 11) * 0x1p-53;
}

static long arg_long(const char *s, const char *what, long min, long max)
{
        char *end;
        long v = strtol(s, &end, 10);

        if (*s == '\0' || *end != '\0' || v < min || v > max) {
                fprintf(stderr, "bench_produce: bad %s '%s'\n", what, s);
                exit(2);
        }
        return v;
}

/* Low and high watermarks of every partition: 0 when all is there. */
static int check_topic(rd_kafka_t *rk, const char *topic, int partitions,
                       long n)
{
        int64_t total = 0;

        for (int p = 0; p < partitions; p++) {
                int64_t lo = -1, hi = -1;
                rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
                        rk, topic, p, &lo, &hi, 10000);

                if (err) {
                        fprintf(stderr,
                                "bench_produce: watermarks of '%s' [%d]: %s\n",
                                topic, p, rd_kafka_err2str(err));
                        return 1;
                }
                if (lo != 0) {
                        fprintf(stderr,
                                "bench_produce: '%s' [%d] starts at offset "
                                "%" PRId64 ": the mock cluster dropped "
                                "messages (about 5 MiB per partition); use "
                                "fewer messages or more partitions\n",
                                topic, p, lo);
                        return 1;
                }
                total += hi;
        }
        if (total != n) {
                fprintf(stderr,
                        "bench_produce: '%s' holds %" PRId64 " messages, "
                        "not %ld (was it empty?)\n",
                        topic, total, n);
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static const char *const settings[][2] = {
                /* Large batches: the producer is not what is measured. */
                {"linger.ms", "20"},
                {"batch.num.messages", "10000"},
                {"queue.buffering.max.messages", "2000000"},
                {"queue.buffering.max.kbytes", "1048576"},
        };
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        long n, rate, k;
        int partitions;
        int32_t schema_id;
        int64_t base_ms;
        double t0, t1;

        if (argc != 7) {
                fprintf(stderr, "usage: bench_produce TOPIC N PARTITIONS "
                                "SCHEMA_ID RATE BASE_MS\n");
                return 2;
        }
        n = arg_long(argv[2], "N", 1, 100000000);
        partitions = (int)arg_long(argv[3], "PARTITIONS", 1, 10000);
        schema_id = (int32_t)arg_long(argv[4], "SCHEMA_ID", 0, INT32_MAX);
        rate = arg_long(argv[5], "RATE", 1, 1000);
        base_ms = arg_long(argv[6], "BASE_MS", 0, 4102444800000L);

        if (!(conf = ka_kafka_conf(KA_KAFKA_PRODUCER, errstr,
                                   sizeof(errstr)))) {
                fprintf(stderr, "bench_produce: %s\n", errstr);
                return 1;
        }
        for (size_t i = 0; i < KA_ARRAY_SIZE(settings); i++) {
                if (ka_kafka_set(conf, settings[i][0], settings[i][1], errstr,
                                 sizeof(errstr))) {
                        fprintf(stderr, "bench_produce: %s\n", errstr);
                        rd_kafka_conf_destroy(conf);
                        return 1;
                }
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
                                sizeof(errstr)))) {
                fprintf(stderr, "bench_produce: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }

        t0 = now_s();
        for (k = 0; k < n && !failed; k++) {
                uint8_t buf[KA_AVRO_HEADER_SIZE + 8 * (NVALUES + 1)];
                int64_t ts = base_ms + (int64_t)k * 1000 / rate;
                ka_avro_writer_t w;
                rd_kafka_resp_err_t err;

                ka_avro_write_header(buf, schema_id);
                ka_avro_writer_init(&w, buf + KA_AVRO_HEADER_SIZE,
                                    sizeof(buf) - KA_AVRO_HEADER_SIZE);
                ka_avro_write_double(&w, (double)ts / 1000.0);
                for (int v = 0; v < NVALUES; v++)
                        ka_avro_write_double(&w, reading());
                for (;;) {
                        err = rd_kafka_producev(
                                rk, RD_KAFKA_V_TOPIC(argv[1]),
                                RD_KAFKA_V_PARTITION((int32_t)(k % partitions)),
                                RD_KAFKA_V_TIMESTAMP(ts),
                                RD_KAFKA_V_VALUE(buf, sizeof(buf)),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_END);
                        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                break;
                        rd_kafka_poll(rk, 10);
                }
                if (err) {
                        fprintf(stderr, "bench_produce: %s\n",
                                rd_kafka_err2str(err));
                        failed = 1;
                }
                if ((k & 4095) == 0)
                        rd_kafka_poll(rk, 0);
        }
        if (rd_kafka_flush(rk, 60000)) {
                fprintf(stderr, "bench_produce: not all delivered in 60 s\n");
                failed = 1;
        }
        t1 = now_s();
        if (!failed)
                failed = check_topic(rk, argv[1], partitions, n);
        rd_kafka_destroy(rk);
        if (!failed)
                printf("produced %ld messages to %s in %.2f s (%.0f msgs/s)\n",
                       n, argv[1], t1 - t0, (double)n / (t1 - t0));
        return failed;
}
