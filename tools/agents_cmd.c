/*
 * `kafkaaggregator agents [--json]`: the agents compiled into this binary,
 * as a table or as JSON (worker/agents.h).
 */
#include "agents.h"
#include "cli.h"
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>

/* Display width of UTF-8 text (every code point one column). */
static size_t width(const char *s)
{
        size_t w = 0;

        for (; *s; s++)
                w += ((unsigned char)*s & 0xc0) != 0x80;
        return w;
}

static void cell(const char *s, size_t w, const char *sep)
{
        printf("%s%*s%s", s, (int)(w - width(s)), "", sep);
}

static const char *str(const json_t *row, const char *key)
{
        return json_string_value(json_object_get(row, key));
}

static void usage(void)
{
        static const ka_cli_item_t options[] = {
                {"--json", "print the rows as a JSON array of objects", NULL},
                {NULL, NULL, NULL},
        };
        static const ka_cli_help_t help = {
                .usage = "agents [--json]",
                .description =
                        "Lists the agents compiled into this binary, one row "
                        "per source topic of each agent: a table 'name │ "
                        "topic │ help', or with --json the same rows as JSON. "
                        "The agents are those generate-agents wrote when this "
                        "binary was made.",
                .options = options,
        };

        ka_cli_help_print(stdout, &help);
}

int ka_agents_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"json", no_argument, 0, 'j'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        size_t wname = 4, wtopic = 5, i;
        const json_t *row;
        json_t *rows;
        bool json = false;
        char *text;
        int c;

        while ((c = ka_cli_getopt(argc, argv, ":h", opts)) != -1) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        usage();
                        return KA_EXIT_OK;
                default:
                        return KA_EXIT_USAGE;
                }
        }
        if (!(rows = ka_agents_rows()))
                return ka_cli_fail("agents", "out of memory");

        if (json) {
                text = json_dumps(rows, JSON_INDENT(2));
                puts(text ? text : "[]");
                free(text);
                json_decref(rows);
                return KA_EXIT_OK;
        }
        json_array_foreach(rows, i, row)
        {
                if (width(str(row, "name")) > wname)
                        wname = width(str(row, "name"));
                if (width(str(row, "topic")) > wtopic)
                        wtopic = width(str(row, "topic"));
        }
        cell("name", wname, " │ ");
        cell("topic", wtopic, " │ ");
        printf("help\n");
        json_array_foreach(rows, i, row)
        {
                cell(str(row, "name"), wname, " │ ");
                cell(str(row, "topic"), wtopic, " │ ");
                printf("%s\n", str(row, "help"));
        }
        if (!json_array_size(rows))
                fprintf(stderr, "no agents compiled in: run "
                                "`kafkaaggregator generate-agents`, then "
                                "make\n");
        json_decref(rows);
        return KA_EXIT_OK;
}
