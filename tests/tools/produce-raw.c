/*
 * Test tool: produces the messages described on stdin, one a line,
 *   PARTITION TIMESTAMP_MS KEY HEX_PAYLOAD
 * (KEY "-" for a null key, otherwise hex too), to the topic of argv[1],
 * on KAFKA_BROKER_URL; waits until every message is delivered. The tests
 * build payloads (Confluent Avro, JSON, garbage) in Python and need exact
 * partitions and timestamps, which kcat cannot set.
 */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t unhex(const char *s, unsigned char *out)
{
        size_t n = 0;

        for (; s[0] && s[1]; s += 2) {
                unsigned v;

                if (sscanf(s, "%2x", &v) != 1)
                        break;
                out[n++] = (unsigned char)v;
        }
        return n;
}

static int failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
        (void)rk;
        (void)opaque;
        if (rkm->err) {
                fprintf(stderr, "produce-raw: %s\n",
                        rd_kafka_err2str(rkm->err));
                failed = 1;
        }
}

int main(int argc, char **argv)
{
        static char line[1 << 20];
        static unsigned char payload[1 << 19], key[4096];
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        long n = 0;

        if (argc != 2) {
                fprintf(stderr, "usage: produce-raw TOPIC < messages\n");
                return 2;
        }
        if (!(conf = ka_kafka_conf(KA_KAFKA_PRODUCER, errstr,
                                   sizeof(errstr)))) {
                fprintf(stderr, "produce-raw: %s\n", errstr);
                return 1;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
                                sizeof(errstr)))) {
                fprintf(stderr, "produce-raw: %s\n", errstr);
                return 1;
        }
        while (fgets(line, sizeof(line), stdin)) {
                char khex[8192], phex[sizeof(line)];
                int partition;
                long long ts;
                size_t klen = 0, plen;
                rd_kafka_resp_err_t err;

                if (sscanf(line, "%d %lld %8191s %s", &partition, &ts, khex,
                           phex) != 4) {
                        /* An empty payload has no 4th field. */
                        phex[0] = '\0';
                        if (sscanf(line, "%d %lld %8191s", &partition, &ts,
                                   khex) != 3)
                                continue;
                }
                if (strcmp(khex, "-"))
                        klen = unhex(khex, key);
                plen = unhex(phex, payload);
                err = rd_kafka_producev(
                        rk, RD_KAFKA_V_TOPIC(argv[1]),
                        RD_KAFKA_V_PARTITION(partition),
                        RD_KAFKA_V_TIMESTAMP(ts),
                        RD_KAFKA_V_VALUE(payload, plen),
                        RD_KAFKA_V_KEY(strcmp(khex, "-") ? key : NULL, klen),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_END);
                if (err) {
                        fprintf(stderr, "produce-raw: %s\n",
                                rd_kafka_err2str(err));
                        failed = 1;
                        break;
                }
                n++;
                rd_kafka_poll(rk, 0);
        }
        if (rd_kafka_flush(rk, 20000)) {
                fprintf(stderr, "produce-raw: not all delivered\n");
                failed = 1;
        }
        rd_kafka_destroy(rk);
        fprintf(stderr, "produce-raw: %ld messages to %s\n", n, argv[1]);
        return failed;
}
