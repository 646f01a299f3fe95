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

static void usage(void)
{
        static const ka_cli_item_t options[] = {
                {"--config-file F", "the aggregator config",
                 "$AGGREGATOR_CONFIG_FILE, else "
                 "example/aggregator-config.yaml"},
                {"--output-dir D", "where the agents are written",
                 "$AGENTS_OUTPUT_DIR, else agents"},
                {"--template-dir T", "read the templates from T instead",
                 "the templates built into this binary"},
                {"--compatibility LEVEL",
                 "set each aggregated subject's compatibility level before "
                 "registering: NONE, BACKWARD, FORWARD, FULL or a "
                 "_TRANSITIVE form",
                 NULL},
                {"--schema-dir DIR",
                 "take the source schemas from DIR/<topic>.avsc: no network "
                 "at all, nothing registered",
                 NULL},
                {"--check",
                 "check the config against the schemas and report every "
                 "error at once, writing and registering nothing; with the "
                 "registry and no --compatibility, also test each "
                 "aggregated schema against its subject's latest version; "
                 "exit status 0 when all is good, 1 when not",
                 NULL},
                {NULL, NULL, NULL},
        };
        static const ka_cli_item_t output_dir = {
                "AGENTS_OUTPUT_DIR", "where the agents are written", "agents"};
        static const ka_cli_item_t *const environment[] = {
                &ka_cli_env_registry,
                &ka_cli_env_internal_registry,
                &ka_cli_env_config,
                &output_dir,
                NULL,
        };
        static const ka_cli_help_t help = {
                .usage = CMD " [--config-file F] [--output-dir D] "
                             "[--template-dir T] [--compatibility LEVEL] "
                             "[--schema-dir DIR] [--check]",
                .description =
                        "Takes the schema of every source topic of the "
                        "config from the Schema Registry (the latest "
                        "'<topic>-value') or from DIR/<topic>.avsc, checks "
                        "the config against them, registers each aggregated "
                        "schema as '<aggregated topic>-value' (not with "
                        "--schema-dir: the worker registers them at start) "
                        "and renders one C agent per aggregated topic (per "
                        "matching topic for a topic pattern) and the agents "
                        "table into the output directory. Then run make.",
                .options = options,
                .environment = environment,
        };

        ka_cli_help_print(stdout, &help);
}

/* An error as it reads on stderr: a FILE:LINE:COL diagnostic on its own,
 * anything else after the command's name. */
static void print_error(void *opaque, ka_err_t err, const char *msg)
{
        (void)opaque;
        if (err == KA_ERR_INVALID)
                fprintf(stderr, "%s\n", msg);
        else
                ka_cli_fail(CMD, "%s", msg);
}

int ka_generate_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config-file", required_argument, 0, 'c'},
                {"output-dir", required_argument, 0, 'o'},
                {"template-dir", required_argument, 0, 't'},
                {"compatibility", required_argument, 0, 'C'},
                {"schema-dir", required_argument, 0, 's'},
                {"check", no_argument, 0, 'k'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        ka_generate_opts_t o = {
                .config_file = ka_env("AGGREGATOR_CONFIG_FILE",
                                      "example/aggregator-config.yaml"),
                .output_dir = ka_env("AGENTS_OUTPUT_DIR", "agents"),
                .report = stdout,
        };
        const char *schema_dir = NULL, *src_url, *int_url;
        ka_registry_t *src_reg = NULL, *int_reg = NULL;
        ka_schema_source_t *schemas = NULL;
        ka_config_errors_t errors = {.fn = print_error};
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
                case 'k':
                        o.check = true;
                        o.errors = &errors;
                        break;
                case 'h':
                        usage();
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
        if (o.check && errors.n) {
                /* Each error is out already; an outage may have ended the
                 * run after them. */
                if (err != KA_ERR_INVALID)
                        print_error(NULL, err, errstr);
                fprintf(stderr,
                        "generate-agents: %zu error%s in %s; nothing written "
                        "or registered\n",
                        errors.n, errors.n == 1 ? "" : "s", o.config_file);
                rc = KA_EXIT_FAIL;
        } else if (err) {
                print_error(NULL, err, errstr);
                rc = o.check || err != KA_ERR_INVALID ? KA_EXIT_FAIL
                                                      : KA_EXIT_USAGE;
        } else if (o.check) {
                printf("generate-agents: %s is good: %zu agents would be "
                       "generated; nothing written or registered\n",
                       o.config_file, res.nagents);
                rc = KA_EXIT_OK;
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
