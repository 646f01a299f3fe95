/*
 * The configuration loader (SPEC §4): reads aggregator-config.yaml into
 * plain structs, checks everything that can be checked without the source
 * schemas, and reports problems as compiler-style
 * `FILE:LINE:COL: error: MESSAGE` diagnostics.
 *
 * The format, as this loader reads it:
 *
 *   aggregated_topics:                  # required; [] means no agents
 *     - name: aggregated-example-000    # required, a Kafka topic name
 *       window_aggregation:             # optional, every key optional
 *         window_size_seconds: 1        # > 0, whole ms         (1)
 *         window_expiration_seconds: 0  # >= 0, whole ms        (0)
 *         min_sample_size: 2            # integer >= 1          (2)
 *         operations: [min, max]        # (min, q1, mean, median, stdev,
 *                                       #  q3, max); sum also allowed
 *         idle_timeout_seconds: 5       # > 0, whole ms (window size +
 *                                       #  expiration + 1 s)
 *         time_field: null              # payload field, or null
 *         group_by_key: false           # true or false         (false)
 *         max_future_seconds: 300       # >= 0, whole ms        (300)
 *       filter:                         # required
 *         source_topics:                # required, not empty
 *           - name: example-000         # a Kafka topic name, or:
 *             fields: [value0, value1]  # optional
 *             map: {value0: foo}        # optional renames
 *
 * A topic pattern (SPEC §4) is a source_topics entry with `regex` (a POSIX
 * extended regular expression, matched against whole topic names) and
 * optionally `exclude` (a list of such expressions) instead of `name`:
 *
 *   - name: "{source_topic_name}-aggregated"
 *     filter:
 *       source_topics:
 *         - regex: "lsst\\.sal\\..*"
 *           exclude: ["lsst\\.sal\\.Test\\..*"]
 *
 * It must be the only entry of its aggregated topic, whose name must then
 * hold `{source_topic_name}` (and only then may). Such a topic is a
 * template: ka_config_expand() turns it into one aggregated topic per
 * matching topic, sorted by name, each with the template's window
 * settings, `fields` and `map`. Expressions are compiled when the config
 * loads (as `^(EXPR)$`); an invalid one is an error there.
 *
 * Typing follows the YAML 1.2 core schema: a plain scalar is null (`~`,
 * `null`, empty), a boolean (`true`, `false` and their capitalised forms),
 * an integer, a float, or else a string; a quoted or block scalar is always
 * a string. Names must be strings (quote a topic called `123`); durations
 * are plain integers or floats; `group_by_key: yes` is an error. An
 * explicit null on an optional key means "unset", i.e. the default. Tags
 * other than the default ones are rejected, and `!!str` on a plain scalar
 * is not seen (libyaml's document API drops it): quote instead. Anchors and
 * aliases work.
 *
 * Names: aggregated and source topics must be valid Kafka topic names (1 to
 * 249 of [A-Za-z0-9._-], not "." or ".."; an aggregated name holding
 * `{source_topic_name}` once that is replaced); fields, `map` keys and
 * values and `time_field` must be Avro names ([A-Za-z_][A-Za-z0-9_]*).
 *
 * What is an error here: an unknown or duplicate key, a wrong type, an
 * unknown or duplicate operation, an empty `operations`, a duplicate
 * aggregated topic, a source topic listed twice in one aggregated topic or
 * that is the aggregated topic itself, an empty `source_topics`, a field
 * listed twice, a `map` key not in a non-empty `fields`, two explicitly
 * listed fields of one aggregated topic with the same output name, a
 * duration that is not a whole number of milliseconds or is out of range,
 * bad YAML, a missing file, more than one YAML document. What needs the
 * source schemas (a listed field missing or not numeric, a `map` key
 * missing from the schema, output names clashing with the default fields)
 * is checked by the generator, which blames the config through
 * ka_config_errorf() and the positions kept here.
 */
#ifndef KA_CONFIG_H
#define KA_CONFIG_H

