/*
 * The first agent of tests/golden/example (the example config) against
 * avro-c (see test_generated.h): ten double fields, the default
 * operations. The other nine agents of the case come from the same
 * template with the same shape, and their static symbols would collide
 * with this one's in one translation unit.
 */
#include "test_generated.h"

#include "../golden/example/expected/aggregated_example_000.c"

static const tg_expect_t expect = {
        .agent = &aggregated_example_000_agent,
        .case_dir = "tests/golden/example",
        .name = "aggregated-example-000",
        .window_ms = 1000,
        .expiration_ms = 0,
        .idle_timeout_ms = 2000,
        .min_sample_size = 2,
        .group_by_key = false,
        .ops = (const ka_op_t[]){KA_OP_MIN, KA_OP_Q1, KA_OP_MEAN, KA_OP_MEDIAN,
                                 KA_OP_STDEV, KA_OP_Q3, KA_OP_MAX,
                                 KA_OP__COUNT},
        .topics = (const char *const[]){"example-000", NULL},
        .time_field = NULL,
        .fields =
                (const tg_field_t[]){
                        {0, "value0", "value0"},
                        {0, "value1", "value1"},
                        {0, "value2", "value2"},
                        {0, "value3", "value3"},
                        {0, "value4", "value4"},
                        {0, "value5", "value5"},
                        {0, "value6", "value6"},
                        {0, "value7", "value7"},
                        {0, "value8", "value8"},
                        {0, "value9", "value9"},
                        {0, NULL, NULL},
                },
};

int main(void)
{
        return tg_run(&expect);
}
