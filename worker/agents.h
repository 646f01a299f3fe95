/*
 * The agents compiled into this binary as data, for `kafkaaggregator
 * agents` and the worker's /agents.
 */
#ifndef KA_AGENTS_H
#define KA_AGENTS_H

#include <jansson.h>

/*
 * One object per source topic of each compiled agent, in table order:
 * {"name": "@<aggregated topic>.process_source_topic", "topic": <source>,
 * "help": "Process incoming messages for the <source> topic.", "output":
 * <aggregated topic>, "schema_id": <generated schema id>}. The caller owns
 * the array; NULL when out of memory.
 */
json_t *ka_agents_rows(void);

#endif
