/*
 * The example commands (SPEC §3): `init-example` prepares the source topics
 * of a config (topics and schemas), `produce` writes plausible random
 * records of any schema to them at a fixed rate so that the worker has
 * something to aggregate.
 */
#include "example.h"
#include "avro_wire.h"
#include "cli.h"
#include "config.h"
#include "ka.h"
#include "kafka.h"
#include "log.h"
#include "names.h"
#include "plausible.h"
#include "registry.h"
#include "schema_source.h"

#include <avro.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONFIG   "example/aggregator-config.yaml"
#define DEFAULT_REGISTRY "http://localhost:8081"

/* Admin and metadata requests give up after this long. */
#define ADMIN_TIMEOUT_MS 10000
/* produce waits this long for outstanding deliveries before exiting. */
#define FLUSH_TIMEOUT_MS 10000
/* Highest --frequency: beyond this the schedule is mostly catching up. */
#define MAX_FREQUENCY 100000.0
/* A long produce logs its progress this often (seconds). */
#define PROGRESS_S 10
/* The summary names each topic up to this many topics. */
#define SUMMARY_TOPICS 20

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

/*
 * An integer setting: the option's value when given, else the environment
 * variable's, else def. A bad value is a usage error naming where it came
 * from.
 */
static bool setting_long(const char *cmd, const char *opt, const char *arg,
                         const char *env, long def, long min, long max,
                         long *out)
{
        const char *v = ka_env(env, NULL);

        if (arg)
                return ka_cli_parse_long(cmd, opt, arg, min, max, out);
        if (v)
                return ka_cli_parse_long(cmd, env, v, min, max, out);
        *out = def;
        return true;
}

static bool setting_double(const char *cmd, const char *opt, const char *arg,
                           const char *env, double def, double min, double max,
                           double *out)
{
        const char *v = ka_env(env, NULL);

        if (arg)
                return ka_cli_parse_double(cmd, opt, arg, min, max, out);
        if (v)
                return ka_cli_parse_double(cmd, env, v, min, max, out);
        *out = def;
        return true;
}

/*
 * The distinct source topics of cfg in config order (two aggregated topics
 * may read one source), topic patterns left out. The array is malloc'd;
 * the names belong to cfg.
 */
static const char **source_topics(const ka_config_t *cfg, size_t *count)
{
        size_t cap = 0, n = 0;
        const char **names;

        for (size_t i = 0; i < cfg->ntopics; i++)
                cap += cfg->topics[i].nsources;
        names = calloc(cap ? cap : 1, sizeof(*names));
        if (!names)
                return NULL;
        for (size_t i = 0; i < cfg->ntopics; i++) {
                for (size_t j = 0; j < cfg->topics[i].nsources; j++) {
                        const char *name = cfg->topics[i].sources[j].name;
                        size_t k;

                        if (!name) /* a topic pattern, not expanded */
                                continue;
                        for (k = 0; k < n && strcmp(names[k], name); k++)
                                ;
                        if (k == n)
                                names[n++] = name;
                }
        }
        *count = n;
        return names;
}

/* "<topic>-value", malloc'd. */
static char *value_subject(const char *topic)
{
        size_t len = strlen(topic) + sizeof("-value");
        char *s = malloc(len);

        if (s)
                snprintf(s, len, "%s-value", topic);
        return s;
}

