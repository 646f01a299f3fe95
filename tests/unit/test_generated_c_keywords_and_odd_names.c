/*
 * The agent of tests/golden/c-keywords-and-odd-names against avro-c (see
 * test_generated.h): fields named like C keywords or reserved identifiers,
 * a topic name full of dots and dashes, no `fields` list (every numeric
 * field but time), group_by_key.
 */
#include "test_generated.h"

#include "../golden/c-keywords-and-odd-names/expected/lsst_sal_ATDome_position_agg.c"

static const tg_expect_t expect = {
        .agent = &lsst_sal_ATDome_position_agg_agent,
        .case_dir = "tests/golden/c-keywords-and-odd-names",
        .name = "lsst.sal.ATDome-position.agg",
        /* Defaults: a 1 s window, no expiration, window + 1 s idle. */
        .window_ms = 1000,
        .expiration_ms = 0,
        .idle_timeout_ms = 2000,
        .min_sample_size = 2,
        .group_by_key = true,
        .ops = (const ka_op_t[]){KA_OP_MEAN, KA_OP_STDEV, KA_OP__COUNT},
        .topics = (const char *const[]){"lsst.sal.ATDome-position", NULL},
        .time_field = NULL,
        .fields =
                (const tg_field_t[]){
                        {0, "int", "int"},
                        {0, "struct", "struct"},
                        {0, "_private", "_private"},
                        {0, "return", "return"},
                        {0, "dome_Azimuth_2", "dome_Azimuth_2"},
                        {0, NULL, NULL},
                },
};

int main(void)
{
        return tg_run(&expect);
}
