/*
 * `kafkaaggregator consume`: a console consumer for any topic that prints
 * Confluent Avro messages as JSON through the Schema Registry, for looking
 * at source and aggregated topics while developing and testing.
 */
#include "consume.h"
#include "avro_json.h"
#include "avro_schema.h"
#include "avro_skip.h"
#include "avro_wire.h"
#include "cli.h"
#include "ka.h"
#include "kafka.h"
#include "log.h"
#include "registry.h"

#include <avro.h>
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

#define DEFAULT_REGISTRY "http://localhost:8081"
/* consume never commits, but a consumer needs a group to be assigned
 * partitions. */
#define CONSUME_GROUP       "kafkaaggregator-consume"
#define METADATA_TIMEOUT_MS 10000
#define POLL_MS             100
#define MAX_TIMEOUT_S       (365.0 * 86400)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

/*
 * How to decode the messages written with one schema id: the skip program
 * that checks a value, then avro-c. When the id cannot be used (unknown to
 * the registry, an invalid or unsupported schema), schema is NULL and why
 * says so: the answer is kept so that a topic full of such messages does
 * not ask the registry each time.
 */
typedef struct decoder_s {
        int32_t id;
        int32_t *skip;
        size_t skip_len;
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t value;
        char why[512];
} decoder_t;

typedef struct consumer_s {
        ka_registry_t *reg;
        decoder_t *decoders;
        size_t ndecoders, cap;
        avro_reader_t reader;
        long printed, skipped;
} consumer_t;

static void usage(void)
{
        printf("usage: kafkaaggregator consume --topic T [--max-messages N] "
               "[--from-beginning]\n"
               "                                [--timeout S]\n\n"
               "Prints the messages of topic T as JSON lines: Confluent Avro "
               "decoded with the\n"
               "writer schema from SCHEMA_REGISTRY_URL (NaN and infinite "
               "floats as the strings\n"
               "\"NaN\", \"Infinity\", \"-Infinity\"), JSON as it is, a "
               "null value as `null`.\n"
               "Anything else is skipped with a warning. Reads every "
               "partition without a\n"
               "consumer group: no offsets are committed.\n\n"
               "options:\n"
               "  --topic T          the topic (required)\n"
               "  --max-messages N   stop after N messages (N >= 1; default: "
               "no limit)\n"
               "  --from-beginning   start at the oldest message instead of "
               "the end\n"
               "  --timeout S        stop when no message arrived for S "
               "seconds (default 10,\n"
               "                     0 = wait forever)\n"
               "  -h, --help         this help\n\n"
               "Environment: KAFKA_BROKER_URL, KAFKA_CONFIG_FILE, "
               "SCHEMA_REGISTRY_URL.\n");
}

static double monotonic_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Whether schema holds an array whose items can take no bytes (null, empty
 * fixed, records of those). avro-c reads such an array item by item, so a
 * corrupt block count of 2^62 would run for ever (the skip program that
 * checks the value first passes such a block at once). Named references
 * are not followed (they would recurse) and count as possibly empty.
 */
static bool maybe_empty(avro_schema_t schema, int depth)
{
        if (depth > KA_SKIP_MAX_DEPTH)
                return true;
        switch (avro_typeof(schema)) {
        case AVRO_NULL:
        case AVRO_LINK:
                return true;
        case AVRO_FIXED:
                return avro_schema_fixed_size(schema) == 0;
        case AVRO_RECORD:
                for (size_t i = 0; i < avro_schema_record_size(schema); i++)
                        if (!maybe_empty(avro_schema_record_field_get_by_index(
                                                 schema, (int)i),
                                         depth + 1))
                                return false;
                return true;
        default:
                return false;
        }
}

static bool has_empty_array(avro_schema_t schema, int depth)
{
        if (depth > KA_SKIP_MAX_DEPTH)
                return true;
        switch (avro_typeof(schema)) {
        case AVRO_RECORD:
                for (size_t i = 0; i < avro_schema_record_size(schema); i++)
                        if (has_empty_array(
                                    avro_schema_record_field_get_by_index(
                                            schema, (int)i),
                                    depth + 1))
                                return true;
                return false;
        case AVRO_UNION:
                for (size_t i = 0; i < avro_schema_union_size(schema); i++)
                        if (has_empty_array(
                                    avro_schema_union_branch(schema, (int)i),
                                    depth + 1))
                                return true;
                return false;
        case AVRO_MAP:
                return has_empty_array(avro_schema_map_values(schema),
                                       depth + 1);
        case AVRO_ARRAY:
                return maybe_empty(avro_schema_array_items(schema),
                                   depth + 1) ||
                       has_empty_array(avro_schema_array_items(schema),
                                       depth + 1);
        default:
                return false;
        }
}

