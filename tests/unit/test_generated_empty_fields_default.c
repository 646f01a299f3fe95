/*
 * The agent of tests/golden/empty-fields-default against avro-c (see
 * test_generated.h): `fields: []` aggregates every numeric field but
 * time, window_size and count, with the default operations.
 */
#include "test_generated.h"

#include "../golden/empty-fields-default/expected/fleet_status_1min.c"

static const tg_expect_t expect = {
        .agent = &fleet_status_1min_agent,
        .case_dir = "tests/golden/empty-fields-default",
        .name = "fleet-status-1min",
        .window_ms = 60000,
        .expiration_ms = 0,
        .idle_timeout_ms = 61000,
        .min_sample_size = 2,
        .group_by_key = false,
        .ops = (const ka_op_t[]){KA_OP_MIN, KA_OP_Q1, KA_OP_MEAN, KA_OP_MEDIAN,
                                 KA_OP_STDEV, KA_OP_Q3, KA_OP_MAX,
                                 KA_OP__COUNT},
        .topics = (const char *const[]){"fleet-status", NULL},
        .time_field = NULL,
        .fields =
                (const tg_field_t[]){
                        {0, "speed", "speed"},
                        {0, "odometer", "odometer"},
                        {0, "fuel", "fuel"},
                        {0, NULL, NULL},
                },
};

int main(void)
{
        return tg_run(&expect);
}
