/*
 * Helpers shared by the command entry points (SPEC §3): option parsing with
 * one-line errors and exit status 2, and environment defaults. Only command
 * entry points may exit; they return their exit status to main.
 */
#ifndef KA_CLI_H
#define KA_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit statuses of every command. */
#define KA_EXIT_OK    0
#define KA_EXIT_FAIL  1
#define KA_EXIT_USAGE 2

/* A subcommand: called with argv[0] = the command name. */
typedef struct ka_command_s {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} ka_command_t;

/*
 * One row of a help list: an option or an environment variable, what it
 * does (a phrase, no final period) and its default (NULL: none), printed
 * as "(default: DEFAULT)" after the text.
 */
typedef struct ka_cli_item_s {
        const char *name;
        const char *text;
        const char *deflt;
} ka_cli_item_t;

/*
 * A command's --help, in the layout every command shares:
 *
 *   usage: kafkaaggregator USAGE          (wrapped, more lines aligned)
 *                                         (one more usage line per '\n')
 *   DESCRIPTION                           (one paragraph, wrapped)
 *
 *   Commands:                             (the top level only)
 *   Options:
 *     NAME   TEXT (default: DEFAULT)      (aligned per list, wrapped)
 *     -h, --help   print this help and exit
 *   Environment:                          (when the command reads any)
 *
 *   EPILOG                                (when set)
 *
 * The lists of rows end at a row whose name is NULL, the environment at a
 * NULL pointer; commands, environment and epilog may be NULL. Every line
 * fits 79 columns but for words longer than that.
 */
typedef struct ka_cli_help_s {
        const char *usage;
        const char *description;
        const ka_cli_item_t *commands;
        const ka_cli_item_t *options;
        const ka_cli_item_t *const *environment;
        const char *epilog;
} ka_cli_help_t;

/* Prints help to out. */
void ka_cli_help_print(FILE *out, const ka_cli_help_t *help);

/* Environment rows, worded once for every command that reads them. */
extern const ka_cli_item_t ka_cli_env_brokers, ka_cli_env_kafka_config,
        ka_cli_env_registry, ka_cli_env_internal_registry, ka_cli_env_config,
        ka_cli_env_group;

/*
 * getopt_long with the CLI's error style: returns the option, -1 at the end
 * of the options, or '?' after printing "kafkaaggregator: CMD: unknown
 * option '--x'" (or a missing value). Positional arguments are errors.
 * optstring must begin with ':' so that a missing value is told apart.
 */
int ka_cli_getopt(int argc, char **argv, const char *optstring,
                  const struct option *longopts);

/*
 * Prints "kafkaaggregator: CMD: MESSAGE" (without "CMD: " when cmd is NULL)
 * on stderr; returns KA_EXIT_USAGE.
 */
__attribute__((format(printf, 2, 3))) int
ka_cli_usage_error(const char *cmd, const char *fmt, ...);

/* Prints "kafkaaggregator: CMD: MESSAGE" on stderr; returns KA_EXIT_FAIL. */
__attribute__((format(printf, 2, 3))) int ka_cli_fail(const char *cmd,
                                                      const char *fmt, ...);

/*
 * Parse a whole decimal integer or number within [min, max]; on failure
 * print a usage error naming opt and return false.
 */
bool ka_cli_parse_long(const char *cmd, const char *opt, const char *value,
                       long min, long max, long *out);
bool ka_cli_parse_double(const char *cmd, const char *opt, const char *value,
                         double min, double max, double *out);

#endif