/* Builds d for d->id from the registry. Transient failures return false
 * and leave nothing cached; permanent ones leave d->schema NULL. */
static bool decoder_init(consumer_t *cs, decoder_t *d, char *errstr,
                         size_t errstr_size)
{
        ka_avro_schema_t *tree;
        const char *json;
        ka_err_t err;

        err = ka_registry_schema_by_id(cs->reg, d->id, &json, errstr,
                                       errstr_size);
        if (err == KA_ERR_TRANSPORT || err == KA_ERR_NOMEM)
                return false;
        if (err) {
                snprintf(d->why, sizeof(d->why), "%s", errstr);
                return true;
        }
        if (!(tree = ka_avro_schema_parse(json, errstr, errstr_size))) {
                snprintf(d->why, sizeof(d->why),
                         "schema id %d is not a valid Avro schema: %.400s",
                         (int)d->id, errstr);
                return true;
        }
        err = ka_avro_skip_compile(ka_avro_schema_root(tree), &d->skip,
                                   &d->skip_len);
        ka_avro_schema_destroy(tree);
        if (err) {
                snprintf(d->why, sizeof(d->why),
                         "schema id %d: cannot check its values (%s)",
                         (int)d->id, ka_err_str(err));
                return true;
        }
        if (avro_schema_from_json_length(json, strlen(json), &d->schema)) {
                d->schema = NULL;
                snprintf(d->why, sizeof(d->why),
                         "schema id %d is not a valid Avro schema: %s",
                         (int)d->id, avro_strerror());
                goto unusable;
        }
        if (has_empty_array(d->schema, 0)) {
                snprintf(d->why, sizeof(d->why),
                         "schema id %d has arrays of empty items, which "
                         "consume does not decode",
                         (int)d->id);
                goto unusable;
        }
        if (!(d->iface = avro_generic_class_from_schema(d->schema)) ||
            avro_generic_value_new(d->iface, &d->value)) {
                snprintf(d->why, sizeof(d->why),
                         "schema id %d: avro-c cannot decode it: %s",
                         (int)d->id, avro_strerror());
                goto unusable;
        }
        return true;
unusable:
        if (d->iface)
                avro_value_iface_decref(d->iface);
        d->iface = NULL;
        if (d->schema)
                avro_schema_decref(d->schema);
        d->schema = NULL;
        free(d->skip);
        d->skip = NULL;
        return true;
}

/* The decoder of schema id, fetching it on first use; NULL with errstr
 * when the registry could not be asked. */
static decoder_t *decoder_get(consumer_t *cs, int32_t id, char *errstr,
                              size_t errstr_size)
{
        decoder_t *d;

        for (size_t i = 0; i < cs->ndecoders; i++)
                if (cs->decoders[i].id == id)
                        return &cs->decoders[i];
        if (cs->ndecoders == cs->cap) {
                size_t cap = cs->cap ? 2 * cs->cap : 8;
                decoder_t *grown =
                        realloc(cs->decoders, cap * sizeof(*cs->decoders));

                if (!grown) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return NULL;
                }
                cs->decoders = grown;
                cs->cap = cap;
        }
        d = &cs->decoders[cs->ndecoders];
        memset(d, 0, sizeof(*d));
        d->id = id;
        if (!decoder_init(cs, d, errstr, errstr_size))
                return NULL;
        cs->ndecoders++;
        return d;
}

static void decoders_release(consumer_t *cs)
{
        for (size_t i = 0; i < cs->ndecoders; i++) {
                decoder_t *d = &cs->decoders[i];

                free(d->skip);
                if (!d->schema)
                        continue;
                avro_value_decref(&d->value);
                avro_value_iface_decref(d->iface);
                avro_schema_decref(d->schema);
        }
        free(cs->decoders);
}

/*
 * Decodes a Confluent Avro payload into *json (malloc'd, one line; see
 * ka_avro_json() for the text). Returns false with the reason in why.
 */
