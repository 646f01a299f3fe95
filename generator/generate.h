/*
 * The generator as a library (SPEC §5-§8, §12): config -> schemas ->
 * checked agent models -> aggregated schemas registered -> agents rendered
 * from the templates. The `generate-agents` command of tools/ is a thin
 * layer over ka_generate().
 */
#ifndef KA_GENERATE_H
#define KA_GENERATE_H

#include "emit.h"
#include "ka.h"
#include "registry.h"
#include "schema_source.h"

#include <stddef.h>
#include <stdio.h>

typedef struct ka_generate_opts_s {
        const char *config_file;
        const char *output_dir;
        const char *template_dir;
        /*
         * Where the aggregated schemas are registered, as
         * `<aggregated topic>-value` (borrowed); NULL registers nothing
         * (the worker registers them at start).
         */
        ka_registry_t *registry;
        /* Set on each aggregated subject before registering, or NULL. */
        const char *compatibility;
        /* Where to print what each topic pattern matched, or NULL. */
        FILE *report;
} ka_generate_opts_t;

/* What a run did. */
typedef struct ka_generate_result_s {
        size_t nagents;
        ka_emit_stats_t files;
} ka_generate_result_t;

/*
 * Loads opts->config_file, expands its topic patterns against the topics
 * schemas knows (ka_config_expand(), reporting to opts->report), takes
 * each source topic's writer schema from schemas, checks the config
 * against them (a `fields` entry or `map` key of a pattern must be a
 * number in at least one matched topic), registers the aggregated
 * schemas, then renders one agent per aggregated topic and the agents
 * table into opts->output_dir (only files whose bytes change are written;
 * stale generated files are removed). Nothing is registered or written
 * unless the whole config is good.
 *
 * Returns KA_OK; KA_ERR_INVALID with a compiler-style diagnostic
 * ("FILE:LINE:COL: error: ...") when the config is at fault; another
 * error with a one-line reason (a schema that cannot be had, a registry
 * refusal such as 409, an I/O error).
 */
ka_err_t ka_generate(const ka_generate_opts_t *opts,
                     ka_schema_source_t *schemas, ka_generate_result_t *res,
                     char *errstr, size_t errstr_size);

#endif
