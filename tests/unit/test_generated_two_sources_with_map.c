/*
 * The agent of tests/golden/two-sources-with-map against avro-c (see
 * test_generated.h): two source topics filling one row, the second one
 * from row[2] on, with fields renamed by `map`.
 */
#include "test_generated.h"

#include "../golden/two-sources-with-map/expected/plant_aggregated.c"

static const tg_expect_t expect = {
        .agent = &plant_aggregated_agent,
        .case_dir = "tests/golden/two-sources-with-map",
        .name = "plant-aggregated",
        .window_ms = 10000,
        .expiration_ms = 0,
        .idle_timeout_ms = 11000,
        .min_sample_size = 3,
        .group_by_key = false,
        .ops = (const ka_op_t[]){KA_OP_MIN, KA_OP_MEDIAN, KA_OP_MAX,
                                 KA_OP__COUNT},
        .topics = (const char *const[]){"plant-temperature", "plant-pressure",
                                        NULL},
        .time_field = NULL,
        .fields =
                (const tg_field_t[]){
                        {0, "value", "temperature"},
                        {0, "rate", "temperature_rate"},
                        {1, "value", "pressure"},
                        {1, "rate", "pressure_rate"},
                        {0, NULL, NULL},
                },
};

int main(void)
{
        return tg_run(&expect);
}
