/*
 * An agent that a topic pattern made (tests/golden/sal-topics-by-pattern)
 * against avro-c (see test_generated.h): the real SAL schema of
 * lsst.sal.Test.arrays, with arrays of every numeric item type among the
 * SAL private fields and an array of booleans that is decoded past.
 */
#include "test_generated.h"

#include "../golden/sal-topics-by-pattern/expected/lsst_sal_Test_arrays_aggregated.c"

static const tg_expect_t expect = {
        .agent = &lsst_sal_Test_arrays_aggregated_agent,
        .case_dir = "tests/golden/sal-topics-by-pattern",
        .name = "lsst.sal.Test.arrays-aggregated",
        .window_ms = 1000,
        .expiration_ms = 0,
        .idle_timeout_ms = 2000,
        .min_sample_size = 2,
        .group_by_key = false,
        .ops = (const ka_op_t[]){KA_OP_MIN, KA_OP_Q1, KA_OP_MEAN, KA_OP_MEDIAN,
                                 KA_OP_STDEV, KA_OP_Q3, KA_OP_MAX,
                                 KA_OP__COUNT},
        .topics = (const char *const[]){"lsst.sal.Test.arrays", NULL},
        .time_field = "private_sndStamp",
        .fields =
                (const tg_field_t[]){
                        {0, "salIndex", "salIndex"},
                        {0, "private_sndStamp", "private_sndStamp"},
                        {0, "private_rcvStamp", "private_rcvStamp"},
                        {0, "private_efdStamp", "private_efdStamp"},
                        {0, "private_kafkaStamp", "private_kafkaStamp"},
                        {0, "private_seqNum", "private_seqNum"},
                        {0, "private_origin", "private_origin"},
                        {0, "byte0", "byte0"},
                        {0, "short0", "short0"},
                        {0, "int0", "int0"},
                        {0, "long0", "long0"},
                        {0, "longLong0", "longLong0"},
                        {0, "unsignedShort0", "unsignedShort0"},
                        {0, "unsignedInt0", "unsignedInt0"},
                        {0, "float0", "float0"},
                        {0, "double0", "double0"},
                        {0, NULL, NULL},
                },
};

int main(void)
{
        return tg_run(&expect);
}
