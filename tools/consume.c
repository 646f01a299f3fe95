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

#define DEFAULT_REGISTRY "http://localhost:8081"
/* consume never commits, but a consumer needs a group to be assigned
 * partitions. */
#define CONSUME_GROUP       "kafkaaggregator-consume"
#define METADATA_TIMEOUT_MS 10000
#define POLL_MS             100
#define MAX_TIMEOUT_S       (365.0 * 86400)
/* --offset -N beyond this starts at the beginning. */
#define TAIL_MAX (INT64_MAX / 2)

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
        bool print_key, print_metadata;
        long printed, skipped;
} consumer_t;

static void usage(void)
{
        static const ka_cli_item_t options[] = {
                {"--topic T", "the topic (required)", NULL},
                {"--partition N", "read partition N only", "every partition"},
                {"--offset O",
                 "start at beginning, end, offset O (within what the "
                 "partition holds) or, for -N, N messages before the end",
                 "end"},
                {"--from-beginning", "the same as --offset beginning", NULL},
                {"-e, --exit",
                 "exit once every partition was read to the end it had at "
                 "the start",
                 NULL},
                {"--print-key",
                 "print {\"key\": K, \"value\": V}: keys decode as values "
                 "do, any other key is a JSON string",
                 NULL},
                {"--print-metadata",
                 "print {\"partition\": P, \"offset\": O, \"timestamp\": "
                 "MS, \"value\": V} (with \"key\" before \"value\" "
                 "with --print-key); MS is null when Kafka has none",
                 NULL},
                {"--max-messages N", "stop after N messages, N >= 1",
                 "no limit"},
                {"--timeout S",
                 "stop when no message arrived for S seconds, 0 for never",
                 "10"},
                {NULL, NULL, NULL},
        };
        static const ka_cli_item_t *const environment[] = {
                &ka_cli_env_brokers, &ka_cli_env_kafka_config,
                &ka_cli_env_registry, NULL};
        static const ka_cli_help_t help = {
                .usage = "consume --topic T [--partition N] [--offset O] "
                         "[--from-beginning] [-e] [--print-key] "
                         "[--print-metadata] [--max-messages N] "
                         "[--timeout S]",
                .description =
                        "Prints the messages of topic T as JSON lines: "
                        "Confluent Avro decoded with the writer schema from "
                        "the Schema Registry (numbers in their shortest "
                        "text, NaN and infinities as the strings \"NaN\", "
                        "\"Infinity\", \"-Infinity\"), JSON as it is, a "
                        "null value as null; anything else is skipped with a "
                        "warning. Reads without a consumer group: no offsets "
                        "are committed.",
                .options = options,
                .environment = environment,
        };

        ka_cli_help_print(stdout, &help);
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

/* Writes valid JSON on one line: raw CR and LF can only be whitespace
 * between tokens, so they become spaces. */
static void put_json_line(FILE *out, const uint8_t *buf, size_t len)
{
        size_t start = 0;

        while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
                       buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                len--;
        for (size_t i = 0; i < len; i++) {
                if (buf[i] != '\n' && buf[i] != '\r')
                        continue;
                fwrite(buf + start, 1, i - start, out);
                putc(' ', out);
                start = i + 1;
        }
        fwrite(buf + start, 1, len - start, out);
}

/*
 * Writes a message's value or key as JSON to out: null, Confluent Avro
 * decoded, a JSON object or array as it is. Anything else is a JSON string
 * for a key (is_key) and an error for a value. Returns false with the
 * reason in why.
 */
static bool put_payload(consumer_t *cs, FILE *out, const void *payload,
                        size_t len, bool is_key, char *why, size_t why_size)
{
        const uint8_t *buf = payload;
        char *json;

        if (!buf) {
                fputs("null", out);
                return true;
        }
        if (len && buf[0] == KA_AVRO_MAGIC) {
                if (!decode_avro(cs, buf, len, &json, why, why_size))
                        return false;
                fputs(json, out);
                free(json);
                return true;
        }
        if (is_json(buf, len)) {
                put_json_line(out, buf, len);
                return true;
        }
        if (is_key) {
                ka_avro_json_put_text(out, payload, len);
                return true;
        }
        snprintf(why, why_size, "neither Confluent Avro nor JSON (%zu bytes)",
                 len);
        return false;
}

/*
 * Prints rkm as one line: its value, or with --print-key or
 * --print-metadata an object {"partition": P, "offset": O, "timestamp":
 * MS, "key": K, "value": V} of the parts asked for.
 */
static void handle_message(consumer_t *cs, const rd_kafka_message_t *rkm)
{
        bool wrap = cs->print_key || cs->print_metadata;
        char why[512] = "";
        char *line = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&line, &len);
        bool ok;

        if (!out) {
                ka_error("consume: out of memory");
                cs->skipped++;
                return;
        }
        if (wrap)
                putc('{', out);
        if (cs->print_metadata) {
                rd_kafka_timestamp_type_t tstype;
                int64_t ts = rd_kafka_message_timestamp(rkm, &tstype);

                fprintf(out, "\"partition\": %d, \"offset\": %lld, ",
                        (int)rkm->partition, (long long)rkm->offset);
                if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts < 0)
                        fputs("\"timestamp\": null, ", out);
                else
                        fprintf(out, "\"timestamp\": %lld, ", (long long)ts);
        }
        ok = true;
        if (cs->print_key) {
                char key_why[480];

                fputs("\"key\": ", out);
                ok = put_payload(cs, out, rkm->key, rkm->key_len, true, key_why,
                                 sizeof(key_why));
                if (ok)
                        fputs(", ", out);
                else
                        snprintf(why, sizeof(why), "key: %s", key_why);
        }
        if (ok && wrap)
                fputs("\"value\": ", out);
        if (ok)
                ok = put_payload(cs, out, rkm->payload, rkm->len, false, why,
                                 sizeof(why));
        if (ok && wrap)
                putc('}', out);
        if (fclose(out) && ok) {
                snprintf(why, sizeof(why), "out of memory");
                ok = false;
        }
        if (ok) {
                fwrite(line, 1, len, stdout);
                putchar('\n');
                cs->printed++;
        } else {
                cs->skipped++;
                ka_warn("consume: skipped message at %s [%d] offset %lld: %s",
                        rd_kafka_topic_name(rkm->rkt), (int)rkm->partition,
                        (long long)rkm->offset, why);
        }
        free(line);
}

