/*
 * The YAML config loader (`aggregator-config.yaml`): any text loads into a
 * config or fails with one line `fuzz.yaml[:LINE:COL]: error: MESSAGE`.
 * A loaded config holds what the loader promises: valid topic and field
 * names, positive windows, known operations; and so does it once its topic
 * patterns are expanded against a few topic names (or it fails the same
 * way).
 */
#include "fuzz.h"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(const ka_config_t *cfg)
{
        for (size_t t = 0; t < cfg->ntopics; t++) {
                const ka_config_topic_t *topic = &cfg->topics[t];

                if (!topic->name || !*topic->name || topic->window_ms <= 0 ||
                    topic->expiration_ms < 0 || !topic->nsources)
                        abort();
                for (size_t o = 0; o < topic->nops; o++)
                        if (!ka_op_name(topic->ops[o]))
                                abort();
                for (size_t s = 0; s < topic->nsources; s++) {
                        const ka_config_source_t *src = &topic->sources[s];

                        /* A name, or a topic pattern's regex. */
                        if (src->name ? !*src->name : !src->regex)
                                abort();
                        for (size_t f = 0; f < src->nfields; f++)
                                if (!ka_config_source_out_name(src,
                                                               src->fields[f]))
                                        abort();
                }
        }
}

static const char *const topics[] = {
        "lsst.sal.ATDome.position",
        "lsst.sal.MTMount.azimuth",
        "example-000",
        "9lives",
        "a",
        "a-aggregated",
        "{source_topic_name}",
        "s",
};

static void one_line(const char *errstr)
{
        if (strncmp(errstr, "fuzz.yaml", 9) || strchr(errstr, '\n') ||
            !strstr(errstr, "error: ")) {
                fprintf(stderr, "not a one-line error: '%s'\n", errstr);
                abort();
        }
}

/* generate-agents --check's collector: each error one line too. */
static void each_error(void *opaque, ka_err_t err, const char *msg)
{
        (void)opaque;
        if (err != KA_ERR_INVALID) {
                fprintf(stderr, "a config error of class %d\n", (int)err);
                abort();
        }
        one_line(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t *copy = fuzz_copy(data, size, false);
        char errstr[1024] = "";
        ka_config_t *cfg;

        cfg = ka_config_load_buffer("fuzz.yaml", (const char *)copy, size,
                                    errstr, sizeof(errstr));
        if (cfg) {
                check(cfg);
                /* Topic patterns against a few topics of the registry:
                 * stopping at the first error, or (an odd last byte) going
                 * on past each as generate-agents --check does. */
                ka_config_errors_t errors = {each_error, NULL, 0};
                bool each = size > 0 && (data[size - 1] & 1);

                if (ka_config_expand(cfg, topics, KA_ARRAY_SIZE(topics),
                                     "the fuzz topics", NULL,
                                     each ? &errors : NULL, errstr,
                                     sizeof(errstr))) {
                        one_line(errstr);
                } else {
                        check(cfg);
                }
        } else {
                one_line(errstr);
        }
        ka_config_destroy(cfg);
        free(copy);
        return 0;
}