#include "agent.h"

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What an aggregated topic's name may hold to be a pattern's template. */
#define KA_CONFIG_SOURCE_TOPIC_NAME "{source_topic_name}"

/* Longest duration a config may give: 366 days, in seconds. */
#define KA_CONFIG_MAX_SECONDS 31622400

/* The default of max_future_seconds: clocks of producers may run ahead of
 * the worker's by this much (5 minutes; TAI stamps are 37 s ahead). */
#define KA_CONFIG_MAX_FUTURE_MS 300000

/* Where a node starts in the config file, 1-based (0 when unknown). */
typedef struct ka_config_pos_s {
        int line, col;
} ka_config_pos_t;

/*
 * One source topic of an aggregated topic.
 *
 * fields_given is true when a non-empty `fields` list was given; then
 * fields[0 .. nfields) hold it, in config order, without duplicates. An
 * omitted, null or empty (`fields: []`) list all mean "every numeric field
 * of the schema except time, window_size and count" (SPEC §5): nfields is
 * then 0. map_from[i] is renamed to map_to[i] in the output; when
 * fields_given, every map_from is one of fields. Positions: pos is the
 * source's `name` value, field_pos[i] the i-th field, map_pos[i] the i-th
 * map key.
 */
typedef struct ka_config_source_s {
        char *name;          /* NULL in a pattern entry (before expansion) */
        ka_config_pos_t pos; /* of name, or of regex */
        /* A pattern entry: regex and the exclude expressions, as written
         * and compiled; NULL and 0 otherwise. */
        char *regex;
        regex_t *regex_re;
        size_t nexclude;
        char **exclude;
        regex_t *exclude_re;
        ka_config_pos_t *exclude_pos;
        size_t nfields;
        char **fields;
        ka_config_pos_t *field_pos;
        bool fields_given;
        size_t nmap;
        char **map_from;
        char **map_to;
        ka_config_pos_t *map_pos;
} ka_config_source_t;

/*
 * One aggregated topic (one agent). Times are milliseconds.
 * idle_timeout_ms is always set: when the config leaves it out, the loader
 * stores the SPEC §6 default, window_ms + expiration_ms + 1000. ops holds
 * nops >= 1 distinct operations in config order. time_field is NULL when
 * unset; time_field_pos is where it was given. nsources >= 1, and source
 * names are distinct. pos is the topic's `name` value.
 *
 * pattern: a template whose only source is a pattern entry (before
 * ka_config_expand()). from_pattern: made from the template at
 * template_index of the config as loaded, by ka_config_expand(); positions
 * are the template's.
 */
typedef struct ka_config_topic_s {
        char *name;
        ka_config_pos_t pos;
        int64_t window_ms, expiration_ms, idle_timeout_ms;
        /* Event times further ahead of the worker's clock are skipped
         * (SPEC §6). */
        int64_t max_future_ms;
        int32_t min_sample_size;
        size_t nops;
        ka_op_t *ops;
        char *time_field;
        ka_config_pos_t time_field_pos;
        bool group_by_key;
        size_t nsources;
        ka_config_source_t *sources;
        bool pattern;
        bool from_pattern;
        size_t template_index;
} ka_config_topic_t;

/* A loaded config; topic names are distinct (templates aside). path is
 * the path as given. npatterns counts the templates left to expand. */
typedef struct ka_config_s {
        char *path;
        size_t ntopics;
        ka_config_topic_t *topics;
        size_t npatterns;
} ka_config_t;

/*
 * Reads and checks the config file at path. Returns a new config (free it
 * with ka_config_destroy()), or NULL with the first problem found in
 * errstr: "PATH:LINE:COL: error: MESSAGE", or "PATH: error: MESSAGE" when
 * there is no position (the file cannot be read).
 */
ka_config_t *ka_config_load(const char *path, char *errstr, size_t errstr_size);

