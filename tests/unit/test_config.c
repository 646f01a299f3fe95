/*
 * The configuration loader (SPEC §4): the example config, defaults,
 * fractional windows, and the exact `FILE:LINE:COL: error: ...` text of
 * every kind of mistake. Fixtures are read from tests/config/ relative to
 * the repository root, where tests/run.sh runs the tests; the error cases
 * write their YAML to temporary files so that the text and the expected
 * position sit side by side.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define EXAMPLE       "example/aggregator-config.yaml"
#define FIXTURE(name) "tests/config/" name

static const ka_op_t default_ops[] = {KA_OP_MIN,    KA_OP_Q1,    KA_OP_MEAN,
                                      KA_OP_MEDIAN, KA_OP_STDEV, KA_OP_Q3,
                                      KA_OP_MAX};

static ka_config_t *load_ok(const char *path)
{
        char errstr[512] = "";
        ka_config_t *cfg = ka_config_load(path, errstr, sizeof(errstr));

        if (!cfg)
                fail_msg("%s did not load: %s", path, errstr);
        return cfg;
}

/* Writes text to a new temporary .yaml file; its path goes to path. */
static void write_temp(const char *text, char path[64])
{
        FILE *fp;
        int fd;

        strcpy(path, "/tmp/ka-test-config-XXXXXX.yaml");
        fd = mkstemps(path, 5);
        assert_true(fd >= 0);
        fp = fdopen(fd, "w");
        assert_non_null(fp);
        assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
        assert_int_equal(fclose(fp), 0);
}

/* Loads text from a temporary file; NULL with errstr on error. */
static ka_config_t *load_text(const char *text, char path[64], char *errstr,
                              size_t errstr_size)
{
        ka_config_t *cfg;

        write_temp(text, path);
        cfg = ka_config_load(path, errstr, errstr_size);
        unlink(path);
        return cfg;
}

static ka_config_t *load_text_ok(const char *text)
{
        char path[64], errstr[512] = "";
        ka_config_t *cfg = load_text(text, path, errstr, sizeof(errstr));

        if (!cfg)
                fail_msg("config did not load: %s\n%s", errstr, text);
        return cfg;
}

/* Asserts that loading path fails with exactly want. */
static void expect_file_error(const char *path, const char *want)
{
        char errstr[512] = "";
        ka_config_t *cfg = ka_config_load(path, errstr, sizeof(errstr));

        if (cfg) {
                ka_config_destroy(cfg);
                fail_msg("%s loaded; expected: %s", path, want);
        }
        assert_string_equal(errstr, want);
}

/* Asserts that text fails with "TMPFILE:" + want. */
static void expect_error(const char *text, const char *want)
{
        char path[64], errstr[512] = "", full[1024];
        ka_config_t *cfg = load_text(text, path, errstr, sizeof(errstr));

        if (cfg) {
                ka_config_destroy(cfg);
                fail_msg("config loaded; expected: %s\n%s", want, text);
        }
        snprintf(full, sizeof(full), "%s:%s", path, want);
        if (strcmp(errstr, full) != 0)
                fail_msg("for:\n%s\nwant: %s\ngot:  %s", text, full, errstr);
}

static void assert_default_ops(const ka_config_topic_t *topic)
{
        size_t i;

        assert_int_equal(topic->nops, KA_ARRAY_SIZE(default_ops));
        for (i = 0; i < topic->nops; i++)
                assert_int_equal(topic->ops[i], default_ops[i]);
}

static void assert_pos(ka_config_pos_t pos, int line, int col)
{
        assert_int_equal(pos.line, line);
        assert_int_equal(pos.col, col);
}

/* Window 1 s, no grace, 2 samples, default operations, idle 2 s. */
static void assert_default_window(const ka_config_topic_t *topic)
{
        assert_int_equal(topic->window_ms, 1000);
        assert_int_equal(topic->expiration_ms, 0);
        assert_int_equal(topic->idle_timeout_ms, 2000);
        assert_int_equal(topic->max_future_ms, 300000);
        assert_int_equal(topic->min_sample_size, 2);
        assert_default_ops(topic);
        assert_null(topic->time_field);
        assert_false(topic->group_by_key);
}

static void example_config(void **state)
{
        ka_config_t *cfg = load_ok(EXAMPLE);
        char name[64];
        size_t i;

        assert_string_equal(cfg->path, EXAMPLE);
        assert_int_equal(cfg->ntopics, 10);
        for (i = 0; i < cfg->ntopics; i++) {
                const ka_config_topic_t *topic = &cfg->topics[i];

                snprintf(name, sizeof(name), "aggregated-example-00%zu", i);
                assert_string_equal(topic->name, name);
                assert_default_window(topic);
                assert_int_equal(topic->nsources, 1);
                snprintf(name, sizeof(name), "example-00%zu", i);
                assert_string_equal(topic->sources[0].name, name);
                assert_false(topic->sources[0].fields_given);
                assert_int_equal(topic->sources[0].nfields, 0);
                assert_int_equal(topic->sources[0].nmap, 0);
        }
        ka_config_destroy(cfg);
}

static void full_config(void **state)
{
        ka_config_t *cfg = load_ok(FIXTURE("full.yaml"));
        const ka_config_topic_t *topic;
        const ka_config_source_t *src;

        assert_int_equal(cfg->ntopics, 2);
        topic = &cfg->topics[0];
        assert_string_equal(topic->name, "agg.full_1");
        assert_pos(topic->pos, 3, 11);
        assert_int_equal(topic->window_ms, 250);
        assert_int_equal(topic->expiration_ms, 1500);
        assert_int_equal(topic->idle_timeout_ms, 30000);
        assert_int_equal(topic->min_sample_size, 5);
        assert_int_equal(topic->nops, 3);
        assert_int_equal(topic->ops[0], KA_OP_SUM);
        assert_int_equal(topic->ops[1], KA_OP_MAX);
        assert_int_equal(topic->ops[2], KA_OP_MIN);
        assert_string_equal(topic->time_field, "timestamp");
        assert_pos(topic->time_field_pos, 10, 19);
        assert_true(topic->group_by_key);
        assert_int_equal(topic->nsources, 2);

        src = &topic->sources[0];
        assert_string_equal(src->name, "src-a");
        assert_pos(src->pos, 14, 17);
        assert_true(src->fields_given);
        assert_int_equal(src->nfields, 3);
        assert_string_equal(src->fields[0], "value0");
        assert_string_equal(src->fields[1], "value1");
        assert_string_equal(src->fields[2], "value2");
        assert_pos(src->field_pos[0], 15, 20);
        assert_pos(src->field_pos[1], 15, 28);
        assert_pos(src->field_pos[2], 15, 36);
        assert_int_equal(src->nmap, 2);
        assert_string_equal(src->map_from[0], "value0");
        assert_string_equal(src->map_to[0], "foo");
        assert_string_equal(src->map_from[1], "value2");
        assert_string_equal(src->map_to[1], "bar");
        assert_pos(src->map_pos[0], 16, 17);
        assert_pos(src->map_pos[1], 16, 30);

        src = &topic->sources[1];
        assert_string_equal(src->name, "src.b_2");
        assert_pos(src->pos, 17, 17);
        assert_true(src->fields_given);
        assert_int_equal(src->nfields, 1);
        assert_string_equal(src->fields[0], "temperature");
        assert_pos(src->field_pos[0], 19, 15);
        assert_int_equal(src->nmap, 1);
        assert_string_equal(src->map_from[0], "temperature");
        assert_string_equal(src->map_to[0], "temp_b");
        assert_pos(src->map_pos[0], 21, 13);

        /* A second topic may read the same source with its own defaults. */
        topic = &cfg->topics[1];
        assert_string_equal(topic->name, "agg-defaults");
        assert_pos(topic->pos, 22, 11);
        assert_default_window(topic);
        assert_int_equal(topic->nsources, 1);
        assert_string_equal(topic->sources[0].name, "src-a");
        assert_false(topic->sources[0].fields_given);
        ka_config_destroy(cfg);
}