/* Where consume starts in each partition (--offset). */
typedef enum start_e {
        START_END,       /* the next message produced */
        START_BEGINNING, /* the oldest message kept */
        START_OFFSET,    /* that offset, clamped to what is kept */
        START_TAIL,      /* that many messages before the end */
} start_t;

typedef struct opts_s {
        const char *topic;
        long max_messages;
        double timeout;
        long partition; /* -1: every partition */
        start_t start;
        int64_t offset; /* START_OFFSET, START_TAIL */
        bool exit_at_end, print_key, print_metadata;
} opts_t;

/* An assigned partition and, with --exit, where it ends. */
typedef struct part_s {
        int32_t id;
        int64_t end; /* the high watermark at start */
        bool done;
} part_t;

/*
 * The partitions of the topic (or --partition alone) from a metadata
 * request for every topic: asking for one topic by name would create it on
 * brokers (and the mock cluster) that auto-create topics. Returns the
 * count, with *partsp malloc'd, or -1 with a one-line error printed.
 */
static int topic_partitions(const char *cmd, rd_kafka_t *rk, const opts_t *o,
                            part_t **partsp)
{
        const rd_kafka_metadata_t *md = NULL;
        const rd_kafka_metadata_topic_t *mt = NULL;
        rd_kafka_resp_err_t err;
        part_t *parts = NULL;
        int n = -1;

        err = rd_kafka_metadata(rk, 1, NULL, &md, METADATA_TIMEOUT_MS);
        if (err) {
                ka_cli_fail(cmd, "cannot list the topics of Kafka: %s",
                            rd_kafka_err2str(err));
                return -1;
        }
        for (int i = 0; i < md->topic_cnt; i++)
                if (!strcmp(md->topics[i].topic, o->topic))
                        mt = &md->topics[i];
        if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
            (!mt->err && mt->partition_cnt == 0)) {
                ka_cli_fail(cmd, "topic '%s' does not exist", o->topic);
        } else if (mt->err) {
                ka_cli_fail(cmd, "topic '%s': %s", o->topic,
                            rd_kafka_err2str(mt->err));
        } else if (!(parts = calloc((size_t)mt->partition_cnt,
                                    sizeof(*parts)))) {
                ka_cli_fail(cmd, "out of memory");
        } else {
                n = 0;
                for (int i = 0; i < mt->partition_cnt; i++)
                        if (o->partition < 0 ||
                            mt->partitions[i].id == o->partition)
                                parts[n++].id = mt->partitions[i].id;
                if (!n) {
                        ka_cli_fail(cmd,
                                    "topic '%s' has no partition %ld (it "
                                    "has %d)",
                                    o->topic, o->partition, mt->partition_cnt);
                        n = -1;
                }
        }
        rd_kafka_metadata_destroy(md);
        if (n < 0)
                free(parts);
        else
                *partsp = parts;
        return n;
}

/*
 * The assignment: each partition at its start. --exit and an absolute
 * offset need the watermarks: then every start is an offset (the low
 * watermark for the beginning, the high one for the end, an offset
 * clamped between them) and part->end the high watermark; otherwise
 * librdkafka's logical offsets do. Returns NULL with a one-line error
 * printed.
 */