/*
 * Where a run that reports every error, rather than stopping at the first
 * (generate-agents --check), sends them: fn gets each as one line without
 * a newline, with its class (KA_ERR_INVALID when the config is at fault,
 * the line then a FILE:LINE:COL diagnostic; what went wrong otherwise, such
 * as KA_ERR_NOT_FOUND for a source topic without a schema), and n counts
 * them. The part of the config an error is about (an aggregated topic, one
 * match of a pattern) is left out of the rest of the run, so that one
 * mistake gives one error and the others are still found.
 */
typedef struct ka_config_errors_s {
        void (*fn)(void *opaque, ka_err_t err, const char *msg);
        void *opaque;
        size_t n;
} ka_config_errors_t;

/* Passes msg to errors->fn and counts it. */
void ka_config_errors_add(ka_config_errors_t *errors, ka_err_t err,
                          const char *msg);

/*
 * ka_config_load() that goes on past a faulty aggregated topic: each is
 * reported to errors (as KA_ERR_INVALID, with the diagnostic
 * ka_config_load() would give) and left out of the config returned, as is
 * a second aggregated topic of one name. NULL with errstr only when
 * nothing of the file can be used (it cannot be read, bad YAML, a root
 * that is not a mapping with 'aggregated_topics', out of memory). errors
 * NULL: exactly ka_config_load().
 */
ka_config_t *ka_config_load_each(const char *path, ka_config_errors_t *errors,
                                 char *errstr, size_t errstr_size);

/* ka_config_load() of the text buf[0..len) (need not be NUL-terminated);
 * path only names it in messages. */
ka_config_t *ka_config_load_buffer(const char *path, const char *buf,
                                   size_t len, char *errstr,
                                   size_t errstr_size);

/* Frees cfg and everything it holds; NULL is a no-op. */
void ka_config_destroy(ka_config_t *cfg);

/*
 * Formats a diagnostic against cfg's file into errstr, in the loader's own
 * form: "PATH:LINE:COL: error: MESSAGE" ("PATH: error: MESSAGE" when
 * pos.line is 0). For checks the generator makes with the schemas.
 */
__attribute__((format(printf, 5, 6))) void
ka_config_errorf(const ka_config_t *cfg, ka_config_pos_t pos, char *errstr,
                 size_t errstr_size, const char *fmt, ...);

/* Whether name is a valid Kafka topic name (see above). */
bool ka_config_valid_topic(const char *name);

/*
 * Expands every template of cfg (SPEC §4) against topics[0 .. ntopics)
 * (the topics there are: registry subjects `<topic>-value`, or .avsc file
 * names; in any order, duplicates ignored), in place: each template is
 * replaced, where it stood, by one aggregated topic per topic its regex
 * matches and no exclude expression does, sorted by name, named by the
 * template with `{source_topic_name}` replaced. A topic that is an
 * aggregated topic of cfg (named, or made by a template) is never a
 * pattern's source, so that a rerun does not aggregate aggregated topics.
 * where names the topics' origin in messages ("the registry's subjects").
 *
 * When report is not NULL, writes what each template matched: a line
 * "FILE:LINE:COL: regex 'R' matched N of M topics (K excluded, A
 * aggregated topics of this config skipped)" and a line "  SOURCE ->
 * AGGREGATED" per match.
 *
 * Errors (KA_ERR_INVALID, with a FILE:LINE:COL diagnostic in errstr): a
 * template matching no topic; an expanded name that is not a valid topic
 * name or that another aggregated topic has. KA_ERR_NOMEM. On error cfg is
 * unchanged. Without templates, does nothing. With errors not NULL, these
 * errors go there instead and what they are about is left out: a template
 * matching nothing expands to no topic, a name too long or made twice
 * gives no topic (the first of a name stays); then only KA_ERR_NOMEM is
 * returned.
 */
ka_err_t ka_config_expand(ka_config_t *cfg, const char *const *topics,
                          size_t ntopics, const char *where, FILE *report,
                          ka_config_errors_t *errors, char *errstr,
                          size_t errstr_size);

/*
 * The output name of field in src: its `map` rename, or field itself. The
 * result points into src or is field.
 */
const char *ka_config_source_out_name(const ka_config_source_t *src,
                                      const char *field);

#endif
