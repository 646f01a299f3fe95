/*
 * The kafkaaggregator command line (SPEC §3): global options, then one
 * subcommand from the table below. main parses and delegates; every command
 * returns its exit status.
 */
#include "cli.h"
#include "commands.h"
#include "consume.h"
#include "example.h"
#include "ka.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

static const ka_command_t commands[] = {
        {"generate-agents", ka_generate_main,
         "render one C agent per aggregated topic into agents/"},
        {"agents", ka_agents_main, "list the agents compiled into this binary"},
        {"worker", ka_worker_main, "run every compiled agent"},
        {"init-example", ka_init_example_main,
         "create the example source topics and register their schemas"},
        {"produce", ka_produce_main,
         "produce example messages to the source topics"},
        {"consume", ka_consume_main,
         "print a topic's messages as JSON lines (Confluent Avro decoded)"},
        {"dev-stack", ka_devstack_main,
         "run the embedded Kafka and Schema Registry (development)"},
};

static void usage(FILE *out)
{
        static const ka_cli_item_t options[] = {
                {"-l, --loglevel LEVEL",
                 "log on stderr at LEVEL and above: crit, error, warn, info "
                 "or debug",
                 "info"},
                {"--version", "print the version and exit", NULL},
                {NULL, NULL, NULL},
        };
        static const ka_cli_item_t output_dir = {
                "AGENTS_OUTPUT_DIR", "generate-agents' output", "agents"};
        static const ka_cli_item_t example = {
                "TOPIC_PARTITIONS, NFIELDS, FREQUENCY, MAX_MESSAGES, "
                "ARRAY_LENGTH",
                "defaults of the example commands' options", NULL};
        static const ka_cli_item_t *const environment[] = {
                &ka_cli_env_brokers,
                &ka_cli_env_kafka_config,
                &ka_cli_env_registry,
                &ka_cli_env_internal_registry,
                &ka_cli_env_config,
                &output_dir,
                &ka_cli_env_group,
                &example,
                NULL,
        };
        ka_cli_item_t items[KA_ARRAY_SIZE(commands) + 1];
        ka_cli_help_t help = {
                .usage = "[-l LEVEL] COMMAND [OPTIONS]\n--version",
                .description =
                        "Aggregates Kafka telemetry into tumbling windows of "
                        "summary statistics. generate-agents renders one C "
                        "agent per aggregated topic of the config from the "
                        "source topics' Avro schemas; make compiles them "
                        "into this binary, and its worker command runs "
                        "them. Command-line options win over the "
                        "environment.",
                .commands = items,
                .options = options,
                .environment = environment,
                .epilog = "Run 'kafkaaggregator COMMAND --help' for the "
                          "options of a command.",
        };

        for (size_t i = 0; i < KA_ARRAY_SIZE(commands); i++)
                items[i] = (ka_cli_item_t){commands[i].name,
                                           commands[i].summary, NULL};
        items[KA_ARRAY_SIZE(commands)] = (ka_cli_item_t){NULL, NULL, NULL};
        ka_cli_help_print(out, &help);
}

int main(int argc, char **argv)
{
        ka_log_level_t level;
        int i = 1;

        /* Global options stand before the command; the command parses the
         * rest with getopt, so stop at the first non-option. */
        for (; i < argc && argv[i][0] == '-'; i++) {
                const char *arg = argv[i];

                if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
                        usage(stdout);
                        return KA_EXIT_OK;
                }
                if (!strcmp(arg, "--version")) {
                        printf("kafkaaggregator %s\n", KA_VERSION);
                        return KA_EXIT_OK;
                }
                if (!strcmp(arg, "-l") || !strcmp(arg, "--loglevel")) {
                        if (++i == argc)
                                return ka_cli_usage_error(
                                        "-l", "needs a level "
                                              "(crit|error|warn|info|debug)");
                        if (!ka_log_level_parse(argv[i], &level))
                                return ka_cli_usage_error(
                                        "-l",
                                        "unknown level '%s' (expected "
                                        "crit|error|warn|info|debug)",
                                        argv[i]);
                        ka_log_set_level(level);
                        continue;
                }
                return ka_cli_usage_error(NULL, "unknown option '%s'", arg);
        }

        if (i == argc) {
                usage(stderr);
                return KA_EXIT_USAGE;
        }

        for (size_t c = 0; c < KA_ARRAY_SIZE(commands); c++) {
                if (!strcmp(argv[i], commands[c].name)) {
                        optind = 1;
                        return commands[c].run(argc - i, argv + i);
                }
        }
        return ka_cli_usage_error(NULL, "unknown command '%s' (see --help)",
                                  argv[i]);
}
