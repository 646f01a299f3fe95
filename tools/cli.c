/*
 * Option parsing and error reporting shared by every command.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Help text never goes past this column. */
#define HELP_WIDTH 79
/* A list's text column: after its longest name, but no further than this;
 * longer names have their text on the next line. */
#define HELP_MAX_COLUMN 26
/* Further usage lines align after the command name, or when that is
 * further than this, start at column 11. */
#define HELP_MAX_USAGE_INDENT 32

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

const ka_cli_item_t ka_cli_env_brokers = {
        "KAFKA_BROKER_URL",
        "Kafka brokers: host:port, comma-separated, kafka:// optional",
        "kafka://localhost:9092"};
const ka_cli_item_t ka_cli_env_kafka_config = {
        "KAFKA_CONFIG_FILE",
        "a file of librdkafka key=value lines (security.protocol, sasl.*, "
        "ssl.*, ...) applied to every Kafka client",
        NULL};
const ka_cli_item_t ka_cli_env_registry = {
        "SCHEMA_REGISTRY_URL",
        "Schema Registry of the source schemas; http://user:pass@host:port "
        "for basic auth",
        "http://localhost:8081"};
const ka_cli_item_t ka_cli_env_internal_registry = {
        "INTERNAL_SCHEMA_REGISTRY_URL",
        "Schema Registry of the aggregated schemas", "$SCHEMA_REGISTRY_URL"};
const ka_cli_item_t ka_cli_env_config = {"AGGREGATOR_CONFIG_FILE",
                                         "the aggregator config",
                                         "example/aggregator-config.yaml"};
const ka_cli_item_t ka_cli_env_group = {
        "KAFKA_GROUP_ID", "the workers' consumer group", "kafkaaggregator"};

static const ka_cli_item_t help_item = {"-h, --help",
                                        "print this help and exit", NULL};

/* Stands for a space where a line must not break. */
#define NBSP '\x01'

/*
 * Writes text from column col (the cursor is there) wrapped at
 * HELP_WIDTH, continuation lines indented to indent; words longer than a
 * line stay whole, NBSP prints as a space. Ends the line.
 */
static void put_wrapped(FILE *out, const char *text, size_t col, size_t indent)
{
        bool first = true;

        while (*text) {
                size_t len = strcspn(text, " ");

                if (!first && col + 1 + len > HELP_WIDTH) {
                        fprintf(out, "\n%*s", (int)indent, "");
                        col = indent;
                } else if (!first) {
                        putc(' ', out);
                        col++;
                }
                for (size_t i = 0; i < len; i++)
                        putc(text[i] == NBSP ? ' ' : text[i], out);
                col += len;
                first = false;
                text += len;
                text += strspn(text, " ");
        }
        putc('\n', out);
}

/* The text column of a list: after its longest name, at most
 * HELP_MAX_COLUMN. */
static size_t list_column(size_t column, const ka_cli_item_t *it)
{
        size_t want = 2 + strlen(it->name) + 2;

        if (want > column)
                column = want;
        return column > HELP_MAX_COLUMN ? HELP_MAX_COLUMN : column;
}

static void put_item(FILE *out, const ka_cli_item_t *it, size_t column)
{
        char text[1024];
        size_t at = 2 + strlen(it->name);

        fprintf(out, "  %s", it->name);
        if (at + 2 > column)
                fprintf(out, "\n%*s", (int)column, "");
        else
                fprintf(out, "%*s", (int)(column - at), "");
        snprintf(text, sizeof(text), "%s", it->text);
        /* "(default: X)" stays on one line when it fits in one. */
        if (it->deflt) {
                size_t len = strlen(text), dlen = strlen(it->deflt);
                bool whole =
                        strlen("(default: )") + dlen <= HELP_WIDTH - column;

                snprintf(text + len, sizeof(text) - len, " (default:%c%s)",
                         NBSP, it->deflt);
                for (size_t i = len + strlen(" (default: "); whole && text[i];
                     i++)
                        if (text[i] == ' ')
                                text[i] = NBSP;
        }
        put_wrapped(out, text, column, column);
}

/* items, then extra when not NULL. */
static void put_list(FILE *out, const char *title, const ka_cli_item_t *items,
                     const ka_cli_item_t *extra)
{
        size_t column = 0;

        for (const ka_cli_item_t *it = items; it && it->name; it++)
                column = list_column(column, it);
        if (extra)
                column = list_column(column, extra);
        fprintf(out, "\n%s:\n", title);
        for (const ka_cli_item_t *it = items; it && it->name; it++)
                put_item(out, it, column);
        if (extra)
                put_item(out, extra, column);
}

static void put_env(FILE *out, const ka_cli_item_t *const *env)
{
        size_t column = 0;

        for (const ka_cli_item_t *const *it = env; *it; it++)
                column = list_column(column, *it);
        fputs("\nEnvironment:\n", out);
        for (const ka_cli_item_t *const *it = env; *it; it++)
                put_item(out, *it, column);
}

void ka_cli_help_print(FILE *out, const ka_cli_help_t *help)
{
        static const char prog[] = "kafkaaggregator ";
        const char *usage = help->usage;
        bool first = true;

        /* Each usage line wraps between bracketed words, its further lines
         * aligned after the command name. */
        while (*usage) {
                size_t len = strcspn(usage, "\n"), col, indent, cmd_len;
                char line[512];
                const char *p;
                int depth = 0;

                snprintf(line, sizeof(line), "%.*s", (int)len, usage);
                fputs(first ? "usage: " : "       ", out);
                fputs(prog, out);
                cmd_len = strcspn(line, " ");
                if (line[0] == '[' || line[0] == '-')
                        cmd_len = 0;
                indent = strlen("usage: ") + strlen(prog) +
                         (cmd_len ? cmd_len + 1 : 0);
                /* Under a long command name too little room is left. */
                if (indent > HELP_MAX_USAGE_INDENT)
                        indent = strlen("usage: ") + 4;
                col = strlen("usage: ") + strlen(prog);
                /* Words split at spaces outside brackets. */
                p = line;
                while (*p) {
                        const char *w = p;
                        size_t wlen;

                        while (*p && (*p != ' ' || depth)) {
                                depth += (*p == '[') - (*p == ']');
                                p++;
                        }
                        wlen = (size_t)(p - w);
                        if (w != line && col + 1 + wlen > HELP_WIDTH) {
                                fprintf(out, "\n%*s", (int)indent, "");
                                col = indent;
                        } else if (w != line) {
                                putc(' ', out);
                                col++;
                        }
                        fwrite(w, 1, wlen, out);
                        col += wlen;
                        while (*p == ' ')
                                p++;
                }
                putc('\n', out);
                usage += len;
                if (*usage == '\n')
                        usage++;
                first = false;
        }
        putc('\n', out);
        put_wrapped(out, help->description, 0, 0);
        if (help->commands)
                put_list(out, "Commands", help->commands, NULL);
        put_list(out, "Options", help->options, &help_item);
        if (help->environment)
                put_env(out, help->environment);
        if (help->epilog) {
                putc('\n', out);
                put_wrapped(out, help->epilog, 0, 0);
        }
}
