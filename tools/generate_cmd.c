/*
 * `kafkaaggregator generate-agents` (SPEC §3, §12): options and environment
 * in, ka_generate() (generator/generate.h), a summary line out.
 */
#include "cli.h"
#include "commands.h"
#include "generate.h"
#include "registry.h"
#include "schema_source.h"

#include <stdio.h>

#define CMD "generate-agents"

static const char usage[] =
        "usage: kafkaaggregator generate-agents [--config-file F] "
        "[--output-dir D]\n"
        "           [--template-dir T] [--compatibility LEVEL] "
        "[--schema-dir DIR]\n\n"
        "Takes the schema of every source topic of the config from "
        "SCHEMA_REGISTRY_URL\n"
        "(or from DIR/<topic>.avsc), renders one C agent per aggregated "
        "topic into the\n"
        "output directory and registers each aggregated schema in "
        "INTERNAL_SCHEMA_REGISTRY_URL.\n"
        "Then run make.\n\n"
        "  --config-file F      config (env AGGREGATOR_CONFIG_FILE, default\n"
        "                       example/aggregator-config.yaml)\n"
        "  --output-dir D       generated sources (env AGENTS_OUTPUT_DIR, "
        "default agents)\n"
        "  --template-dir T     templates (default templates)\n"
        "  --compatibility L    set the compatibility level of each "
        "aggregated subject\n"
        "                       before registering (NONE, BACKWARD, "
        "FORWARD, FULL, ...)\n"
        "  --schema-dir DIR     source schemas from DIR/<topic>.avsc: no "
        "network at all;\n"
        "                       the worker registers the aggregated "
        "schemas at start\n";

int ka_generate_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config-file", required_argument, 0, 'c'},
                {"output-dir", required_argument, 0, 'o'},
                {"template-dir", required_argument, 0, 't'},
                {"compatibility", required_argument, 0, 'C'},
                {"schema-dir", required_argument, 0, 's'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        ka_generate_opts_t o = {
                .config_file = ka_env("AGGREGATOR_CONFIG_FILE",
                                      "example/aggregator-config.yaml"),
                .output_dir = ka_env("AGENTS_OUTPUT_DIR", "agents"),
                .template_dir = "templates",
                .report = stdout,
        };
        const char *schema_dir = NULL, *src_url, *int_url;
        ka_registry_t *src_reg = NULL, *int_reg = NULL;
        ka_schema_source_t *schemas = NULL;
        ka_generate_result_t res;
        char errstr[2048];
        ka_err_t err;
        int rc = KA_EXIT_FAIL, c;

        while ((c = ka_cli_getopt(argc, argv, ":h", opts)) != -1) {
                switch (c) {
                case 'c':
                        o.config_file = optarg;
                        break;
                case 'o':
                        o.output_dir = optarg;
                        break;
                case 't':
                        o.template_dir = optarg;
                        break;
                case 'C':
                        o.compatibility = optarg;
                        break;
                case 's':
                        schema_dir = optarg;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return KA_EXIT_OK;
                default:
                        return KA_EXIT_USAGE;
                }
        }
        if (schema_dir && o.compatibility)
                return ka_cli_usage_error(CMD, "--compatibility needs the "
                                               "registry: it cannot go with "
                                               "--schema-dir");

        if (schema_dir) {
                schemas = ka_schema_source_dir(schema_dir);
        } else {
                src_url =
                        ka_env("SCHEMA_REGISTRY_URL", "http://localhost:8081");
                int_url = ka_env("INTERNAL_SCHEMA_REGISTRY_URL", src_url);
                if (!(src_reg = ka_registry_new(src_url, NULL, errstr,
                                                sizeof(errstr))) ||
                    !(int_reg = ka_registry_new(int_url, NULL, errstr,
                                                sizeof(errstr)))) {
                        rc = ka_cli_usage_error(CMD, "%s", errstr);
                        goto out;
                }
                schemas = ka_schema_source_registry(src_reg);
                o.registry = int_reg;
        }
        if (!schemas) {
                rc = ka_cli_fail(CMD, "out of memory");
                goto out;
        }

        err = ka_generate(&o, schemas, &res, errstr, sizeof(errstr));
        if (err == KA_ERR_INVALID) {
                /* A FILE:LINE:COL diagnostic stands on its own. */
                fprintf(stderr, "%s\n", errstr);
                rc = KA_EXIT_USAGE;
        } else if (err) {
                rc = ka_cli_fail(CMD, "%s", errstr);
        } else {
                printf("generate-agents: %zu agents from %s into %s/ (%zu "
                       "files written, %zu unchanged, %zu removed); now run "
                       "make\n",
                       res.nagents, o.config_file, o.output_dir,
                       res.files.written, res.files.unchanged,
                       res.files.removed);
                rc = KA_EXIT_OK;
        }
out:
        ka_schema_source_destroy(schemas);
        ka_registry_destroy(src_reg);
        ka_registry_destroy(int_reg);
        return rc;
}
