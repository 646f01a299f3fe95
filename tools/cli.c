/*
 * Option parsing and error reporting shared by every command.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((format(printf, 2, 0))) static void
vreport(const char *cmd, const char *fmt, va_list ap)
{
        if (cmd)
                fprintf(stderr, "kafkaaggregator: %s: ", cmd);
        else
                fputs("kafkaaggregator: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int ka_cli_usage_error(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vreport(cmd, fmt, ap);
        va_end(ap);
        return KA_EXIT_USAGE;
}

int ka_cli_fail(const char *cmd, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vreport(cmd, fmt, ap);
        va_end(ap);
        return KA_EXIT_FAIL;
}

int ka_cli_getopt(int argc, char **argv, const char *optstring,
                  const struct option *longopts)
{
        int c;

        opterr = 0;
        c = getopt_long(argc, argv, optstring, longopts, NULL);
        if (c == ':') {
                ka_cli_usage_error(argv[0], "option '%s' needs a value",
                                   argv[optind - 1]);
                return '?';
        }
        if (c == '?') {
                ka_cli_usage_error(argv[0], "unknown option '%s'",
                                   argv[optind - 1]);
                return '?';
        }
        if (c == -1 && optind < argc) {
                ka_cli_usage_error(argv[0], "unexpected argument '%s'",
                                   argv[optind]);
                return '?';
        }
        return c;
}

bool ka_cli_parse_long(const char *cmd, const char *opt, const char *value,
                       long min, long max, long *out)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < min || v > max) {
                ka_cli_usage_error(cmd,
                                   "%s: '%s' is not an integer from %ld "
                                   "to %ld",
                                   opt, value, min, max);
                return false;
        }
        *out = v;
        return true;
}

bool ka_cli_parse_double(const char *cmd, const char *opt, const char *value,
                         double min, double max, double *out)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v) || v < min ||
            v > max) {
                ka_cli_usage_error(cmd,
                                   "%s: '%s' is not a number from %g "
                                   "to %g",
                                   opt, value, min, max);
                return false;
        }
        *out = v;
        return true;
}
