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
        fprintf(out,
                "usage: kafkaaggregator [-l crit|error|warn|info|debug] "
                "COMMAND [OPTIONS]\n"
                "       kafkaaggregator --version\n\n"
                "Aggregates Kafka telemetry into tumbling windows of summary "
                "statistics.\n\ncommands:\n");
        for (size_t i = 0; i < KA_ARRAY_SIZE(commands); i++)
                fprintf(out, "  %-16s %s\n", commands[i].name,
                        commands[i].summary);
        fprintf(out, "\nRun 'kafkaaggregator COMMAND --help' for the options "
                     "of a command.\n");
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
