/*
 * librdkafka configuration from the environment. The defaults are chosen to
 * behave the same on the mock cluster and on real Kafka:
 * - session.timeout.ms 6000: the mock waits session.timeout.ms - 1 s before
 *   completing a rebalance, and real brokers accept 6 s (their minimum);
 *   the worker's lease group lives by it (failover after a crash).
 * - partition.assignment.strategy range (leases): lease i carries agents
 *   i, i + nleases, ..., so contiguous shares of leases balance agents,
 *   and a member coming or going moves fewer leases than round-robin
 *   does; eager rather than cooperative, whose commits during a
 *   rebalance lose the whole assignment in librdkafka 2.0.2 (#4059).
 * - statistics.interval.ms 1000 (leases): broker states for /health.
 * - fetch.wait.max.ms 500, fetch.min.bytes 65536: a fetch answers once
 *   64 KiB are there or half a second has passed. With hundreds of
 *   partitions every fetch costs CPU on both sides, and a few small
 *   messages each would keep the consumer fetching all the time; half a
 *   second is what a record of a quiet topic may wait at most, and idle
 *   detection needs seconds, not 100 ms.
 * - enable.auto.commit false: the worker commits only offsets whose
 *   windows were produced and acknowledged (SPEC §10).
 * - queue.buffering.max.ms 100 (linger): records of hundreds of agents
 *   go in a few requests a second. Their windows close spread over the
 *   second (each agent's watermark follows its own topic), and with 20 ms
 *   the producer sent 80 requests a second for 400 records, each request
 *   a walk of librdkafka's broker thread over every output partition; a
 *   commit waits for the acknowledgement a tenth of a second longer.
 * - queued.min.messages 1000000: with librdkafka's 100000 a consumer
 *   catching up on a backlog stops fetching for about a second whenever a
 *   partition's queue fills; memory stays bounded by
 *   queued.max.messages.kbytes.
 */
#include "kafka.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ka_kafka_brokers(const char *url, char *errstr, size_t errstr_size)
{
        char *copy = strdup(url), *out = calloc(1, strlen(url) + 1);
        char *save = NULL, *tok;
        size_t len = 0;

        if (!copy || !out) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        for (tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                while (isspace((unsigned char)*tok))
                        tok++;
                if (!strncmp(tok, "kafka://", 8))
                        tok += 8;
                for (size_t n = strlen(tok);
                     n && isspace((unsigned char)tok[n - 1]); n--)
                        tok[n - 1] = '\0';
                if (!*tok || strchr(tok, '/')) {
                        snprintf(errstr, errstr_size,
                                 "KAFKA_BROKER_URL: malformed broker '%s' in "
                                 "'%s' (expected host:port[,host:port])",
                                 tok, url);
                        goto fail;
                }
                len += (size_t)sprintf(out + len, "%s%s", len ? "," : "", tok);
        }
        if (!len) {
                snprintf(errstr, errstr_size, "KAFKA_BROKER_URL is empty");
                goto fail;
        }
        free(copy);
        return out;
fail:
        free(copy);
        free(out);
        return NULL;
}

void ka_kafka_log(const rd_kafka_t *rk, int level, const char *fac,
                  const char *buf)
{
        ka_log_level_t lvl = level <= 2   ? KA_LOG_CRIT
                             : level == 3 ? KA_LOG_ERROR
                             : level == 4 ? KA_LOG_WARN
                             : level <= 6 ? KA_LOG_INFO
                                          : KA_LOG_DEBUG;

        (void)rk;
        if (ka_log_enabled(lvl))
                ka_log(lvl, "kafka: %s: %s", fac, buf);
}

ka_err_t ka_kafka_set(rd_kafka_conf_t *conf, const char *key, const char *value,
                      char *errstr, size_t errstr_size)
{
        return rd_kafka_conf_set(conf, key, value, errstr, errstr_size) ==
                               RD_KAFKA_CONF_OK
                       ? KA_OK
                       : KA_ERR_INVALID;
}