static rd_kafka_topic_partition_list_t *assignment(const char *cmd,
                                                   rd_kafka_t *rk,
                                                   const opts_t *o,
                                                   part_t *parts, int nparts)
{
        rd_kafka_topic_partition_list_t *list =
                rd_kafka_topic_partition_list_new(nparts);
        bool resolve = o->exit_at_end || o->start == START_OFFSET;

        for (int i = 0; i < nparts; i++) {
                int64_t lo, hi, at;
                rd_kafka_resp_err_t err;

                if (!resolve) {
                        /* A tail longer than any partition can be is the
                         * beginning (and RD_KAFKA_OFFSET_TAIL would
                         * overflow). */
                        if (o->start == START_TAIL && o->offset < TAIL_MAX)
                                at = RD_KAFKA_OFFSET_TAIL(o->offset);
                        else if (o->start == START_END)
                                at = RD_KAFKA_OFFSET_END;
                        else
                                at = RD_KAFKA_OFFSET_BEGINNING;
                        rd_kafka_topic_partition_list_add(list, o->topic,
                                                          parts[i].id)
                                ->offset = at;
                        continue;
                }
                err = rd_kafka_query_watermark_offsets(rk, o->topic,
                                                       parts[i].id, &lo, &hi,
                                                       METADATA_TIMEOUT_MS);
                if (err) {
                        ka_cli_fail(cmd,
                                    "cannot read the offsets of %s [%d]: %s",
                                    o->topic, (int)parts[i].id,
                                    rd_kafka_err2str(err));
                        rd_kafka_topic_partition_list_destroy(list);
                        return NULL;
                }
                switch (o->start) {
                case START_BEGINNING:
                        at = lo;
                        break;
                case START_OFFSET:
                        at = o->offset < lo   ? lo
                             : o->offset > hi ? hi
                                              : o->offset;
                        break;
                case START_TAIL:
                        at = hi - o->offset > lo ? hi - o->offset : lo;
                        break;
                default:
                        at = hi;
                        break;
                }
                parts[i].end = hi;
                parts[i].done = o->exit_at_end && at >= hi;
                ka_debug("consume: %s [%d] from offset %lld (offsets %lld to "
                         "%lld)",
                         o->topic, (int)parts[i].id, (long long)at,
                         (long long)lo, (long long)hi);
                rd_kafka_topic_partition_list_add(list, o->topic, parts[i].id)
                        ->offset = at;
        }
        return list;
}

static part_t *part_of(part_t *parts, int nparts, int32_t id)
{
        for (int i = 0; i < nparts; i++)
                if (parts[i].id == id)
                        return &parts[i];
        return NULL;
}

/* --offset: beginning, end, an offset, or -N (N before the end). */
static bool parse_offset(const char *cmd, const char *value, opts_t *o)
{
        char *end;
        long long v;

        if (!strcmp(value, "beginning")) {
                o->start = START_BEGINNING;
                return true;
        }
        if (!strcmp(value, "end")) {
                o->start = START_END;
                return true;
        }
        errno = 0;
        v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v == LLONG_MIN) {
                ka_cli_usage_error(cmd,
                                   "--offset: '%s' is not beginning, end, an "
                                   "offset or -N",
                                   value);
                return false;
        }
        o->start = v < 0 ? START_TAIL : START_OFFSET;
        o->offset = v < 0 ? -(int64_t)v : (int64_t)v;
        return true;
}

