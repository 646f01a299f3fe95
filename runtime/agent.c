/*
 * Names of the enums of the agent contract, and the writer of array
 * statistics the generated encoders call.
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

ka_err_t ka_agent_write_array_stats(ka_avro_writer_t *w,
                                    const ka_agent_array_t *arr, size_t nops)
{
        size_t len = arr->len;

        for (size_t o = 0; o < nops; o++) {
                const double *v = arr->values + o * len;

                /* One block of len items, then the empty block that ends
                 * the array; an empty array is the end block alone. */
                if (len > 0) {
                        ka_avro_write_block(w, (int64_t)len);
                        if (ka_avro_writer_room(w, len * 8))
                                return KA_ERR_OVERFLOW;
                        for (size_t i = 0; i < len; i++)
                                ka_avro_write_double(w, v[i]);
                }
                ka_avro_write_block(w, 0);
        }
        return w->overflow ? KA_ERR_OVERFLOW : KA_OK;
}
