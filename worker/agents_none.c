/*
 * The agent table of a binary built without generated agents. The linker
 * takes this archive member only when agents/agents_table.c is absent (and
 * the definitions are weak besides). It has a file of its own so that no
 * code reading the table sees these constants and folds them.
 */
#include "agent.h"

#include <stddef.h>

__attribute__((weak)) const ka_agent_t *const ka_agents[1] = {NULL};
__attribute__((weak)) const size_t ka_agents_count = 0;
