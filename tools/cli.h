/*
 * Helpers shared by the command entry points (SPEC §3): option parsing with
 * one-line errors and exit status 2, and environment defaults. Only command
 * entry points may exit; they return their exit status to main.
 */
#ifndef KA_CLI_H
#define KA_CLI_H

#include <getopt.h>
#include <stdbool.h>

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