char *ka_example_schema_json(const char *topic, int nfields)
{
        json_t *schema = NULL, *fields = NULL;
        char *name = NULL, *out = NULL;
        char field[32];
        bool ok;

        if (nfields < 0 || nfields > KA_EXAMPLE_MAX_FIELDS)
                return NULL;
        name = ka_names_record_name(topic);
        schema = json_object();
        fields = json_array();
        ok = name && schema && fields &&
             !json_object_set_new(schema, "type", json_string("record")) &&
             !json_object_set_new(schema, "name", json_string(name)) &&
             !json_object_set_new(schema, "namespace",
                                  json_string(KA_EXAMPLE_NAMESPACE)) &&
             !json_array_append_new(
                     fields,
                     json_pack("{s:s, s:s}", "name", "time", "type", "double"));
        for (int i = 0; ok && i < nfields; i++) {
                snprintf(field, sizeof(field), "value%d", i);
                ok = !json_array_append_new(fields,
                                            json_pack("{s:s, s:s}", "name",
                                                      field, "type", "double"));
        }
        if (ok && !json_object_set(schema, "fields", fields))
                out = json_dumps(schema, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(fields);
        json_decref(schema);
        free(name);
        return out;
}

/* ------------------------------------------------------------------ */
/* init-example                                                       */

/* What init-example found for a topic. */
typedef enum topic_state_e {
        TOPIC_CREATED,
        TOPIC_EXISTED,
        TOPIC_FAILED,
        TOPIC_UNCHECKED, /* the broker cannot create topics */
} topic_state_t;

static void init_usage(void)
{
        printf("usage: kafkaaggregator init-example [--config-file F] "
               "[--nfields N] [--partitions P]\n\n"
               "Creates every source topic of the config (Admin API, "
               "replication factor 1)\n"
               "and registers its example schema under '<topic>-value': "
               "`time` and\n"
               "`value0` ... `value{N-1}`, all double.\n\n"
               "options:\n"
               "  --config-file F  aggregator config (AGGREGATOR_CONFIG_FILE, "
               "default\n"
               "                   " DEFAULT_CONFIG ")\n"
               "  --nfields N      value fields per record, 0 to %d "
               "(NFIELDS, default 10)\n"
               "  --partitions P   partitions of a new topic "
               "(TOPIC_PARTITIONS, default 4)\n"
               "  -h, --help       this help\n\n"
               "Environment: KAFKA_BROKER_URL, KAFKA_CONFIG_FILE, "
               "SCHEMA_REGISTRY_URL.\n",
               KA_EXAMPLE_MAX_FIELDS);
}

/*
 * Whether Kafka names a controller among its brokers. librdkafka's mock
 * cluster (2.0.2) names broker 0, which does not exist, and an admin
 * request would wait for it until it times out.
 */
static bool has_controller(rd_kafka_t *rk, const rd_kafka_metadata_t *md)
{
        int32_t controller = rd_kafka_controllerid(rk, 0);

        /* -1: a broker too old to say; let CreateTopics find out. */
        if (controller == -1)
                return true;
        for (int i = 0; i < md->broker_cnt; i++)
                if (md->brokers[i].id == controller)
                        return true;
        return false;
}

/*
 * Creates topics[0..n) with the Admin API and fills state[]. A broker
 * without CreateTopics leaves every state TOPIC_UNCHECKED and says so.
 * Returns false, with the reason printed, when the request as a whole
 * failed or a topic could not be created.
 */
static bool create_topics(const char *cmd, rd_kafka_t *rk, const char **topics,
                          size_t n, int partitions, topic_state_t *state)
{
        rd_kafka_NewTopic_t **new_topics = calloc(n, sizeof(*new_topics));
        rd_kafka_AdminOptions_t *options = NULL;
        rd_kafka_queue_t *queue = NULL;
        rd_kafka_event_t *ev = NULL;
        const rd_kafka_topic_result_t **results;
        char errstr[512];
        size_t nresults = 0;
        bool ok = false;

        if (!new_topics) {
                ka_cli_fail(cmd, "out of memory");
                return false;
        }
        for (size_t i = 0; i < n; i++) {
                state[i] = TOPIC_FAILED;
                new_topics[i] = rd_kafka_NewTopic_new(topics[i], partitions, 1,
                                                      errstr, sizeof(errstr));
                if (!new_topics[i]) {
                        ka_cli_fail(cmd, "topic '%s': %s", topics[i], errstr);
                        goto out;
                }
        }
        options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        if (!options ||
            rd_kafka_AdminOptions_set_request_timeout(options, ADMIN_TIMEOUT_MS,
                                                      errstr, sizeof(errstr)) ||
            rd_kafka_AdminOptions_set_operation_timeout(
                    options, ADMIN_TIMEOUT_MS, errstr, sizeof(errstr))) {
                ka_cli_fail(cmd, "admin options: %s", errstr);
                goto out;
        }
        queue = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, new_topics, n, options, queue);
        /* The request times out on its own; the margin covers the lookup of
         * the controller that precedes it. */
        ev = rd_kafka_queue_poll(queue, 2 * ADMIN_TIMEOUT_MS + 1000);
        if (!ev) {
                ka_cli_fail(cmd,
                            "CreateTopics: no answer from Kafka within "
                            "%d s",
                            (2 * ADMIN_TIMEOUT_MS + 1000) / 1000);
                goto out;
        }
        if (rd_kafka_event_error(ev) ==
            RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
                for (size_t i = 0; i < n; i++)
                        state[i] = TOPIC_UNCHECKED;
                printf("Kafka cannot create topics (%s): using the topics "
                       "already there\n",
                       rd_kafka_event_error_string(ev));
                ok = true;
                goto out;
        }
        if (rd_kafka_event_error(ev)) {
                ka_cli_fail(cmd, "CreateTopics: %s",
                            rd_kafka_event_error_string(ev));
                goto out;
        }
        results = rd_kafka_CreateTopics_result_topics(
                rd_kafka_event_CreateTopics_result(ev), &nresults);
        ok = true;
        for (size_t r = 0; r < nresults; r++) {
                const char *name = rd_kafka_topic_result_name(results[r]);
                rd_kafka_resp_err_t err =
                        rd_kafka_topic_result_error(results[r]);
                size_t i;

                for (i = 0; i < n && strcmp(topics[i], name); i++)
                        ;
                if (i == n)
                        continue;
                if (!err) {
                        state[i] = TOPIC_CREATED;
                } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                        state[i] = TOPIC_EXISTED;
                } else {
                        const char *why =
                                rd_kafka_topic_result_error_string(results[r]);

                        ka_cli_fail(cmd, "cannot create topic '%s': %s", name,
                                    why ? why : rd_kafka_err2str(err));
                        ok = false;
                }
        }
        for (size_t i = 0; ok && i < n; i++) {
                if (state[i] == TOPIC_FAILED) {
                        ka_cli_fail(cmd, "CreateTopics: no result for '%s'",
                                    topics[i]);
                        ok = false;
                }
        }