static bool decode_avro(consumer_t *cs, const uint8_t *buf, size_t len,
                        char **json, char *why, size_t why_size)
{
        ka_avro_reader_t r;
        decoder_t *d;
        int32_t id;
        ka_err_t err;

        if ((err = ka_avro_read_header(buf, len, &id))) {
                snprintf(why, why_size, "bad Confluent Avro header (%s)",
                         ka_err_str(err));
                return false;
        }
        if (!(d = decoder_get(cs, id, why, why_size)))
                return false;
        if (!d->schema) {
                snprintf(why, why_size, "%s", d->why);
                return false;
        }
        /* avro-c trusts lengths and counts; check the value first. */
        ka_avro_reader_init(&r, buf + KA_AVRO_HEADER_SIZE,
                            len - KA_AVRO_HEADER_SIZE);
        if ((err = ka_avro_skip_program(&r, d->skip, d->skip_len))) {
                snprintf(why, why_size,
                         "corrupt Avro value for schema id %d (%s)", (int)id,
                         ka_err_str(err));
                return false;
        }
        avro_reader_memory_set_source(cs->reader,
                                      (const char *)buf + KA_AVRO_HEADER_SIZE,
                                      (int64_t)(len - KA_AVRO_HEADER_SIZE));
        avro_value_reset(&d->value);
        if (avro_value_read(cs->reader, &d->value) ||
            !(*json = ka_avro_json(&d->value))) {
                snprintf(why, why_size, "schema id %d: %s", (int)id,
                         avro_strerror());
                return false;
        }
        return true;
}

/* Whether buf is a JSON object or array. */
static bool is_json(const uint8_t *buf, size_t len)
{
        json_error_t error;
        json_t *doc;

        if (!len || (buf[0] != '{' && buf[0] != '[' && buf[0] != ' ' &&
                     buf[0] != '\t' && buf[0] != '\n' && buf[0] != '\r'))
                return false;
        doc = json_loadb((const char *)buf, len, 0, &error);
        if (!doc)
                return false;
        json_decref(doc);
        return true;
}

/* Prints valid JSON on one line: raw CR and LF can only be whitespace
 * between tokens, so they become spaces. */
static void print_json_line(const uint8_t *buf, size_t len)
{
        size_t start = 0;

        while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
                       buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                len--;
        for (size_t i = 0; i < len; i++) {
                if (buf[i] != '\n' && buf[i] != '\r')
                        continue;
                fwrite(buf + start, 1, i - start, stdout);
                putchar(' ');
                start = i + 1;
        }
        fwrite(buf + start, 1, len - start, stdout);
        putchar('\n');
}

static void handle_message(consumer_t *cs, const rd_kafka_message_t *rkm)
{
        const uint8_t *buf = rkm->payload;
        char why[512];
        char *json = NULL;

        if (!buf) {
                puts("null");
                cs->printed++;
                return;
        }
        if (rkm->len && buf[0] == KA_AVRO_MAGIC) {
                if (decode_avro(cs, buf, rkm->len, &json, why, sizeof(why))) {
                        puts(json);
                        free(json);
                        cs->printed++;
                        return;
                }
        } else if (is_json(buf, rkm->len)) {
                print_json_line(buf, rkm->len);
                cs->printed++;
                return;
        } else {
                snprintf(why, sizeof(why),
                         "neither Confluent Avro nor JSON (%zu bytes)",
                         rkm->len);
        }
        cs->skipped++;
        ka_warn("consume: skipped message at %s [%d] offset %lld: %s",
                rd_kafka_topic_name(rkm->rkt), (int)rkm->partition,
                (long long)rkm->offset, why);
}

/*
 * The partitions of topic from a metadata request for every topic: asking
 * for one topic by name would create it on brokers (and the mock cluster)
 * that auto-create topics. Returns NULL with a one-line error printed.
 */
static rd_kafka_topic_partition_list_t *topic_partitions(const char *cmd,
                                                         rd_kafka_t *rk,
                                                         const char *topic,
                                                         int64_t offset)
{
        const rd_kafka_metadata_t *md = NULL;
        const rd_kafka_metadata_topic_t *mt = NULL;
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_resp_err_t err;

        err = rd_kafka_metadata(rk, 1, NULL, &md, METADATA_TIMEOUT_MS);
        if (err) {
                ka_cli_fail(cmd, "cannot list the topics of Kafka: %s",
                            rd_kafka_err2str(err));
                return NULL;
        }
        for (int i = 0; i < md->topic_cnt; i++)
                if (!strcmp(md->topics[i].topic, topic))
                        mt = &md->topics[i];
        if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
            (!mt->err && mt->partition_cnt == 0)) {
                ka_cli_fail(cmd, "topic '%s' does not exist", topic);
        } else if (mt->err) {
                ka_cli_fail(cmd, "topic '%s': %s", topic,
                            rd_kafka_err2str(mt->err));
        } else {
                parts = rd_kafka_topic_partition_list_new(mt->partition_cnt);
                for (int i = 0; i < mt->partition_cnt; i++)
                        rd_kafka_topic_partition_list_add(parts, topic,
                                                          mt->partitions[i].id)
                                ->offset = offset;
        }
        rd_kafka_metadata_destroy(md);
        return parts;
}

