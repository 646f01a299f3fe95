/*
 * The agent of tests/golden/arrays-every-item-type against avro-c (see
 * test_generated.h): arrays of int, long, float and double, nullable arrays
 * in both union orders and arrays that are not numeric between scalars,
 * over two sources, the second naming and renaming arrays in `fields` and
 * `map`.
 */
#include "test_generated.h"

#include "../golden/arrays-every-item-type/expected/aggregated_arrays.c"

static const tg_expect_t expect = {
        .agent = &aggregated_arrays_agent,
        .case_dir = "tests/golden/arrays-every-item-type",
        .name = "aggregated-arrays",
        .window_ms = 1000,
        .expiration_ms = 0,
        .idle_timeout_ms = 2000,
        .min_sample_size = 2,
        .group_by_key = false,
        .ops = (const ka_op_t[]){KA_OP_MIN, KA_OP_MEAN, KA_OP_MAX, KA_OP_SUM,
                                 KA_OP__COUNT},
        .topics = (const char *const[]){"arrays-a", "arrays-b", NULL},
        .time_field = "time",
        .fields =
                (const tg_field_t[]){
                        {0, "ints", "ints"},
                        {0, "level", "level"},
                        {0, "longs", "longs"},
                        {0, "floats", "floats"},
                        {0, "doubles", "doubles"},
                        {0, "maybe_doubles", "maybe_doubles"},
                        {0, "maybe_longs", "maybe_longs"},
                        {0, "tail", "tail"},
                        {1, "gains", "gain"},
                        {1, "offset", "offset"},
                        {1, "counts", "n"},
                        {0, NULL, NULL},
                },
};

int main(void)
{
        return tg_run(&expect);
}
