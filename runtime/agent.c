/*
 * Names of operations, and the `agents` command that lists the agent table.
 */
#include "agent.h"
#include "cli.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

const char *ka_op_name(ka_op_t op)
{
        static const char *const names[KA_OP__COUNT] = {
                [KA_OP_MIN] = "min",     [KA_OP_Q1] = "q1",
                [KA_OP_MEAN] = "mean",   [KA_OP_MEDIAN] = "median",
                [KA_OP_STDEV] = "stdev", [KA_OP_Q3] = "q3",
                [KA_OP_MAX] = "max",     [KA_OP_SUM] = "sum",
        };

        return (unsigned)op < KA_OP__COUNT ? names[op] : NULL;
}

const char *ka_num_type_name(ka_num_type_t num)
{
        switch (num) {
        case KA_NUM_INT:
                return "int";
        case KA_NUM_LONG:
                return "long";
        case KA_NUM_FLOAT:
                return "float";
        case KA_NUM_DOUBLE:
                return "double";
        }
        return "?";
}

/* One row of `agents`: an agent's processing of one source topic. */
static void row_strings(const ka_agent_t *agent, const ka_agent_source_t *src,
                        char *name, size_t name_size, char *help,
                        size_t help_size)
{
        snprintf(name, name_size, "@%s.process_source_topic", agent->name);
        snprintf(help, help_size, "Process incoming messages for the %s topic.",
                 src->topic);
}

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

int ka_agents_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"json", no_argument, 0, 'j'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        char name[512], help[512];
        size_t wname = 4, wtopic = 5;
        bool json = false;
        int c;

        while ((c = ka_cli_getopt(argc, argv, ":h", opts)) != -1) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        printf("usage: kafkaaggregator agents [--json]\n\n"
                               "Lists the agents compiled into this binary, "
                               "one row per source topic.\n");
                        return KA_EXIT_OK;
                default:
                        return KA_EXIT_USAGE;
                }
        }

        if (json) {
                json_t *list = json_array();
                char *text;

                for (size_t a = 0; a < ka_agents_count; a++) {
                        const ka_agent_t *agent = ka_agents[a];

                        for (size_t s = 0; s < agent->nsources; s++) {
                                row_strings(agent, &agent->sources[s], name,
                                            sizeof(name), help, sizeof(help));
                                json_array_append_new(
                                        list,
                                        json_pack("{s:s, s:s, s:s, s:s, s:i}",
                                                  "name", name, "topic",
                                                  agent->sources[s].topic,
                                                  "help", help, "output",
                                                  agent->name, "schema_id",
                                                  (int)agent->sources[s]
                                                          .schema_id));
                        }
                }
                text = json_dumps(list, JSON_INDENT(2));
                puts(text ? text : "[]");
                free(text);
                json_decref(list);
                return KA_EXIT_OK;
        }

        for (size_t a = 0; a < ka_agents_count; a++) {
                const ka_agent_t *agent = ka_agents[a];

                for (size_t s = 0; s < agent->nsources; s++) {
                        row_strings(agent, &agent->sources[s], name,
                                    sizeof(name), help, sizeof(help));
                        if (width(name) > wname)
                                wname = width(name);
                        if (width(agent->sources[s].topic) > wtopic)
                                wtopic = width(agent->sources[s].topic);
                }
        }
        cell("name", wname, " │ ");
        cell("topic", wtopic, " │ ");
        printf("help\n");
        for (size_t a = 0; a < ka_agents_count; a++) {
                const ka_agent_t *agent = ka_agents[a];

                for (size_t s = 0; s < agent->nsources; s++) {
                        row_strings(agent, &agent->sources[s], name,
                                    sizeof(name), help, sizeof(help));
                        cell(name, wname, " │ ");
                        cell(agent->sources[s].topic, wtopic, " │ ");
                        printf("%s\n", help);
                }
        }
        if (!ka_agents_count)
                fprintf(stderr, "no agents compiled in: run "
                                "`kafkaaggregator generate-agents`, then "
                                "make\n");
        return KA_EXIT_OK;
}