static void defaults(void **state)
{
        ka_config_t *cfg = load_ok(FIXTURE("defaults.yaml"));
        const ka_config_source_t *src;
        size_t i;

        assert_int_equal(cfg->ntopics, 3);
        assert_string_equal(cfg->topics[0].name, "omitted");
        assert_string_equal(cfg->topics[1].name, "nulls");
        assert_string_equal(cfg->topics[2].name, "empty-fields-default");
        for (i = 0; i < cfg->ntopics; i++) {
                assert_default_window(&cfg->topics[i]);
                assert_int_equal(cfg->topics[i].nsources, 1);
                src = &cfg->topics[i].sources[0];
                assert_string_equal(src->name, "example-000");
                assert_false(src->fields_given);
                assert_int_equal(src->nfields, 0);
        }
        assert_int_equal(cfg->topics[1].sources[0].nmap, 0);

        /* `fields: []` is the default, so map keys wait for the schema. */
        src = &cfg->topics[2].sources[0];
        assert_int_equal(src->nmap, 1);
        assert_string_equal(src->map_from[0], "value0");
        assert_string_equal(src->map_to[0], "foo");
        assert_pos(src->map_pos[0], 27, 17);
        ka_config_destroy(cfg);
}

static void fractional_windows(void **state)
{
        static const struct {
                const char *name;
                int64_t window_ms, expiration_ms;
        } want[] = {
                {"w500", 500, 0},     {"w1", 1, 0},
                {"w1005", 1005, 0},   {"w250", 250, 0},
                {"w10000", 10000, 0}, {"w86400000", 86400000, 0},
                {"w100", 100, 50},
        };
        ka_config_t *cfg = load_ok(FIXTURE("fractional.yaml"));
        size_t i;

        assert_int_equal(cfg->ntopics, KA_ARRAY_SIZE(want));
        for (i = 0; i < KA_ARRAY_SIZE(want); i++) {
                const ka_config_topic_t *topic = &cfg->topics[i];

                assert_string_equal(topic->name, want[i].name);
                assert_int_equal(topic->window_ms, want[i].window_ms);
                assert_int_equal(topic->expiration_ms, want[i].expiration_ms);
                /* SPEC §6 default: window size + expiration + 1 s. */
                assert_int_equal(topic->idle_timeout_ms,
                                 want[i].window_ms + want[i].expiration_ms +
                                         1000);
        }
        ka_config_destroy(cfg);
}

/* Durations at the edges of what is accepted. */
static void duration_forms(void **state)
{
        ka_config_t *cfg = load_text_ok(
                "aggregated_topics:\n"
                "  - name: a\n"
                "    window_aggregation:\n"
                "      window_size_seconds: 31622400\n"
                "      window_expiration_seconds: 0.000e5\n"
                "      idle_timeout_seconds: 0x10\n"
                "    filter: {source_topics: [{name: s}]}\n"
                "  - name: b\n"
                "    window_aggregation:\n"
                "      window_size_seconds: +12.3450\n"
                "      window_expiration_seconds: -0\n"
                "      idle_timeout_seconds: 0.00100000000000000000000000\n"
                "    filter: {source_topics: [{name: s}]}\n"
                "  - name: c\n"
                "    window_aggregation:\n"
                "      window_size_seconds: 1234567.\n"
                "      window_expiration_seconds: 5000e-3\n"
                "      idle_timeout_seconds: 0o17\n"
                "      max_future_seconds: 2.5\n"
                "    filter: {source_topics: [{name: s}]}\n"
                "  - name: d\n"
                "    window_aggregation: {max_future_seconds: 0}\n"
                "    filter: {source_topics: [{name: s}]}\n"
                "  - name: e\n"
                "    window_aggregation: {max_future_seconds: ~}\n"
                "    filter: {source_topics: [{name: s}]}\n");

        assert_int_equal(cfg->topics[0].window_ms, 31622400000LL);
        assert_int_equal(cfg->topics[0].expiration_ms, 0);
        assert_int_equal(cfg->topics[0].idle_timeout_ms, 16000);
        assert_int_equal(cfg->topics[1].window_ms, 12345);
        assert_int_equal(cfg->topics[1].expiration_ms, 0);
        assert_int_equal(cfg->topics[1].idle_timeout_ms, 1);
        assert_int_equal(cfg->topics[2].window_ms, 1234567000LL);
        assert_int_equal(cfg->topics[2].expiration_ms, 5000);
        assert_int_equal(cfg->topics[2].idle_timeout_ms, 15000);
        assert_int_equal(cfg->topics[2].max_future_ms, 2500);
        assert_int_equal(cfg->topics[3].max_future_ms, 0);
        assert_int_equal(cfg->topics[4].max_future_ms, 300000);
        ka_config_destroy(cfg);
}

static void every_operation(void **state)
{
        ka_config_t *cfg =
                load_text_ok("aggregated_topics:\n"
                             "  - name: a\n"
                             "    window_aggregation:\n"
                             "      operations: [min, q1, mean, median, stdev, "
                             "q3, max, sum]\n"
                             "    filter: {source_topics: [{name: s}]}\n"
                             "  - name: b\n"
                             "    window_aggregation:\n"
                             "      operations:\n"
                             "        - sum\n"
                             "        - 'stdev'\n"
                             "        - \"median\"\n"
                             "    filter: {source_topics: [{name: s}]}\n");
        const ka_config_topic_t *topic = &cfg->topics[0];

        assert_int_equal(topic->nops, 8);
        assert_int_equal(topic->ops[0], KA_OP_MIN);
        assert_int_equal(topic->ops[1], KA_OP_Q1);
        assert_int_equal(topic->ops[2], KA_OP_MEAN);
        assert_int_equal(topic->ops[3], KA_OP_MEDIAN);
        assert_int_equal(topic->ops[4], KA_OP_STDEV);
        assert_int_equal(topic->ops[5], KA_OP_Q3);
        assert_int_equal(topic->ops[6], KA_OP_MAX);
        assert_int_equal(topic->ops[7], KA_OP_SUM);
        topic = &cfg->topics[1];
        assert_int_equal(topic->nops, 3);
        assert_int_equal(topic->ops[0], KA_OP_SUM);
        assert_int_equal(topic->ops[1], KA_OP_STDEV);
        assert_int_equal(topic->ops[2], KA_OP_MEDIAN);
        ka_config_destroy(cfg);
}