out:
        if (ev)
                rd_kafka_event_destroy(ev);
        if (queue)
                rd_kafka_queue_destroy(queue);
        if (options)
                rd_kafka_AdminOptions_destroy(options);
        for (size_t i = 0; i < n; i++)
                if (new_topics[i])
                        rd_kafka_NewTopic_destroy(new_topics[i]);
        free(new_topics);
        return ok;
}

/* Partitions of topic in md, or -1 when md does not list it. */
static int metadata_partitions(const rd_kafka_metadata_t *md, const char *topic)
{
        for (int i = 0; md && i < md->topic_cnt; i++)
                if (!strcmp(md->topics[i].topic, topic))
                        return md->topics[i].err ? -1
                                                 : md->topics[i].partition_cnt;
        return -1;
}

int ka_init_example_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config-file", required_argument, 0, 'c'},
                {"nfields", required_argument, 0, 'n'},
                {"partitions", required_argument, 0, 'p'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        const char *cmd = argv[0];
        const char *config_file = NULL, *nfields_arg = NULL,
                   *partitions_arg = NULL;
        const char *registry_url =
                ka_env("SCHEMA_REGISTRY_URL", DEFAULT_REGISTRY);
        long nfields, partitions;
        ka_config_t *cfg = NULL;
        const char **topics = NULL;
        topic_state_t *state = NULL;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk = NULL;
        const rd_kafka_metadata_t *md = NULL;
        ka_registry_t *reg = NULL;
        char errstr[1024];
        size_t ntopics = 0;
        rd_kafka_resp_err_t kerr;
        int c, rc = KA_EXIT_FAIL;

        while ((c = ka_cli_getopt(argc, argv, ":h", opts)) != -1) {
                switch (c) {
                case 'c':
                        config_file = optarg;
                        break;
                case 'n':
                        nfields_arg = optarg;
                        break;
                case 'p':
                        partitions_arg = optarg;
                        break;
                case 'h':
                        init_usage();
                        return KA_EXIT_OK;
                default:
                        return KA_EXIT_USAGE;
                }
        }
        if (!setting_long(cmd, "--nfields", nfields_arg, "NFIELDS", 10, 0,
                          KA_EXAMPLE_MAX_FIELDS, &nfields) ||
            !setting_long(cmd, "--partitions", partitions_arg,
                          "TOPIC_PARTITIONS", 4, 1, 100000, &partitions))
                return KA_EXIT_USAGE;
        if (!config_file)
                config_file = ka_env("AGGREGATOR_CONFIG_FILE", DEFAULT_CONFIG);

        if (!(cfg = ka_config_load(config_file, errstr, sizeof(errstr)))) {
                fprintf(stderr, "%s\n", errstr);
                return KA_EXIT_USAGE;
        }
        if (!(topics = source_topics(cfg, &ntopics)) ||
            !(state = calloc(ntopics ? ntopics : 1, sizeof(*state)))) {
                rc = ka_cli_fail(cmd, "out of memory");
                goto out;
        }
        /* A pattern's topics are those the registry already has schemas
         * for: there is nothing to create or register. */
        for (size_t i = 0; i < cfg->ntopics; i++)
                if (cfg->topics[i].pattern)
                        printf("%s:%d:%d: a topic pattern: its topics and "
                               "schemas are already there; skipped\n",
                               config_file, cfg->topics[i].sources[0].pos.line,
                               cfg->topics[i].sources[0].pos.col);
        if (!ntopics) {
                printf("%s has no source topics: nothing to do\n", config_file);
                rc = KA_EXIT_OK;
                goto out;
        }
        if (!(reg = ka_registry_new(registry_url, NULL, errstr,
                                    sizeof(errstr)))) {
                rc = ka_cli_fail(cmd, "SCHEMA_REGISTRY_URL: %s", errstr);
                goto out;
        }
        if (!(conf = ka_kafka_conf(KA_KAFKA_PRODUCER, errstr,
                                   sizeof(errstr)))) {
                rc = ka_cli_fail(cmd, "%s", errstr);
                goto out;
        }
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
                                sizeof(errstr)))) {
                rd_kafka_conf_destroy(conf);
                rc = ka_cli_fail(cmd, "kafka client: %s", errstr);
                goto out;
        }
        /* Metadata first: it tells whether Kafka is there at all, which
         * topics exist, and whether there is a controller to create more. */
        if ((kerr = rd_kafka_metadata(rk, 1, NULL, &md, ADMIN_TIMEOUT_MS))) {
                rc = ka_cli_fail(cmd, "cannot list the topics of Kafka: %s",
                                 rd_kafka_err2str(kerr));
                goto out;
        }
        if (!has_controller(rk, md)) {
                for (size_t i = 0; i < ntopics; i++)
                        state[i] = TOPIC_UNCHECKED;
                printf("Kafka cannot create topics (its controller is not "
                       "one of its brokers, as in librdkafka's mock "
                       "cluster): using the topics already there\n");
        } else if (!create_topics(cmd, rk, topics, ntopics, (int)partitions,
                                  state)) {
                goto out;
        }

        for (size_t i = 0; i < ntopics; i++) {
                char *schema = ka_example_schema_json(topics[i], (int)nfields);
                char *subject = value_subject(topics[i]);
                char what[128];
                int32_t id = 0;
                ka_err_t err;
                int np;

                if (!schema || !subject) {
                        free(schema);
                        free(subject);
                        rc = ka_cli_fail(cmd, "out of memory");
                        goto out;
                }
                err = ka_registry_register(reg, subject, schema, &id, errstr,
                                           sizeof(errstr));
                free(schema);
                if (err) {
                        ka_cli_fail(cmd, "cannot register '%s': %s", subject,
                                    errstr);
                        free(subject);
                        goto out;
                }
                switch (state[i]) {
                case TOPIC_CREATED:
                        snprintf(what, sizeof(what),
                                 "created topic (%ld partitions)", partitions);
                        break;
                default:
                        np = metadata_partitions(md, topics[i]);
                        if (np >= 0)
                                snprintf(what, sizeof(what),
                                         "using the existing topic "
                                         "(%d partitions)",
                                         np);
                        else if (state[i] == TOPIC_EXISTED)
                                snprintf(what, sizeof(what),
                                         "using the existing topic");
                        else
                                snprintf(what, sizeof(what),
                                         "topic not there yet (a broker "
                                         "that auto-creates topics makes it "
                                         "on first use)");
                        break;
                }
                printf("%s: %s; registered '%s' (schema id %d, %ld value "
                       "fields)\n",
                       topics[i], what, subject, (int)id, nfields);
                free(subject);
        }
        rc = KA_EXIT_OK;
