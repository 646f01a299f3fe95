/*
 * An agent that a topic pattern made (tests/golden/sal-topics-by-pattern)
 * against avro-c (see test_generated.h): the pattern's `fields` lists an
 * array of lsst.sal.ATHexapod.positionStatus and a scalar of another
 * matched topic; here only the array applies, under its `map` name.
 */
#include "test_generated.h"

#include "../golden/sal-topics-by-pattern/expected/lsst_sal_ATHexapod_positionStat_d1415e94.c"

static const tg_expect_t expect = {
        .agent = &lsst_sal_ATHexapod_positionStat_d1415e94_agent,
        .case_dir = "tests/golden/sal-topics-by-pattern",
        .name = "lsst.sal.ATHexapod.positionStatus-positions-10s",
        .window_ms = 10000,
        .expiration_ms = 0,
        .idle_timeout_ms = 11000,
        .min_sample_size = 2,
        .group_by_key = false,
        .ops = (const ka_op_t[]){KA_OP_MIN, KA_OP_MAX, KA_OP__COUNT},
        .topics = (const char *const[]){"lsst.sal.ATHexapod.positionStatus",
                                        NULL},
        .time_field = NULL,
        .fields =
                (const tg_field_t[]){
                        {0, "reportedPosition", "position"},
                        {0, NULL, NULL},
                },
};

int main(void)
{
        return tg_run(&expect);
}