/* Anchors, aliases, quoting and the boolean spellings of the core schema. */
static void yaml_forms(void **state)
{
        ka_config_t *cfg = load_text_ok(
                "aggregated_topics:\n"
                "  - name: \"a\"\n"
                "    window_aggregation: &w {window_size_seconds: 2,"
                " group_by_key: True}\n"
                "    filter: {source_topics: [{name: '123'}]}\n"
                "  - name: b\n"
                "    window_aggregation: *w\n"
                "    filter:\n"
                "      source_topics:\n"
                "        - name: s\n"
                "          fields: &f [x, y]\n"
                "        - name: t\n"
                "          fields: [z]\n"
                "          map: {z: q}\n"
                "  - name: c\n"
                "    window_aggregation: {group_by_key: FALSE}\n"
                "    filter: {source_topics: [{name: s, fields: *f}]}\n");

        assert_int_equal(cfg->ntopics, 3);
        assert_int_equal(cfg->topics[0].window_ms, 2000);
        assert_true(cfg->topics[0].group_by_key);
        assert_string_equal(cfg->topics[0].sources[0].name, "123");
        assert_int_equal(cfg->topics[1].window_ms, 2000);
        assert_int_equal(cfg->topics[1].idle_timeout_ms, 3000);
        assert_true(cfg->topics[1].group_by_key);
        assert_int_equal(cfg->topics[1].nsources, 2);
        assert_false(cfg->topics[2].group_by_key);
        assert_int_equal(cfg->topics[2].sources[0].nfields, 2);
        assert_string_equal(cfg->topics[2].sources[0].fields[1], "y");
        ka_config_destroy(cfg);
}

static void no_topics(void **state)
{
        ka_config_t *cfg = load_text_ok("aggregated_topics: []\n");

        assert_int_equal(cfg->ntopics, 0);
        ka_config_destroy(cfg);
}

static void out_names(void **state)
{
        ka_config_t *cfg = load_ok(FIXTURE("full.yaml"));
        const ka_config_source_t *src = &cfg->topics[0].sources[0];

        assert_string_equal(ka_config_source_out_name(src, "value0"), "foo");
        assert_string_equal(ka_config_source_out_name(src, "value1"), "value1");
        assert_string_equal(ka_config_source_out_name(src, "value2"), "bar");
        assert_string_equal(ka_config_source_out_name(src, "other"), "other");
        src = &cfg->topics[1].sources[0];
        assert_string_equal(ka_config_source_out_name(src, "value0"), "value0");
        ka_config_destroy(cfg);
}

static void errorf_format(void **state)
{
        ka_config_t *cfg = load_ok(FIXTURE("full.yaml"));
        const ka_config_source_t *src = &cfg->topics[0].sources[0];
        char errstr[256], small[24];

        ka_config_errorf(cfg, src->field_pos[1], errstr, sizeof(errstr),
                         "field '%s' is not in the schema of '%s'",
                         src->fields[1], src->name);
        assert_string_equal(errstr, "tests/config/full.yaml:15:28: error: "
                                    "field 'value1' is not in the schema of "
                                    "'src-a'");
        ka_config_errorf(cfg, (ka_config_pos_t){0, 0}, errstr, sizeof(errstr),
                         "no position");
        assert_string_equal(errstr,
                            "tests/config/full.yaml: error: no position");
        /* Truncated, still terminated. */
        ka_config_errorf(cfg, src->pos, small, sizeof(small), "%s", "long");
        assert_string_equal(small, "tests/config/full.yaml:");
        ka_config_destroy(cfg);
}

static void missing_file(void **state)
{
        expect_file_error(FIXTURE("does-not-exist.yaml"),
                          "tests/config/does-not-exist.yaml: error: cannot "
                          "read the file: No such file or directory");
        expect_file_error("tests/config", "tests/config: error: cannot read "
                                          "the file: Is a directory");
}

static void empty_file(void **state)
{
        expect_file_error(FIXTURE("empty.yaml"),
                          "tests/config/empty.yaml:1:1: error: empty "
                          "configuration (expected a mapping with "
                          "'aggregated_topics')");
        expect_error("# only a comment\n\n",
                     "1:1: error: empty configuration (expected a mapping "
                     "with 'aggregated_topics')");
}

static void syntax_errors(void **state)
{
        /* The flow sequence opened at 4:22 is still open at the end. */
        expect_file_error(FIXTURE("bad-syntax.yaml"),
                          "tests/config/bad-syntax.yaml:5:1: error: invalid "
                          "YAML: did not find expected ',' or ']' while "
                          "parsing a flow sequence at 4:22");
        expect_error("aggregated_topics: a: b\n",
                     "1:21: error: invalid YAML: mapping values are not "
                     "allowed in this context");
        /* A tab in indentation, as libyaml 0.2.5 words it. */
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "\tfilter: {}\n",
                     "3:1: error: invalid YAML: found a tab character that "
                     "violates indentation while scanning a plain scalar at "
                     "2:11");
        expect_error("aggregated_topics: *nope\n",
                     "1:20: error: invalid YAML: found undefined alias");
        /* 0xff can never start a UTF-8 sequence. */
        expect_error("aggregated_topics:\n  - name: a\xff\n",
                     "2:12: error: invalid YAML: invalid leading UTF-8 octet "
                     "(byte 0xff)");
        expect_error("aggregated_topics: []\n---\naggregated_topics: []\n",
                     "2:1: error: more than one YAML document");
}

/* Unknown and duplicate keys, and missing required ones. */
static void key_errors(void **state)
{
        expect_error("aggregated_topic:\n  - name: a\n",
                     "1:1: error: unknown key 'aggregated_topic' in the "
                     "configuration");
        expect_error("{}\n", "1:1: error: missing key 'aggregated_topics'");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    windows: {}\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "3:5: error: unknown key 'windows' in an aggregated "
                     "topic");
        expect_file_error(FIXTURE("bad-unknown-key.yaml"),
                          "tests/config/bad-unknown-key.yaml:4:7: error: "
                          "unknown key 'window_size' in "
                          "'window_aggregation'");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: {source_topic: [{name: s}]}\n",
                     "3:14: error: unknown key 'source_topic' in 'filter'");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: s\n"
                     "          field: [x]\n",
                     "6:11: error: unknown key 'field' in a source topic");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    name: b\n",
                     "3:5: error: duplicate key 'name' in an aggregated "
                     "topic (first at 2:5)");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    window_aggregation:\n"
                     "      min_sample_size: 3\n"
                     "      min_sample_size: 3\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "5:7: error: duplicate key 'min_sample_size' in "
                     "'window_aggregation' (first at 4:7)");
        expect_error("aggregated_topics:\n"
                     "  - filter: {source_topics: [{name: s}]}\n",
                     "2:5: error: missing key 'name' in an aggregated topic");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n",
                     "2:5: error: missing key 'filter' in aggregated topic "
                     "'a'");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: {}\n",
                     "3:13: error: missing key 'source_topics' in 'filter' "
                     "of aggregated topic 'a'");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: {source_topics: [{fields: [x]}]}\n",
                     "3:30: error: missing key 'name' (or 'regex') in a "
                     "source topic");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    [x]: 1\n",
                     "3:5: error: expected a key in an aggregated topic, got "
                     "a sequence");
}