out:
        if (md)
                rd_kafka_metadata_destroy(md);
        if (rk)
                rd_kafka_destroy(rk);
        ka_registry_destroy(reg);
        free(state);
        free(topics);
        ka_config_destroy(cfg);
        return rc;
}

/* ------------------------------------------------------------------ */
/* produce                                                            */

/* One source topic being produced to. */
typedef struct target_s {
        const char *name;
        rd_kafka_topic_t *rkt;
        int32_t schema_id;
        ka_plausible_t *gen;
        uint8_t *buf; /* Confluent header + the record of this tick */
        size_t cap, len;
        long produced, delivered, failed;
} target_t;

static void produce_usage(void)
{
        printf("usage: kafkaaggregator produce [--frequency HZ] "
               "[--max-messages N] [--config-file F]\n"
               "                                [--array-length L]\n\n"
               "Producer of plausible random data: one Confluent Avro "
               "message per source topic\n"
               "of the config (topic patterns expanded against the "
               "registry) per tick, using\n"
               "the latest '<topic>-value' schema, whatever its types: "
               "`time` and SAL's\n"
               "`*Stamp` fields = now (Unix seconds), sequence numbers count, "
               "doubles and\n"
               "floats uniform in [0, 1), ints in [0, 100), longs in [0, "
               "1e6), strings of 8\n"
               "letters, arrays as long as their default value (else %d).\n\n"
               "options:\n"
               "  --frequency HZ     ticks per second (FREQUENCY, default "
               "10)\n"
               "  --max-messages N   messages per topic, N < 1 runs until "
               "SIGINT/SIGTERM\n"
               "                     (MAX_MESSAGES, default 10)\n"
               "  --config-file F    aggregator config "
               "(AGGREGATOR_CONFIG_FILE, default\n"
               "                     " DEFAULT_CONFIG ")\n"
               "  --array-length L   elements of every array, 1 to %d "
               "(ARRAY_LENGTH; default:\n"
               "                     each array field's default length)\n"
               "  -h, --help         this help\n\n"
               "A run longer than %d s logs its progress every %d s. "
               "Environment:\n"
               "KAFKA_BROKER_URL, KAFKA_CONFIG_FILE, SCHEMA_REGISTRY_URL.\n",
               KA_PLAUSIBLE_ARRAY_LENGTH, KA_PLAUSIBLE_MAX_ARRAY, PROGRESS_S,
               PROGRESS_S);
}