int ka_consume_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"topic", required_argument, 0, 't'},
                {"max-messages", required_argument, 0, 'm'},
                {"from-beginning", no_argument, 0, 'b'},
                {"timeout", required_argument, 0, 'T'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        const char *cmd = argv[0];
        const char *topic = NULL;
        const char *registry_url =
                ka_env("SCHEMA_REGISTRY_URL", DEFAULT_REGISTRY);
        struct sigaction sa, old_int, old_term;
        ka_registry_opts_t reg_opts = {.cancel = &stop};
        consumer_t cs = {0};
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk = NULL;
        rd_kafka_resp_err_t err;
        char errstr[1024];
        long max_messages = 0, count = 0;
        double timeout = 10, last;
        bool from_beginning = false;
        int c, rc = KA_EXIT_FAIL;

        while ((c = ka_cli_getopt(argc, argv, ":h", opts)) != -1) {
                switch (c) {
                case 't':
                        topic = optarg;
                        break;
                case 'm':
                        if (!ka_cli_parse_long(cmd, "--max-messages", optarg, 1,
                                               LONG_MAX, &max_messages))
                                return KA_EXIT_USAGE;
                        break;
                case 'b':
                        from_beginning = true;
                        break;
                case 'T':
                        if (!ka_cli_parse_double(cmd, "--timeout", optarg, 0,
                                                 MAX_TIMEOUT_S, &timeout))
                                return KA_EXIT_USAGE;
                        break;
                case 'h':
                        usage();
                        return KA_EXIT_OK;
                default:
                        return KA_EXIT_USAGE;
                }
        }
        if (!topic || !*topic)
                return ka_cli_usage_error(cmd, "--topic is required");

        stop = 0;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);

        if (!(cs.reg = ka_registry_new(registry_url, &reg_opts, errstr,
                                       sizeof(errstr)))) {
                rc = ka_cli_fail(cmd, "SCHEMA_REGISTRY_URL: %s", errstr);
                goto out;
        }
        if (!(cs.reader = avro_reader_memory("", 0))) {
                rc = ka_cli_fail(cmd, "out of memory");
                goto out;
        }
        if (!(conf = ka_kafka_conf(KA_KAFKA_CONSUMER, errstr,
                                   sizeof(errstr)))) {
                rc = ka_cli_fail(cmd, "%s", errstr);
                goto out;
        }
        /* Whatever KAFKA_CONFIG_FILE says, consume leaves group offsets
         * alone. */
        if (ka_kafka_set(conf, "group.id", CONSUME_GROUP, errstr,
                         sizeof(errstr)) ||
            ka_kafka_set(conf, "enable.auto.commit", "false", errstr,
                         sizeof(errstr)) ||
            !(rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
                                sizeof(errstr)))) {
                rd_kafka_conf_destroy(conf);
                rc = ka_cli_fail(cmd, "kafka client: %s", errstr);
                goto out;
        }
        rd_kafka_poll_set_consumer(rk);
        parts = topic_partitions(cmd, rk, topic,
                                 from_beginning ? RD_KAFKA_OFFSET_BEGINNING
                                                : RD_KAFKA_OFFSET_END);
        if (!parts)
                goto out;
        if ((err = rd_kafka_assign(rk, parts))) {
                rc = ka_cli_fail(cmd, "cannot assign '%s': %s", topic,
                                 rd_kafka_err2str(err));
                goto out;
        }

        last = monotonic_s();
        while (!stop && (!max_messages || count < max_messages)) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, POLL_MS);

                if (!rkm) {
                        fflush(stdout);
                        if (timeout > 0 && monotonic_s() - last >= timeout)
                                break;
                        continue;
                }
                if (rkm->err) {
                        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                ka_warn("consume: %s",
                                        rd_kafka_message_errstr(rkm));
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                last = monotonic_s();
                count++;
                handle_message(&cs, rkm);
                rd_kafka_message_destroy(rkm);
        }
        fflush(stdout);
        if (cs.skipped)
                ka_warn("consume: %ld messages printed, %ld skipped",
                        cs.printed, cs.skipped);
        rc = KA_EXIT_OK;
out:
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        if (rk) {
                rd_kafka_consumer_close(rk);
                rd_kafka_destroy(rk);
        }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        if (cs.reader)
                avro_reader_free(cs.reader);
        decoders_release(&cs);
        ka_registry_destroy(cs.reg);
        return rc;
}