static void type_errors(void **state)
{
        /* `    window_aggregation: {KEY: VALUE}` puts KEY at column 26. */
        static const struct {
                const char *kv;
                const char *want;
        } window[] = {
                {"window_size_seconds: '1'",
                 "expected a number for 'window_size_seconds', got a string"},
                {"window_size_seconds: one",
                 "expected a number for 'window_size_seconds', got a string"},
                {"window_size_seconds: [1]",
                 "expected a number for 'window_size_seconds', got a sequence"},
                {"window_size_seconds: true",
                 "expected a number for 'window_size_seconds', got a boolean"},
                {"window_expiration_seconds: {}",
                 "expected a number for 'window_expiration_seconds', got a "
                 "mapping"},
                {"idle_timeout_seconds: 1 s",
                 "expected a number for 'idle_timeout_seconds', got a string"},
                {"min_sample_size: 2.0",
                 "expected an integer for 'min_sample_size', got a float"},
                {"min_sample_size: '2'",
                 "expected an integer for 'min_sample_size', got a string"},
                {"group_by_key: yes",
                 "expected true or false for 'group_by_key', got a string"},
                {"group_by_key: 1",
                 "expected true or false for 'group_by_key', got an integer"},
                {"time_field: 5",
                 "expected a string for 'time_field', got an integer"},
                {"time_field: [t]",
                 "expected a string for 'time_field', got a sequence"},
                {"operations: mean",
                 "expected a sequence of operations for 'operations', got a "
                 "string"},
        };
        char text[512], want[512];
        size_t i;

        for (i = 0; i < KA_ARRAY_SIZE(window); i++) {
                const char *kv = window[i].kv;
                size_t col = 26 + (size_t)(strchr(kv, ':') - kv) + 2;

                snprintf(text, sizeof(text),
                         "aggregated_topics:\n"
                         "  - name: a\n"
                         "    window_aggregation: {%s}\n"
                         "    filter: {source_topics: [{name: s}]}\n",
                         kv);
                snprintf(want, sizeof(want), "3:%zu: error: %s", col,
                         window[i].want);
                expect_error(text, want);
        }

        expect_error("- aggregated_topics: []\n",
                     "1:1: error: expected a mapping for the configuration, "
                     "got a sequence");
        expect_error("aggregated_topics: {}\n",
                     "1:20: error: expected a sequence of aggregated topics "
                     "for 'aggregated_topics', got a mapping");
        expect_error("aggregated_topics:\n",
                     "1:19: error: expected a sequence of aggregated topics "
                     "for 'aggregated_topics', got null");
        expect_error("aggregated_topics: [a]\n",
                     "1:21: error: expected a mapping for an item of "
                     "'aggregated_topics', got a string");
        expect_error("aggregated_topics:\n"
                     "  - name: 123\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "2:11: error: expected a string for 'name', got an "
                     "integer");
        expect_error("aggregated_topics:\n"
                     "  - name:\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "2:10: error: expected a string for 'name', got null");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    window_aggregation: [1]\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "3:25: error: expected a mapping for "
                     "'window_aggregation', got a sequence");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: [s]\n",
                     "3:13: error: expected a mapping for 'filter', got a "
                     "sequence");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics: example-000\n",
                     "4:22: error: expected a sequence of source topics for "
                     "'source_topics', got a string");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - example-000\n",
                     "5:11: error: expected a mapping for an item of "
                     "'source_topics', got a string");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    window_aggregation: {operations: [min, 1]}\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "3:44: error: expected a string for an item of "
                     "'operations', got an integer");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: {source_topics: [{name: s, fields: x}]}\n",
                     "3:48: error: expected a sequence of field names for "
                     "'fields', got a string");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: {source_topics: [{name: s, fields: [true]}]}"
                     "\n",
                     "3:49: error: expected a string for an item of "
                     "'fields', got a boolean");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: {source_topics: [{name: s, map: [x]}]}\n",
                     "3:45: error: expected a mapping of field renames for "
                     "'map', got a sequence");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: {source_topics: [{name: s, map: {x: 1}}]}\n",
                     "3:49: error: expected a string for a value of 'map', "
                     "got an integer");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    window_aggregation: {window_size_seconds: !!float 1}"
                     "\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "3:47: error: unsupported tag 'tag:yaml.org,2002:float'");
}

static void operation_errors(void **state)
{
        expect_file_error(FIXTURE("bad-operation.yaml"),
                          "tests/config/bad-operation.yaml:4:25: error: "
                          "unknown operation 'avg' (expected min, q1, mean, "
                          "median, stdev, q3, max or sum)");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    window_aggregation:\n"
                     "      operations: [mean, max, mean]\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "4:31: error: duplicate operation 'mean' (first at "
                     "4:20)");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    window_aggregation:\n"
                     "      operations: []\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "4:19: error: 'operations' must not be empty");
        /* Operation names are case-sensitive, like the output names. */
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    window_aggregation:\n"
                     "      operations: [Min]\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "4:20: error: unknown operation 'Min' (expected min, "
                     "q1, mean, median, stdev, q3, max or sum)");
}