/*
 * Looks up the latest schema of t's subject and prepares its record
 * generator. Returns false with the reason printed.
 */
static bool prepare_target(const char *cmd, ka_registry_t *reg, target_t *t,
                           size_t array_length)
{
        char *subject = value_subject(t->name);
        ka_schema_info_t info = {0};
        char errstr[1024];
        bool ok = false;

        if (!subject) {
                ka_cli_fail(cmd, "out of memory");
                return false;
        }
        if (ka_registry_latest(reg, subject, &info, errstr, sizeof(errstr))) {
                ka_cli_fail(cmd,
                            "no schema for topic '%s' (run init-example "
                            "first?): %s",
                            t->name, errstr);
                goto out;
        }
        if (!(t->gen = ka_plausible_new(info.schema, array_length, errstr,
                                        sizeof(errstr)))) {
                ka_cli_fail(cmd, "'%s' version %d: %s", subject,
                            (int)info.version, errstr);
                goto out;
        }
        t->schema_id = info.id;
        t->cap = 4096;
        if (!(t->buf = malloc(t->cap))) {
                ka_cli_fail(cmd, "out of memory");
                goto out;
        }
        ka_avro_write_header(t->buf, t->schema_id);
        ok = true;
out:
        ka_schema_info_release(&info);
        free(subject);
        return ok;
}

