/*
 * Kafka client settings shared by every command that talks to Kafka (the
 * worker, the example commands, consume): brokers from KAFKA_BROKER_URL,
 * extra librdkafka properties from KAFKA_CONFIG_FILE, and the settings
 * that work on both the dev stack's mock cluster and real Kafka.
 */
#ifndef KA_KAFKA_H
#define KA_KAFKA_H

#include "ka.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* Kind of client, for the defaults each gets. */
typedef enum ka_kafka_role_e {
        KA_KAFKA_PRODUCER,
        KA_KAFKA_CONSUMER, /* reads assigned partitions, commits nothing */
        KA_KAFKA_LEASE,    /* the worker's member of the lease group */
} ka_kafka_role_t;

/*
 * The bootstrap servers of url: a comma list whose entries may carry a
 * "kafka://" prefix ("kafka://a:9092,b:9092" -> "a:9092,b:9092"). Returns
 * a malloc'd string, or NULL with errstr for an empty or malformed list.
 */
char *ka_kafka_brokers(const char *url, char *errstr, size_t errstr_size);

/*
 * A new librdkafka configuration for role: bootstrap.servers from
 * KAFKA_BROKER_URL (default kafka://localhost:9092), the client defaults
 * (see kafka.c), then every `key=value` line of KAFKA_CONFIG_FILE when set
 * (blank lines and lines starting with '#' are skipped). Returns NULL with
 * "FILE:LINE: ..." or librdkafka's reason in errstr. The caller owns the
 * result (rd_kafka_new() takes it over on success).
 */
rd_kafka_conf_t *ka_kafka_conf(ka_kafka_role_t role, char *errstr,
                               size_t errstr_size);

/* librdkafka's log lines through ours (set by ka_kafka_conf()). */
void ka_kafka_log(const rd_kafka_t *rk, int level, const char *fac,
                  const char *buf);

/* Sets key=value on conf; librdkafka's reason in errstr on failure. */
ka_err_t ka_kafka_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                      char *errstr, size_t errstr_size);

#endif