static void duration_errors(void **state)
{
        static const struct {
                const char *kv;
                const char *want;
        } cases[] = {
                {"window_size_seconds: 0",
                 "'window_size_seconds' must be greater than 0 and at most "
                 "31622400 (366 days)"},
                {"window_size_seconds: 0.0",
                 "'window_size_seconds' must be greater than 0 and at most "
                 "31622400 (366 days)"},
                {"window_size_seconds: -1",
                 "'window_size_seconds' must be greater than 0 and at most "
                 "31622400 (366 days)"},
                {"window_size_seconds: 31622400.001",
                 "'window_size_seconds' must be greater than 0 and at most "
                 "31622400 (366 days)"},
                {"window_size_seconds: 1e400",
                 "'window_size_seconds' must be greater than 0 and at most "
                 "31622400 (366 days)"},
                {"window_size_seconds: 99999999999999999999",
                 "'window_size_seconds' must be greater than 0 and at most "
                 "31622400 (366 days)"},
                {"window_size_seconds: .inf",
                 "'window_size_seconds' must be greater than 0 and at most "
                 "31622400 (366 days)"},
                {"window_size_seconds: .nan",
                 "'window_size_seconds' must be greater than 0 and at most "
                 "31622400 (366 days)"},
                {"window_size_seconds: 0.0005",
                 "'window_size_seconds' is not a whole number of milliseconds"},
                {"window_size_seconds: 1.0001",
                 "'window_size_seconds' is not a whole number of milliseconds"},
                {"window_size_seconds: 1e-4",
                 "'window_size_seconds' is not a whole number of milliseconds"},
                {"window_expiration_seconds: -0.5",
                 "'window_expiration_seconds' must be at least 0 and at most "
                 "31622400 (366 days)"},
                {"window_expiration_seconds: 0.0001",
                 "'window_expiration_seconds' is not a whole number of "
                 "milliseconds"},
                {"idle_timeout_seconds: 0",
                 "'idle_timeout_seconds' must be greater than 0 and at most "
                 "31622400 (366 days)"},
                {"max_future_seconds: -1",
                 "'max_future_seconds' must be at least 0 and at most "
                 "31622400 (366 days)"},
                {"max_future_seconds: [1]",
                 "expected a number for 'max_future_seconds', got a "
                 "sequence"},
                {"min_sample_size: 0",
                 "'min_sample_size' must be between 1 and 2147483647"},
                {"min_sample_size: 2147483648",
                 "'min_sample_size' must be between 1 and 2147483647"},
        };
        char text[512], want[512];
        size_t i;

        for (i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                const char *kv = cases[i].kv;
                size_t col = 7 + (size_t)(strchr(kv, ':') - kv) + 2;

                snprintf(text, sizeof(text),
                         "aggregated_topics:\n"
                         "  - name: a\n"
                         "    window_aggregation:\n"
                         "      %s\n"
                         "    filter: {source_topics: [{name: s}]}\n",
                         kv);
                snprintf(want, sizeof(want), "4:%zu: error: %s", col,
                         cases[i].want);
                expect_error(text, want);
        }
}

static void name_errors(void **state)
{
        char text[1024], want[512], name[251];

        expect_file_error(FIXTURE("bad-duplicate-topic.yaml"),
                          "tests/config/bad-duplicate-topic.yaml:6:11: "
                          "error: duplicate aggregated topic "
                          "'aggregated-example-000' (first at 2:11)");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: s\n"
                     "        - name: t\n"
                     "        - name: s\n",
                     "7:17: error: source topic 's' is listed twice in "
                     "aggregated topic 'a' (first at 5:17)");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics: []\n",
                     "4:22: error: 'source_topics' of aggregated topic 'a' "
                     "is empty");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: a\n",
                     "5:17: error: aggregated topic 'a' cannot be its own "
                     "source topic");
        expect_error("aggregated_topics:\n"
                     "  - name: \"bad topic\"\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "2:11: error: invalid aggregated topic name 'bad topic' "
                     "(a Kafka topic name is 1 to 249 of [A-Za-z0-9._-], "
                     "not '.' or '..')");
        expect_error("aggregated_topics:\n"
                     "  - name: ''\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "2:11: error: invalid aggregated topic name '' (a Kafka "
                     "topic name is 1 to 249 of [A-Za-z0-9._-], not '.' or "
                     "'..')");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: {source_topics: [{name: ..}]}\n",
                     "3:37: error: invalid source topic name '..' (a Kafka "
                     "topic name is 1 to 249 of [A-Za-z0-9._-], not '.' or "
                     "'..')");
        /* A control character is shown as '?'. */
        expect_error("aggregated_topics:\n"
                     "  - name: \"a\\tb\"\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "2:11: error: invalid aggregated topic name 'a?b' (a "
                     "Kafka topic name is 1 to 249 of [A-Za-z0-9._-], not "
                     "'.' or '..')");

        /* 249 characters are fine, 250 are not (and are shortened). */
        memset(name, 'x', 249);
        name[249] = '\0';
        snprintf(text, sizeof(text),
                 "aggregated_topics:\n"
                 "  - name: %s\n"
                 "    filter: {source_topics: [{name: s}]}\n",
                 name);
        ka_config_destroy(load_text_ok(text));
        strcat(name, "x");
        snprintf(text, sizeof(text),
                 "aggregated_topics:\n"
                 "  - name: %s\n"
                 "    filter: {source_topics: [{name: s}]}\n",
                 name);
        snprintf(want, sizeof(want),
                 "2:11: error: invalid aggregated topic name '%.64s...' (a "
                 "Kafka topic name is 1 to 249 of [A-Za-z0-9._-], not '.' "
                 "or '..')",
                 name);
        expect_error(text, want);
}

static void field_errors(void **state)
{
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter: {source_topics: [{name: s, fields: [x-1]}]}"
                     "\n",
                     "3:49: error: invalid field name 'x-1' (an Avro name "
                     "is [A-Za-z_][A-Za-z0-9_]*)");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    window_aggregation: {time_field: '1t'}\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "3:38: error: invalid field name '1t' (an Avro name is "
                     "[A-Za-z_][A-Za-z0-9_]*)");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: s\n"
                     "          map: {x: 'foo bar'}\n",
                     "6:20: error: invalid field name 'foo bar' (an Avro "
                     "name is [A-Za-z_][A-Za-z0-9_]*)");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: s\n"
                     "          fields: [x, y, x]\n",
                     "6:26: error: duplicate field 'x' (first at 6:20)");
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: s\n"
                     "          map: {x: p, x: q}\n",
                     "6:23: error: duplicate key 'x' in 'map' (first at "
                     "6:17)");
        expect_file_error(FIXTURE("bad-map-key.yaml"),
                          "tests/config/bad-map-key.yaml:7:30: error: 'map' "
                          "key 'value2' is not in 'fields' of source topic "
                          "'example-000'");
}

/* Two output fields with one name, when the config alone shows it. */
static void output_name_errors(void **state)
{
        /* Renamed onto another listed field: blamed on the map entry. */
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: s\n"
                     "          fields: [value0, value1]\n"
                     "          map: {value1: value0}\n",
                     "7:17: error: output name 'value0' of field 'value1' "
                     "of 's' is already used by field 'value0' of 's' at "
                     "6:20");
        /* The same field listed by two sources. */
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: s\n"
                     "          fields: [x, y]\n"
                     "        - name: t\n"
                     "          fields: [y]\n",
                     "8:20: error: output name 'y' of field 'y' of 't' is "
                     "already used by field 'y' of 's' at 6:23");
        /* Two renames onto one name. */
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: s\n"
                     "          fields: [x]\n"
                     "          map: {x: out}\n"
                     "        - name: t\n"
                     "          fields: [z]\n"
                     "          map: {z: out}\n",
                     "10:17: error: output name 'out' of field 'z' of 't' "
                     "is already used by field 'x' of 's' at 7:17");
        /* Of two clashes, the one met first in the config is told. */
        expect_error("aggregated_topics:\n"
                     "  - name: a\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - name: s\n"
                     "          fields: [a, b]\n"
                     "        - name: t\n"
                     "          fields: [b, a]\n",
                     "8:20: error: output name 'b' of field 'b' of 't' is "
                     "already used by field 'b' of 's' at 6:23");
        /* Fine: the same field of two sources, one renamed. */
        ka_config_destroy(load_text_ok("aggregated_topics:\n"
                                       "  - name: a\n"
                                       "    filter:\n"
                                       "      source_topics:\n"
                                       "        - name: s\n"
                                       "          fields: [y]\n"
                                       "        - name: t\n"
                                       "          fields: [y]\n"
                                       "          map: {y: y_t}\n"));
}