/* The topic patterns of cfg expanded against the registry's subjects.
 * Returns -1 to go on, or an exit status. */
static int expand_patterns(const char *cmd, ka_config_t *cfg,
                           ka_registry_t *reg)
{
        ka_schema_source_t *schemas = NULL;
        char **topics = NULL, *where = NULL, errstr[2048];
        size_t n = 0, named = cfg->ntopics - cfg->npatterns;
        int rc = KA_EXIT_FAIL;
        ka_err_t err;

        if (!cfg->npatterns)
                return -1;
        if (!(schemas = ka_schema_source_registry(reg)) ||
            !(where = ka_schema_source_where(schemas))) {
                ka_cli_fail(cmd, "out of memory");
                goto out;
        }
        if (ka_schema_source_topics(schemas, &topics, &n, errstr,
                                    sizeof(errstr))) {
                ka_cli_fail(cmd, "listing the topics of the patterns: %s",
                            errstr);
                goto out;
        }
        err = ka_config_expand(cfg, (const char *const *)topics, n, where, NULL,
                               errstr, sizeof(errstr));
        if (err) {
                /* A FILE:LINE:COL diagnostic stands on its own. */
                fprintf(stderr, "%s\n", errstr);
                rc = err == KA_ERR_INVALID ? KA_EXIT_USAGE : KA_EXIT_FAIL;
                goto out;
        }
        ka_info("produce: the topic patterns of %s matched %zu topics",
                cfg->path, cfg->ntopics - named);
        rc = -1;
out:
        ka_schema_source_topics_free(topics, n);
        free(where);
        ka_schema_source_destroy(schemas);
        return rc;
}

static int64_t monotonic_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps until CLOCK_MONOTONIC reaches deadline_ns or a signal stops us. */
static void sleep_until(int64_t deadline_ns)
{
        struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000),
                              .tv_nsec = (long)(deadline_ns % 1000000000)};

        while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
                                        NULL) == EINTR)
                ;
}

/* Delivery reports: counted per target, the first failure of each told. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
        target_t *t = rkm->_private;

        (void)rk;
        (void)opaque;
        if (!t)
                return;
        if (!rkm->err) {
                t->delivered++;
                return;
        }
        /* Purged after the flush timed out: that was reported once. */
        if (!t->failed && rkm->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
            rkm->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
                ka_error("produce: message to '%s' not delivered: %s", t->name,
                         rd_kafka_err2str(rkm->err));
        t->failed++;
}

/* Produces t->buf, waiting for room in a full queue. */
static rd_kafka_resp_err_t send_one(rd_kafka_t *rk, target_t *t,
                                    int64_t timestamp_ms)
{
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_producev(
                        rk, RD_KAFKA_V_RKT(t->rkt),
                        RD_KAFKA_V_VALUE(t->buf, t->len),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                        RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || stop)
                        return err;
                rd_kafka_poll(rk, 100);
        }
}

/* A progress line of a long run, at info. */
static void log_progress(const target_t *targets, size_t n, double seconds)
{
        long produced = 0, delivered = 0, failed = 0;

        for (size_t i = 0; i < n; i++) {
                produced += targets[i].produced;
                delivered += targets[i].delivered;
                failed += targets[i].failed;
        }
        ka_info("produce: %.0f s, %ld messages to %zu topics, %ld delivered, "
                "%ld failed",
                seconds, produced, n, delivered, failed);
}

