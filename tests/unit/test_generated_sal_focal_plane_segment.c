/*
 * An agent that a topic pattern made (tests/golden/sal-topics-by-pattern)
 * against avro-c (see test_generated.h): lsst.sal.MTCamera.
 * focal_plane_Segment, Rubin's longest array (3024 doubles), renamed by
 * the pattern's `map`, which applies to this topic alone.
 */
#include "test_generated.h"

#include "../golden/sal-topics-by-pattern/expected/lsst_sal_MTCamera_focal_plane_S_58da1c3f.c"

static const tg_expect_t expect = {
        .agent = &lsst_sal_MTCamera_focal_plane_S_58da1c3f_agent,
        .case_dir = "tests/golden/sal-topics-by-pattern",
        .name = "lsst.sal.MTCamera.focal_plane_Segment-aggregated",
        .window_ms = 1000,
        .expiration_ms = 0,
        .idle_timeout_ms = 2000,
        .min_sample_size = 2,
        .group_by_key = false,
        .ops = (const ka_op_t[]){KA_OP_MIN, KA_OP_Q1, KA_OP_MEAN, KA_OP_MEDIAN,
                                 KA_OP_STDEV, KA_OP_Q3, KA_OP_MAX,
                                 KA_OP__COUNT},
        .topics = (const char *const[]){"lsst.sal.MTCamera.focal_plane_Segment",
                                        NULL},
        .time_field = "private_sndStamp",
        .fields =
                (const tg_field_t[]){
                        {0, "private_sndStamp", "private_sndStamp"},
                        {0, "private_rcvStamp", "private_rcvStamp"},
                        {0, "private_efdStamp", "private_efdStamp"},
                        {0, "private_kafkaStamp", "private_kafkaStamp"},
                        {0, "private_seqNum", "private_seqNum"},
                        {0, "private_origin", "private_origin"},
                        {0, "i", "intensity"},
                        {0, NULL, NULL},
                },
};

int main(void)
{
        return tg_run(&expect);
}