/* ---- topic patterns ---------------------------------------------------- */

static const char pattern_config[] =
        "aggregated_topics:\n"
        "  - name: lsst.sal.ATDome.position-1s\n"
        "    filter: {source_topics: [{name: lsst.sal.ATDome.position}]}\n"
        "  - name: \"{source_topic_name}-aggregated\"\n"
        "    window_aggregation:\n"
        "      window_size_seconds: 2\n"
        "      operations: [mean, max]\n"
        "      time_field: private_sndStamp\n"
        "    filter:\n"
        "      source_topics:\n"
        "        - regex: \"lsst\\\\.sal\\\\.[A-Z][A-Za-z]*\\\\..*\"\n"
        "          exclude: [\"lsst\\\\.sal\\\\.Test\\\\..*\", \".*_Ccd\"]\n"
        "          fields: [a, b]\n"
        "          map: {a: alpha}\n"
        "  - name: last\n"
        "    filter: {source_topics: [{name: x}]}\n";

/* Loaded, a pattern is a template: compiled, positions kept. */
static void pattern_loads(void **state)
{
        ka_config_t *cfg = load_text_ok(pattern_config);
        const ka_config_topic_t *t = &cfg->topics[1];
        const ka_config_source_t *src = &t->sources[0];

        assert_int_equal(cfg->ntopics, 3);
        assert_int_equal(cfg->npatterns, 1);
        assert_false(cfg->topics[0].pattern);
        assert_true(t->pattern);
        assert_string_equal(t->name, "{source_topic_name}-aggregated");
        assert_null(src->name);
        assert_string_equal(src->regex, "lsst\\.sal\\.[A-Z][A-Za-z]*\\..*");
        assert_pos(src->pos, 11, 18);
        assert_int_equal(src->nexclude, 2);
        assert_string_equal(src->exclude[1], ".*_Ccd");
        assert_pos(src->exclude_pos[1], 12, 47);
        assert_int_equal(src->nfields, 2);
        ka_config_destroy(cfg);
}

/* Expanded: one topic per match, sorted, where the template stood, with
 * its settings; excluded topics and topics the config writes to left out;
 * the report says what matched. */
static void pattern_expands(void **state)
{
        static const char *const topics[] = {
                "lsst.sal.MTMount.azimuth",
                "lsst.sal.ATDome.position",
                "lsst.sal.Test.scalars",
                "lsst.sal.MTCamera.focal_plane_Ccd",
                "lsst.sal.ATDome.position-aggregated", /* a rerun's output */
                "other.topic",
                "lsst.sal.ATDome.position", /* listed twice */
                "lsst.sal.ATAOS.timestamp",
                "lsst.sal.mtmount.lower", /* not [A-Z] */
                "xlsst.sal.A.b",          /* whole names only */
        };
        ka_config_t *cfg = load_text_ok(pattern_config);
        char errstr[512] = "", *report = NULL, want[1024];
        size_t report_len = 0;
        FILE *mem = open_memstream(&report, &report_len);

        assert_int_equal(ka_config_expand(cfg, topics, KA_ARRAY_SIZE(topics),
                                          "the test's topics", mem, NULL,
                                          errstr, sizeof(errstr)),
                         KA_OK);
        fclose(mem);
        assert_int_equal(cfg->npatterns, 0);
        assert_int_equal(cfg->ntopics, 5);
        assert_string_equal(cfg->topics[0].name, "lsst.sal.ATDome.position-1s");
        assert_string_equal(cfg->topics[1].name,
                            "lsst.sal.ATAOS.timestamp-aggregated");
        assert_string_equal(cfg->topics[2].name,
                            "lsst.sal.ATDome.position-aggregated");
        assert_string_equal(cfg->topics[3].name,
                            "lsst.sal.MTMount.azimuth-aggregated");
        assert_string_equal(cfg->topics[4].name, "last");
        assert_false(cfg->topics[0].from_pattern);
        assert_false(cfg->topics[4].from_pattern);
        for (size_t i = 1; i <= 3; i++) {
                const ka_config_topic_t *t = &cfg->topics[i];

                assert_true(t->from_pattern);
                assert_false(t->pattern);
                assert_int_equal(t->template_index, 1);
                assert_int_equal(t->window_ms, 2000);
                assert_int_equal(t->idle_timeout_ms, 3000);
                assert_int_equal(t->nops, 2);
                assert_int_equal(t->ops[1], KA_OP_MAX);
                assert_string_equal(t->time_field, "private_sndStamp");
                assert_int_equal(t->nsources, 1);
                assert_null(t->sources[0].regex);
                assert_true(t->sources[0].fields_given);
                assert_int_equal(t->sources[0].nfields, 2);
                assert_string_equal(t->sources[0].fields[1], "b");
                assert_pos(t->sources[0].field_pos[1], 13, 23);
                assert_string_equal(
                        ka_config_source_out_name(&t->sources[0], "a"),
                        "alpha");
                assert_pos(t->pos, 4, 11);
        }
        assert_string_equal(cfg->topics[2].sources[0].name,
                            "lsst.sal.ATDome.position");
        snprintf(want, sizeof(want),
                 "%s:11:18: regex 'lsst\\.sal\\.[A-Z][A-Za-z]*\\..*' matched "
                 "3 of 9 topics (2 excluded, 1 aggregated topics of this "
                 "config skipped)\n"
                 "  lsst.sal.ATAOS.timestamp -> "
                 "lsst.sal.ATAOS.timestamp-aggregated\n"
                 "  lsst.sal.ATDome.position -> "
                 "lsst.sal.ATDome.position-aggregated\n"
                 "  lsst.sal.MTMount.azimuth -> "
                 "lsst.sal.MTMount.azimuth-aggregated\n",
                 cfg->path);
        assert_string_equal(report, want);
        free(report);
        /* Nothing left to expand: nothing happens. */
        assert_int_equal(ka_config_expand(cfg, topics, 0, "none", NULL, NULL,
                                          errstr, sizeof(errstr)),
                         KA_OK);
        assert_int_equal(cfg->ntopics, 5);
        ka_config_destroy(cfg);
}

/* Expansion errors leave the config as it was. */
static void expect_expand_error(const char *text, const char *const *topics,
                                size_t n, const char *want)
{
        char path[64], errstr[512] = "", full[1024];
        ka_config_t *cfg = load_text(text, path, errstr, sizeof(errstr));
        size_t before, npatterns;

        if (!cfg)
                fail_msg("did not load: %s", errstr);
        before = cfg->ntopics;
        npatterns = cfg->npatterns;
        assert_int_equal(ka_config_expand(cfg, topics, n, "the test's topics",
                                          NULL, NULL, errstr, sizeof(errstr)),
                         KA_ERR_INVALID);
        snprintf(full, sizeof(full), "%s:%s", path, want);
        assert_string_equal(errstr, full);
        assert_int_equal(cfg->ntopics, before);
        assert_int_equal(cfg->npatterns, npatterns);
        ka_config_destroy(cfg);
}