/* The summary line: delivered messages per topic (when there are only a
 * few topics), failures if any. */
static void print_summary(const target_t *targets, size_t n, double seconds)
{
        long total = 0, failed = 0;

        printf("produced in %.1f s:", seconds);
        for (size_t i = 0; i < n; i++) {
                if (n <= SUMMARY_TOPICS)
                        printf("%s %s %ld", i ? "," : "", targets[i].name,
                               targets[i].delivered);
                total += targets[i].delivered;
                failed += targets[i].failed;
        }
        if (n > SUMMARY_TOPICS)
                printf(" %zu topics", n);
        printf(" (%ld messages delivered", total);
        if (failed)
                printf(", %ld failed", failed);
        printf(")\n");
}

int ka_produce_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"frequency", required_argument, 0, 'f'},
                {"max-messages", required_argument, 0, 'm'},
                {"config-file", required_argument, 0, 'c'},
                {"array-length", required_argument, 0, 'a'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        const char *cmd = argv[0];
        const char *config_file = NULL, *freq_arg = NULL, *max_arg = NULL;
        const char *alen_arg = NULL;
        const char *registry_url =
                ka_env("SCHEMA_REGISTRY_URL", DEFAULT_REGISTRY);
        struct sigaction sa, old_int, old_term;
        ka_registry_opts_t reg_opts = {.cancel = &stop};
        ka_config_t *cfg = NULL;
        const char **topics = NULL;
        target_t *targets = NULL;
        ka_registry_t *reg = NULL;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk = NULL;
        char errstr[1024];
        size_t ntopics = 0;
        double frequency;
        long max_messages, tick, array_length;
        uint64_t rng;
        int64_t start_ns, progress_ns;
        bool failed = false;
        int c, rc = KA_EXIT_FAIL;

        while ((c = ka_cli_getopt(argc, argv, ":h", opts)) != -1) {
                switch (c) {
                case 'f':
                        freq_arg = optarg;
                        break;
                case 'm':
                        max_arg = optarg;
                        break;
                case 'c':
                        config_file = optarg;
                        break;
                case 'a':
                        alen_arg = optarg;
                        break;
                case 'h':
                        produce_usage();
                        return KA_EXIT_OK;
                default:
                        return KA_EXIT_USAGE;
                }
        }
        if (!setting_double(cmd, "--frequency", freq_arg, "FREQUENCY", 10, 1e-6,
                            MAX_FREQUENCY, &frequency) ||
            !setting_long(cmd, "--max-messages", max_arg, "MAX_MESSAGES", 10,
                          LONG_MIN, LONG_MAX, &max_messages) ||
            !setting_long(cmd, "--array-length", alen_arg, "ARRAY_LENGTH", 0, 1,
                          KA_PLAUSIBLE_MAX_ARRAY, &array_length))
                return KA_EXIT_USAGE;
        if (!config_file)
                config_file = ka_env("AGGREGATOR_CONFIG_FILE", DEFAULT_CONFIG);
        if (!(cfg = ka_config_load(config_file, errstr, sizeof(errstr)))) {
                fprintf(stderr, "%s\n", errstr);
                return KA_EXIT_USAGE;
        }

        stop = 0;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);

        if (!(reg = ka_registry_new(registry_url, &reg_opts, errstr,
                                    sizeof(errstr)))) {
                rc = ka_cli_fail(cmd, "SCHEMA_REGISTRY_URL: %s", errstr);
                goto out;
        }
        if ((rc = expand_patterns(cmd, cfg, reg)) >= 0)
                goto out;
        rc = KA_EXIT_FAIL;
        if (!(topics = source_topics(cfg, &ntopics)) ||
            !(targets = calloc(ntopics ? ntopics : 1, sizeof(*targets)))) {
                rc = ka_cli_fail(cmd, "out of memory");
                goto out;
        }
        if (!ntopics) {
                rc = ka_cli_fail(cmd, "%s has no source topics", config_file);
                goto out;
        }
        for (size_t i = 0; i < ntopics; i++) {
                targets[i].name = topics[i];
                if (!prepare_target(cmd, reg, &targets[i],
                                    (size_t)array_length))
                        goto out;
        }

        if (!(conf = ka_kafka_conf(KA_KAFKA_PRODUCER, errstr,
                                   sizeof(errstr)))) {
                rc = ka_cli_fail(cmd, "%s", errstr);
                goto out;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
                                sizeof(errstr)))) {
                rd_kafka_conf_destroy(conf);
                rc = ka_cli_fail(cmd, "kafka client: %s", errstr);
                goto out;
        }
        for (size_t i = 0; i < ntopics; i++) {
                targets[i].rkt = rd_kafka_topic_new(rk, topics[i], NULL);
                if (!targets[i].rkt) {
                        rc = ka_cli_fail(
                                cmd, "topic '%s': %s", topics[i],
                                rd_kafka_err2str(rd_kafka_last_error()));
                        goto out;
                }
        }

        rng = (uint64_t)time(NULL) ^ (uint64_t)monotonic_ns() ^
              (uint64_t)getpid() << 32;
        start_ns = progress_ns = monotonic_ns();
        /* Tick k is due at start + k / frequency: lateness of one tick does
         * not push the later ones back. */
        for (tick = 0; !stop && (max_messages < 1 || tick < max_messages);
             tick++) {
                struct timespec now;
                double seconds;
                int64_t ms;

                sleep_until(start_ns +
                            (int64_t)((double)tick * 1e9 / frequency));
                if (stop)
                        break;
                clock_gettime(CLOCK_REALTIME, &now);
                seconds = (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
                ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
                for (size_t i = 0; i < ntopics; i++) {
                        rd_kafka_resp_err_t err;

                        if (ka_plausible_record(
                                    targets[i].gen, seconds,
                                    targets[i].produced, &rng, &targets[i].buf,
                                    &targets[i].cap, KA_AVRO_HEADER_SIZE,
                                    &targets[i].len)) {
                                ka_cli_fail(cmd, "out of memory");
                                failed = true;
                                stop = 1;
                                break;
                        }
                        err = send_one(rk, &targets[i], ms);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                break; /* stopped while waiting */
                        if (err) {
                                ka_cli_fail(cmd, "cannot produce to '%s': %s",
                                            targets[i].name,
                                            rd_kafka_err2str(err));
                                failed = true;
                                stop = 1;
                                break;
                        }
                        targets[i].produced++;
                }
                rd_kafka_poll(rk, 0);
                if (monotonic_ns() - progress_ns >= PROGRESS_S * 1000000000LL) {
                        progress_ns = monotonic_ns();
                        log_progress(targets, ntopics,
                                     (double)(progress_ns - start_ns) * 1e-9);
                }
        }

        if (rd_kafka_flush(rk, FLUSH_TIMEOUT_MS)) {
                ka_cli_fail(cmd,
                            "%d messages not delivered within %d s (is "
                            "Kafka reachable?)",
                            rd_kafka_outq_len(rk), FLUSH_TIMEOUT_MS / 1000);
                failed = true;
                /* Count what is left as failed, and spare librdkafka's
                 * warning about messages still in the queue. */
                rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE |
                                           RD_KAFKA_PURGE_F_INFLIGHT);
                rd_kafka_poll(rk, 0);
        }
        print_summary(targets, ntopics,
                      (double)(monotonic_ns() - start_ns) * 1e-9);
        for (size_t i = 0; i < ntopics; i++)
                if (targets[i].failed)
                        failed = true;
        rc = failed ? KA_EXIT_FAIL : KA_EXIT_OK;
out:
        for (size_t i = 0; targets && i < ntopics; i++) {
                if (targets[i].rkt)
                        rd_kafka_topic_destroy(targets[i].rkt);
                ka_plausible_destroy(targets[i].gen);
                free(targets[i].buf);
        }
        if (rk)
                rd_kafka_destroy(rk);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        ka_registry_destroy(reg);
        free(targets);
        free(topics);
        ka_config_destroy(cfg);
        return rc;
}
