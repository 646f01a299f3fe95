/*
 * The rows of the agent table, as the original tool's `agents` command
 * listed Faust agents: one per source topic an agent processes.
 */
#include "agents.h"
#include "agent.h"

#include <stdio.h>

json_t *ka_agents_rows(void)
{
        json_t *list = json_array();
        char name[512], help[512];

        for (size_t a = 0; list && a < ka_agents_count; a++) {
                const ka_agent_t *agent = ka_agents[a];

                for (size_t s = 0; s < agent->nsources; s++) {
                        const ka_agent_source_t *src = &agent->sources[s];

                        snprintf(name, sizeof(name), "@%s.process_source_topic",
                                 agent->name);
                        snprintf(help, sizeof(help),
                                 "Process incoming messages for the %s topic.",
                                 src->topic);
                        if (json_array_append_new(
                                    list,
                                    json_pack("{s:s, s:s, s:s, s:s, s:i}",
                                              "name", name, "topic", src->topic,
                                              "help", help, "output",
                                              agent->name, "schema_id",
                                              (int)src->schema_id))) {
                                json_decref(list);
                                return NULL;
                        }
                }
        }
        return list;
}