/* The aggregated record is named after the topic (SPEC §8), and an Avro
 * name cannot begin with a digit: said here, not by a 422 from the
 * registry once the agents are generated. A source topic may. */
static void aggregated_topic_starting_with_a_digit(void **state)
{
        ka_config_t *cfg;

        expect_error("aggregated_topics:\n"
                     "  - name: 1min-summary\n"
                     "    filter: {source_topics: [{name: s}]}\n",
                     "2:11: error: aggregated topic '1min-summary' would "
                     "name its Avro record '1min_summary', and an Avro name "
                     "cannot begin with a digit");
        cfg = load_text_ok("aggregated_topics:\n"
                           "  - name: summary-1min\n"
                           "    filter: {source_topics: [{name: 1src}]}\n");
        assert_string_equal(cfg->topics[0].sources[0].name, "1src");
        ka_config_destroy(cfg);
        /* Nor may one that a topic pattern makes. */
        expect_expand_error(
                "aggregated_topics:\n"
                "  - name: \"{source_topic_name}-agg\"\n"
                "    filter: {source_topics: [{regex: \"[0-9].*\"}]}"
                "\n",
                (const char *const[]){"9lives"}, 1,
                "2:11: error: aggregated topic '9lives-agg' for '9lives' "
                "would name its Avro record '9lives_agg', and an Avro name "
                "cannot begin with a digit");
}

static void pattern_expand_errors(void **state)
{
        static const char *const topics[] = {"a.one", "a.two", "b.one",
                                             "a.one-x"};
        char longname[300];

        expect_expand_error("aggregated_topics:\n"
                            "  - name: \"{source_topic_name}-x\"\n"
                            "    filter:\n"
                            "      source_topics: [{regex: \"c\\\\..*\"}]\n",
                            topics, 4,
                            "4:31: error: regex 'c\\..*' matches no topic "
                            "among the 4 of the test's topics");
        expect_expand_error("aggregated_topics:\n"
                            "  - name: a.one-x\n"
                            "    filter: {source_topics: [{name: a.one}]}\n"
                            "  - name: \"{source_topic_name}-y\"\n"
                            "    filter:\n"
                            "      source_topics:\n"
                            "        - regex: \"a\\\\.one-.*\"\n",
                            topics, 4,
                            "7:18: error: regex 'a\\.one-.*' matches no "
                            "topic among the 4 of the test's topics once "
                            "excluded topics and aggregated topics of this "
                            "config are left out");
        expect_expand_error("aggregated_topics:\n"
                            "  - name: \"{source_topic_name}-x\"\n"
                            "    filter: {source_topics: [{regex: "
                            "\"b\\\\..*\"}]}\n"
                            "  - name: b.one-x\n"
                            "    filter: {source_topics: [{name: a.one}]}\n",
                            topics, 4,
                            "4:11: error: aggregated topic 'b.one-x' (from "
                            "source topic 'a.one') is also made at 2:11 "
                            "(from source topic 'b.one')");
        /* A template named as its source writes to its source. */
        expect_expand_error("aggregated_topics:\n"
                            "  - name: \"{source_topic_name}\"\n"
                            "    filter: {source_topics: [{regex: "
                            "\"b\\\\..*\"}]}\n",
                            topics, 4,
                            "3:38: error: regex 'b\\..*' matches no topic "
                            "among the 4 of the test's topics once excluded "
                            "topics and aggregated topics of this config are "
                            "left out");
        memset(longname, 'y', 245);
        longname[245] = '\0';
        {
                char text[600], want[700];

                snprintf(text, sizeof(text),
                         "aggregated_topics:\n"
                         "  - name: \"%s{source_topic_name}\"\n"
                         "    filter:\n"
                         "      source_topics: [{regex: \"a\\\\..*\"}]\n",
                         longname);
                snprintf(want, sizeof(want),
                         "2:11: error: aggregated topic name '%sa.one' for "
                         "'a.one' is longer than 249 characters",
                         longname);
                expect_expand_error(text, topics, 4, want);
        }
}

