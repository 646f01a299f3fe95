/*
 * The generator as a library (SPEC §5-§8, §12): config -> schemas ->
 * checked agent models -> aggregated schemas registered -> agents rendered
 * from the templates. The `generate-agents` command of tools/ is a thin
 * layer over ka_generate().
 */
#ifndef KA_GENERATE_H
#define KA_GENERATE_H

#include "config.h"
#include "emit.h"
#include "ka.h"
#include "registry.h"
#include "schema_source.h"

#include <stddef.h>
#include <stdio.h>

typedef struct ka_generate_opts_s {
        const char *config_file;
        const char *output_dir;
        /* Where the templates are read from; NULL: the built-in ones. */
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
        /*
         * Check only (generate-agents --check): nothing is written or
         * registered; with a registry and no compatibility, each
         * aggregated schema is tested against the latest version of its
         * subject instead (an incompatible one is an error, as registering
         * it would be), and the templates are parsed.
         */
        bool check;
        /*
         * NULL: stop at the first error. Else every error goes there as
         * found (see ka_config_errors_t) and the run goes on without the
         * agent it is about; ka_generate() returns KA_ERR_INVALID if any
         * was, having written and registered nothing. An outage (the
         * registry unreachable, refused credentials, no memory) still ends
         * the run with its own error.
         */
        ka_config_errors_t *errors;
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
 * refusal such as 409, an I/O error). With opts->errors, see there. With
 * opts->check, res->nagents is how many agents a run would write, and
 * res->files stays zero.
 */
ka_err_t ka_generate(const ka_generate_opts_t *opts,
                     ka_schema_source_t *schemas, ka_generate_result_t *res,
                     char *errstr, size_t errstr_size);

#endif
