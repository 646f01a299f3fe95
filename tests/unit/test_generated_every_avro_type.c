/*
 * The agent of tests/golden/every-avro-type against avro-c (see
 * test_generated.h): a source schema with every Avro type, numeric fields
 * between complex ones, both orders of nullable unions, and an event time
 * from a timestamp-millis field.
 */
#include "test_generated.h"

#include "../golden/every-avro-type/expected/aggregated_every_type.c"

static const tg_expect_t expect = {
        .agent = &aggregated_every_type_agent,
        .case_dir = "tests/golden/every-avro-type",
        .name = "aggregated-every-type",
        .window_ms = 2500,
        .expiration_ms = 500,
        /* Default: window + expiration + 1 s. */
        .idle_timeout_ms = 4000,
        .max_future_ms = 60000,
        .min_sample_size = 2,
        .group_by_key = false,
        .ops = (const ka_op_t[]){KA_OP_MIN, KA_OP_MAX, KA_OP_MEAN, KA_OP_SUM,
                                 KA_OP__COUNT},
        .topics = (const char *const[]){"lsst.sal.Test.everyType", NULL},
        .time_field = "ts_ms",
        .fields =
                (const tg_field_t[]){
                        {0, "i", "i"},
                        {0, "l", "l"},
                        {0, "f", "f"},
                        {0, "d", "d"},
                        {0, "nullable_first", "nullable_first"},
                        {0, "nullable_last", "nullable_last"},
                        {0, "last", "last"},
                        {0, NULL, NULL},
                },
};

int main(void)
{
        return tg_run(&expect);
}