static void pattern_errors(void **state)
{
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter: {source_topics: [{name: s, regex: s}]}\n",
                     "3:47: error: a source topic has 'name' or 'regex', not "
                     "both");
        expect_error("aggregated_topics:\n"
                     "  - name: x\n"
                     "    filter: {source_topics: [{name: s, exclude: [a]}]}\n",
                     "3:49: error: 'exclude' needs 'regex' in the same "
                     "source topic");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter: {source_topics: [{regex: \"a(\"}]}\n",
                     "3:38: error: invalid regular expression 'a(' in "
                     "'regex': Unmatched ( or \\( (POSIX extended syntax)");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - regex: a\n"
                     "          exclude: [ok, \"[z-a]\"]\n",
                     "6:25: error: invalid regular expression '[z-a]' in an "
                     "item of 'exclude': Invalid range end (POSIX extended "
                     "syntax)");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter: {source_topics: [{regex: \"\"}]}\n",
                     "3:38: error: 'regex' must not be empty");
        /* What would make regcomp() take seconds and gigabytes. */
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter: {source_topics: [{regex: \"a\\\\+++\"}]}\n",
                     "3:38: error: regular expression 'a\\+++' in 'regex' "
                     "is too complex for a topic pattern: a quantifier "
                     "applied to a quantifier");
        expect_error(
                "aggregated_topics:\n"
                "  - name: \"{source_topic_name}-x\"\n"
                "    filter: {source_topics: [{regex: \"((a*)*){25}\"}]}\n",
                "3:38: error: regular expression '((a*)*){25}' in "
                "'regex' is too complex for a topic pattern: an "
                "interval {m,n} (write the repetitions out)");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter: {source_topics: [{regex: \"(a)\\\\1\"}]}\n",
                     "3:38: error: regular expression '(a)\\1' in 'regex' "
                     "is too complex for a topic pattern: a back-reference");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter: {source_topics: [{regex: \"a?b?c?d?e?f?g?h?"
                     "i?j?k?l?m?n?o?p?q?\"}]}\n",
                     "3:38: error: regular expression 'a?b?c?d?e?f?g?h?i?j?"
                     "k?l?m?n?o?p?q?' in 'regex' is too complex for a topic "
                     "pattern: more than 16 of *, + and ?");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter: {source_topics: [{regex: a}, {name: b}]}\n",
                     "3:38: error: a pattern must be the only source topic "
                     "of its aggregated topic '{source_topic_name}-x'");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter: {source_topics: [{name: b}, {regex: a}]}\n",
                     "3:49: error: a pattern must be the only source topic "
                     "of its aggregated topic '{source_topic_name}-x'");
        expect_error("aggregated_topics:\n"
                     "  - name: x\n"
                     "    filter: {source_topics: [{regex: a}]}\n",
                     "2:11: error: aggregated topic 'x' has a pattern "
                     "source: its name must hold {source_topic_name} (one "
                     "topic per match)");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter: {source_topics: [{name: b}]}\n",
                     "2:11: error: {source_topic_name} in aggregated topic "
                     "'{source_topic_name}-x' needs a pattern source "
                     "('regex' instead of 'name')");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name} x\"\n"
                     "    filter: {source_topics: [{regex: a}]}\n",
                     "2:11: error: invalid aggregated topic name "
                     "'{source_topic_name} x' (besides {source_topic_name}, "
                     "a Kafka topic name is of [A-Za-z0-9._-])");
        expect_error("aggregated_topics:\n"
                     "  - name: \"{source_topic_name}-x\"\n"
                     "    filter:\n"
                     "      source_topics:\n"
                     "        - regex: a\n"
                     "          fields: [p]\n"
                     "          map: {q: r}\n",
                     "7:17: error: 'map' key 'q' is not in 'fields' of the "
                     "pattern");
        expect_error("aggregated_topics:\n"
                     "  - name: x\n"
                     "    filter: {source_topics: [{fields: [a]}]}\n",
                     "3:30: error: missing key 'name' (or 'regex') in a "
                     "source topic");
}

/* What a keep-going run reported: the lines, each after "|". */
typedef struct collected_s {
        char text[2048];
        size_t len;
} collected_t;

static void collect(void *opaque, ka_err_t err, const char *msg)
{
        collected_t *c = opaque;

        assert_int_equal(err, KA_ERR_INVALID);
        c->len += (size_t)snprintf(c->text + c->len, sizeof(c->text) - c->len,
                                   "|%s", msg);
}

/* Every faulty aggregated topic is reported and left out; the good ones
 * load; a fault outside any topic still ends the load. */
static void load_each_reports_every_topic(void **state)
{
        static const char text[] = "aggregated_topics:\n"
                                   "  - name: a\n"
                                   "    filter: {source_topics: [{name: s}]}\n"
                                   "  - name: b\n"
                                   "    window_aggregation: {operations: [x]}\n"
                                   "    filter: {source_topics: [{name: s}]}\n"
                                   "  - name: c\n"
                                   "    filter: {source_topics: [{name: s}]}\n"
                                   "  - name: a\n"
                                   "    filter: {source_topics: [{name: t}]}\n"
                                   "  - name: d\n"
                                   "    filter: {source_topics: []}\n";
        collected_t got = {0};
        ka_config_errors_t errors = {.fn = collect, .opaque = &got};
        char path[64], errstr[512] = "", want[1024];
        ka_config_t *cfg;

        (void)state;
        write_temp(text, path);
        cfg = ka_config_load_each(path, &errors, errstr, sizeof(errstr));
        assert_non_null(cfg);
        assert_int_equal(errors.n, 3);
        snprintf(want, sizeof(want),
                 "|%s:5:39: error: unknown operation 'x' (expected min, q1, "
                 "mean, median, stdev, q3, max or sum)"
                 "|%s:9:11: error: duplicate aggregated topic 'a' (first at "
                 "2:11)"
                 "|%s:12:29: error: 'source_topics' of aggregated topic 'd' "
                 "is empty",
                 path, path, path);
        assert_string_equal(got.text, want);
        assert_int_equal(cfg->ntopics, 2);
        assert_string_equal(cfg->topics[0].name, "a");
        assert_string_equal(cfg->topics[0].sources[0].name, "s");
        assert_string_equal(cfg->topics[1].name, "c");
        ka_config_destroy(cfg);
        /* Without errors: the first one, as ka_config_load() gives. */
        assert_null(ka_config_load_each(path, NULL, errstr, sizeof(errstr)));
        snprintf(want, sizeof(want),
                 "%s:5:39: error: unknown operation 'x' (expected min, q1, "
                 "mean, median, stdev, q3, max or sum)",
                 path);
        assert_string_equal(errstr, want);
        unlink(path);

        write_temp("aggregated_topics: {}\n", path);
        errors.n = 0;
        assert_null(ka_config_load_each(path, &errors, errstr, sizeof(errstr)));
        assert_int_equal(errors.n, 0);
        unlink(path);
}

/* Expansion errors with a sink: each reported, what it is about left out. */
static void expand_each_reports_every_template(void **state)
{
        static const char *const topics[] = {"a.one", "a.two", "b.one"};
        static const char text[] =
                "aggregated_topics:\n"
                "  - name: \"{source_topic_name}-x\"\n"
                "    filter: {source_topics: [{regex: \"c\\\\..*\"}]}\n"
                "  - name: \"{source_topic_name}-x\"\n"
                "    filter: {source_topics: [{regex: \"a\\\\..*\"}]}\n"
                "  - name: a.two-x\n"
                "    filter: {source_topics: [{name: b.one}]}\n";
        collected_t got = {0};
        ka_config_errors_t errors = {.fn = collect, .opaque = &got};
        char path[64], errstr[512] = "", want[1024];
        ka_config_t *cfg = load_text(text, path, errstr, sizeof(errstr));

        (void)state;
        if (!cfg)
                fail_msg("did not load: %s", errstr);
        assert_int_equal(ka_config_expand(cfg, topics, 3, "the test's topics",
                                          NULL, &errors, errstr,
                                          sizeof(errstr)),
                         KA_OK);
        snprintf(want, sizeof(want),
                 "|%s:3:38: error: regex 'c\\..*' matches no topic among "
                 "the 3 of the test's topics"
                 "|%s:6:11: error: aggregated topic 'a.two-x' (from source "
                 "topic 'b.one') is also made at 4:11 (from source topic "
                 "'a.two')",
                 path, path);
        assert_string_equal(got.text, want);
        assert_int_equal(errors.n, 2);
        assert_int_equal(cfg->ntopics, 2);
        assert_string_equal(cfg->topics[0].name, "a.one-x");
        assert_string_equal(cfg->topics[1].name, "a.two-x");
        assert_string_equal(cfg->topics[1].sources[0].name, "a.two");
        ka_config_destroy(cfg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(example_config),
                cmocka_unit_test(full_config),
                cmocka_unit_test(defaults),
                cmocka_unit_test(fractional_windows),
                cmocka_unit_test(duration_forms),
                cmocka_unit_test(every_operation),
                cmocka_unit_test(yaml_forms),
                cmocka_unit_test(no_topics),
                cmocka_unit_test(out_names),
                cmocka_unit_test(errorf_format),
                cmocka_unit_test(missing_file),
                cmocka_unit_test(empty_file),
                cmocka_unit_test(syntax_errors),
                cmocka_unit_test(key_errors),
                cmocka_unit_test(type_errors),
                cmocka_unit_test(operation_errors),
                cmocka_unit_test(duration_errors),
                cmocka_unit_test(name_errors),
                cmocka_unit_test(aggregated_topic_starting_with_a_digit),
                cmocka_unit_test(field_errors),
                cmocka_unit_test(output_name_errors),
                cmocka_unit_test(pattern_loads),
                cmocka_unit_test(pattern_expands),
                cmocka_unit_test(pattern_expand_errors),
                cmocka_unit_test(pattern_errors),
                cmocka_unit_test(load_each_reports_every_topic),
                cmocka_unit_test(expand_each_reports_every_template),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
