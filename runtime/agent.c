/*
 * Names of operations, and the empty agent table a binary without generated
 * agents links.
 */
#include "agent.h"

#include <stddef.h>

__attribute__((weak)) const ka_agent_t *const ka_agents[1] = {NULL};
__attribute__((weak)) const size_t ka_agents_count = 0;

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
