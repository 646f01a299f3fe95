/*
 * Names of the enums of the agent contract.
 */
#include "agent.h"

#include <stddef.h>

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