/* Returns -1 to go on, or an exit status. */
static int parse_opts(int argc, char **argv, opts_t *o)
{
        static const struct option longopts[] = {
                {"topic", required_argument, 0, 't'},
                {"max-messages", required_argument, 0, 'm'},
                {"from-beginning", no_argument, 0, 'b'},
                {"offset", required_argument, 0, 'o'},
                {"partition", required_argument, 0, 'p'},
                {"exit", no_argument, 0, 'e'},
                {"print-key", no_argument, 0, 'k'},
                {"print-metadata", no_argument, 0, 'M'},
                {"timeout", required_argument, 0, 'T'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        const char *cmd = argv[0];
        bool from_beginning = false, offset_given = false;
        int c;

        *o = (opts_t){.timeout = 10, .partition = -1, .start = START_END};
        while ((c = ka_cli_getopt(argc, argv, ":he", longopts)) != -1) {
                switch (c) {
                case 't':
                        o->topic = optarg;
                        break;
                case 'm':
                        if (!ka_cli_parse_long(cmd, "--max-messages", optarg, 1,
                                               LONG_MAX, &o->max_messages))
                                return KA_EXIT_USAGE;
                        break;
                case 'b':
                        from_beginning = true;
                        break;
                case 'o':
                        if (!parse_offset(cmd, optarg, o))
                                return KA_EXIT_USAGE;
                        offset_given = true;
                        break;
                case 'p':
                        if (!ka_cli_parse_long(cmd, "--partition", optarg, 0,
                                               INT32_MAX, &o->partition))
                                return KA_EXIT_USAGE;
                        break;
                case 'e':
                        o->exit_at_end = true;
                        break;
                case 'k':
                        o->print_key = true;
                        break;
                case 'M':
                        o->print_metadata = true;
                        break;
                case 'T':
                        if (!ka_cli_parse_double(cmd, "--timeout", optarg, 0,
                                                 MAX_TIMEOUT_S, &o->timeout))
                                return KA_EXIT_USAGE;
                        break;
                case 'h':
                        usage();
                        return KA_EXIT_OK;
                default:
                        return KA_EXIT_USAGE;
                }
        }
        if (!o->topic || !*o->topic)
                return ka_cli_usage_error(cmd, "--topic is required");
        if (from_beginning && offset_given)
                return ka_cli_usage_error(cmd, "--from-beginning and --offset "
                                               "cannot go together");
        if (from_beginning)
                o->start = START_BEGINNING;
        return -1;
}

int ka_consume_main(int argc, char **argv)
{
        const char *cmd = argv[0];
        const char *registry_url =
                ka_env("SCHEMA_REGISTRY_URL", DEFAULT_REGISTRY);
        struct sigaction sa, old_int, old_term;
        ka_registry_opts_t reg_opts = {.cancel = &stop};
        consumer_t cs = {0};
        rd_kafka_topic_partition_list_t *list = NULL;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk = NULL;
        rd_kafka_resp_err_t err;
        part_t *parts = NULL;
        opts_t o;
        char errstr[1024];
        long count = 0;
        double last;
        int nparts = 0, ndone = 0, rc;

        if ((rc = parse_opts(argc, argv, &o)) >= 0)
                return rc;
        rc = KA_EXIT_FAIL;
        cs.print_key = o.print_key;
        cs.print_metadata = o.print_metadata;

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
         * alone; --exit learns of partitions it finds at their end (past
         * offsets that hold no message, such as transaction markers). */
        if (ka_kafka_set(conf, "group.id", CONSUME_GROUP, errstr,
                         sizeof(errstr)) ||
            ka_kafka_set(conf, "enable.auto.commit", "false", errstr,
                         sizeof(errstr)) ||
            ka_kafka_set(conf, "enable.partition.eof",
                         o.exit_at_end ? "true" : "false", errstr,
                         sizeof(errstr)) ||
            !(rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
                                sizeof(errstr)))) {
                rd_kafka_conf_destroy(conf);
                rc = ka_cli_fail(cmd, "kafka client: %s", errstr);
                goto out;
        }
        rd_kafka_poll_set_consumer(rk);
        if ((nparts = topic_partitions(cmd, rk, &o, &parts)) < 0 ||
            !(list = assignment(cmd, rk, &o, parts, nparts)))
                goto out;
        for (int i = 0; i < nparts; i++)
                ndone += parts[i].done;
        if ((err = rd_kafka_assign(rk, list))) {
                rc = ka_cli_fail(cmd, "cannot assign '%s': %s", o.topic,
                                 rd_kafka_err2str(err));
                goto out;
        }

        last = monotonic_s();
        while (!stop && (!o.max_messages || count < o.max_messages) &&
               !(o.exit_at_end && ndone == nparts)) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, POLL_MS);
                part_t *part;

                if (!rkm) {
                        fflush(stdout);
                        if (o.timeout > 0 && monotonic_s() - last >= o.timeout)
                                break;
                        continue;
                }
                part = part_of(parts, nparts, rkm->partition);
                if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (part && !part->done) {
                                part->done = true;
                                ndone++;
                                ka_debug("consume: %s [%d] at its end, "
                                         "offset %lld",
                                         o.topic, (int)rkm->partition,
                                         (long long)rkm->offset);
                        }
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                if (rkm->err) {
                        ka_warn("consume: %s", rd_kafka_message_errstr(rkm));
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                last = monotonic_s();
                /* --exit: the topic as it was at start, nothing after. */
                if (o.exit_at_end && part &&
                    (part->done || rkm->offset >= part->end)) {
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                count++;
                handle_message(&cs, rkm);
                if (o.exit_at_end && part && rkm->offset + 1 >= part->end) {
                        part->done = true;
                        ndone++;
                        ka_debug("consume: %s [%d] at its end, offset %lld",
                                 o.topic, (int)rkm->partition,
                                 (long long)part->end);
                }
                rd_kafka_message_destroy(rkm);
        }
        fflush(stdout);
        if (cs.skipped)
                ka_warn("consume: %ld messages printed, %ld skipped",
                        cs.printed, cs.skipped);
        rc = KA_EXIT_OK;
out:
        if (list)
                rd_kafka_topic_partition_list_destroy(list);
        free(parts);
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