/* Applies KAFKA_CONFIG_FILE's key=value lines. */
static ka_err_t apply_file(rd_kafka_conf_t *conf, const char *path,
                           char *errstr, size_t errstr_size)
{
        FILE *f = fopen(path, "r");
        char line[4096], why[512];
        int lineno = 0;
        ka_err_t err = KA_OK;

        if (!f) {
                snprintf(errstr, errstr_size, "KAFKA_CONFIG_FILE %s: %s", path,
                         strerror(errno));
                return KA_ERR_IO;
        }
        while (!err && fgets(line, sizeof(line), f)) {
                char *key = line, *eq, *end;

                lineno++;
                while (isspace((unsigned char)*key))
                        key++;
                end = key + strlen(key);
                while (end > key && isspace((unsigned char)end[-1]))
                        *--end = '\0';
                if (!*key || *key == '#')
                        continue;
                if (!(eq = strchr(key, '='))) {
                        snprintf(errstr, errstr_size,
                                 "%s:%d: expected key=value", path, lineno);
                        err = KA_ERR_INVALID;
                        break;
                }
                *eq = '\0';
                for (end = eq; end > key && isspace((unsigned char)end[-1]);)
                        *--end = '\0';
                for (eq++; isspace((unsigned char)*eq);)
                        eq++;
                if (ka_kafka_set(conf, key, eq, why, sizeof(why))) {
                        snprintf(errstr, errstr_size, "%s:%d: %s", path, lineno,
                                 why);
                        err = KA_ERR_INVALID;
                }
        }
        fclose(f);
        return err;
}

rd_kafka_conf_t *ka_kafka_conf(ka_kafka_role_t role, char *errstr,
                               size_t errstr_size)
{
        static const char *const consumer_defaults[][2] = {
                {"session.timeout.ms", "6000"},
                {"heartbeat.interval.ms", "1000"},
                {"fetch.wait.max.ms", "500"},
                {"fetch.min.bytes", "65536"},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                {"auto.offset.reset", "earliest"},
                {"enable.partition.eof", "false"},
                {"queued.min.messages", "1000000"},
        };
        static const char *const lease_defaults[][2] = {
                {"partition.assignment.strategy", "range"},
                {"statistics.interval.ms", "1000"},
        };
        static const char *const producer_defaults[][2] = {
                {"queue.buffering.max.ms", "100"},
                {"acks", "all"},
        };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const char *file = ka_env("KAFKA_CONFIG_FILE", NULL);
        char *brokers = ka_kafka_brokers(
                ka_env("KAFKA_BROKER_URL", "kafka://localhost:9092"), errstr,
                errstr_size);
        bool ok = brokers &&
                  !ka_kafka_set(conf, "bootstrap.servers", brokers, errstr,
                                errstr_size) &&
                  !ka_kafka_set(conf, "client.id", "kafkaaggregator", errstr,
                                errstr_size);

        rd_kafka_conf_set_log_cb(conf, ka_kafka_log);
        if (role != KA_KAFKA_PRODUCER) {
                for (size_t i = 0; ok && i < KA_ARRAY_SIZE(consumer_defaults);
                     i++)
                        ok = !ka_kafka_set(conf, consumer_defaults[i][0],
                                           consumer_defaults[i][1], errstr,
                                           errstr_size);
        }
        if (role == KA_KAFKA_LEASE) {
                for (size_t i = 0; ok && i < KA_ARRAY_SIZE(lease_defaults); i++)
                        ok = !ka_kafka_set(conf, lease_defaults[i][0],
                                           lease_defaults[i][1], errstr,
                                           errstr_size);
        } else if (role == KA_KAFKA_PRODUCER) {
                for (size_t i = 0; ok && i < KA_ARRAY_SIZE(producer_defaults);
                     i++)
                        ok = !ka_kafka_set(conf, producer_defaults[i][0],
                                           producer_defaults[i][1], errstr,
                                           errstr_size);
        }
        if (ok && file)
                ok = !apply_file(conf, file, errstr, errstr_size);
        free(brokers);
        if (!ok) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        return conf;
}
