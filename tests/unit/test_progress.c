/*
 * Ownership and progress bookkeeping apart from Kafka (worker/progress.h):
 * which lease carries an agent, and progress through commit metadata and
 * back, including metadata no worker of this tool wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ka_test.h"
#include "progress.h"

static void leases_by_sorted_name(void **state)
{
        const char *names[] = {"d", "a", "c", "b", "e"};
        const char *shuffled[] = {"e", "b", "a", "d", "c"};
        int counts[2] = {0, 0};

        /* a b c d e -> ranks 0..4 */
        assert_int_equal(ka_progress_lease_of(names, 5, 1, 5), 0); /* a */
        assert_int_equal(ka_progress_lease_of(names, 5, 0, 5), 3); /* d */
        assert_int_equal(ka_progress_lease_of(names, 5, 4, 2), 0); /* e */
        /* The lease depends on the names, not their order. */
        for (size_t i = 0; i < 5; i++) {
                size_t j = 0;

                while (strcmp(shuffled[j], names[i]))
                        j++;
                for (int32_t n = 1; n <= 6; n++)
                        assert_int_equal(
                                ka_progress_lease_of(names, 5, i, n),
                                ka_progress_lease_of(shuffled, 5, j, n));
                counts[ka_progress_lease_of(names, 5, i, 2)]++;
        }
        /* Balanced: the counts of two leases differ by at most one. */
        assert_true(abs(counts[0] - counts[1]) <= 1);
}

static ka_progress_t *sample(int64_t t, int64_t ct, int32_t parts)
{
        ka_progress_t *p = ka_progress_new(t, ct);
        int64_t *o;

        assert_non_null(p);
        o = ka_progress_add_source(p, "lsst.sal.ESS.temperature", parts);
        assert_non_null(o);
        for (int32_t i = 0; i < parts; i++)
                o[i] = i % 3 == 2 ? -1 : 1000 * i + 7;
        o = ka_progress_add_source(p, "src-b", 1);
        assert_non_null(o);
        o[0] = INT64_MAX;
        return p;
}

static void assert_same(const ka_progress_t *a, const ka_progress_t *b)
{
        assert_int_equal(a->time_ms, b->time_ms);
        assert_int_equal(a->closed_through, b->closed_through);
        assert_int_equal(a->nsources, b->nsources);
        for (size_t s = 0; s < a->nsources; s++) {
                int32_t n;
                const int64_t *o =
                        ka_progress_offsets(b, a->sources[s].topic, &n);

                assert_non_null(o);
                assert_int_equal(n, a->sources[s].npartitions);
                assert_memory_equal(o, a->sources[s].offsets,
                                    (size_t)n * sizeof(*o));
        }
}

static void metadata_round_trip(void **state)
{
        ka_progress_t *p1 = sample(1700000000123, 1700000000000, 12);
        ka_progress_t *p2 = sample(5, INT64_MIN, 0);
        ka_progress_t *c = ka_progress_copy(p1), *got;
        const char *names[] = {"agg-one", "agg \"two\"", "agg-absent"};
        const ka_progress_t *progs[] = {p1, p2, NULL};
        char *md = ka_progress_encode(names, progs, 3);

        assert_non_null(md);
        assert_non_null(c);
        assert_same(p1, c);
        assert_true(strlen(md) < KA_PROGRESS_MAX_METADATA);
        assert_int_equal(ka_progress_decode(md, strlen(md), "agg-one", &got),
                         KA_OK);
        assert_same(p1, got);
        ka_progress_destroy(got);
        assert_int_equal(
                ka_progress_decode(md, strlen(md), "agg \"two\"", &got), KA_OK);
        assert_same(p2, got);
        assert_int_equal(got->closed_through, INT64_MIN);
        ka_progress_destroy(got);
        /* A NULL progress is left out; an unknown agent is not there. */
        assert_int_equal(ka_progress_decode(md, strlen(md), "agg-absent", &got),
                         KA_ERR_NOT_FOUND);
        assert_null(got);
        assert_int_equal(ka_progress_decode(md, strlen(md), "x", &got),
                         KA_ERR_NOT_FOUND);
        assert_int_equal(ka_progress_decode(NULL, 0, "x", &got),
                         KA_ERR_NOT_FOUND);
        assert_int_equal(ka_progress_decode("", 0, "x", &got),
                         KA_ERR_NOT_FOUND);
        free(md);
        ka_progress_destroy(p1);
        ka_progress_destroy(p2);
        ka_progress_destroy(c);
        ka_progress_destroy(NULL);
}

/* Metadata from elsewhere: anything not of this format is invalid, never
 * progress. */
static void foreign_metadata(void **state)
{
        static const char *const bad[] = {
                "garbage",
                "[]",
                "{\"v\":2,\"a\":{\"x\":{\"t\":1,\"o\":{}}}}",
                "{\"v\":1,\"a\":[]}",
                "{\"v\":1,\"a\":{\"x\":5}}",
                "{\"v\":1,\"a\":{\"x\":{\"o\":{}}}}",
                "{\"v\":1,\"a\":{\"x\":{\"t\":-1,\"o\":{}}}}",
                "{\"v\":1,\"a\":{\"x\":{\"t\":1,\"c\":\"no\",\"o\":{}}}}",
                "{\"v\":1,\"a\":{\"x\":{\"t\":1,\"o\":{\"s\":[1,-2]}}}}",
                "{\"v\":1,\"a\":{\"x\":{\"t\":1,\"o\":{\"s\":[1.5]}}}}",
                "{\"v\":1,\"a\":{\"x\":{\"t\":1,\"o\":{\"s\":5}}}}",
                "{\"v\":1,\"a\":{\"x\":{\"t\":1,\"o\":{}},"
                "\"x\":{\"t\":2,\"o\":{}}}}",
                /* the version 0.1 metadata */
                "{\"ka\":1,\"closed_through\":{\"x\":1700000000000}}",
        };
        ka_progress_t *got;

        for (size_t i = 0; i < KA_ARRAY_SIZE(bad); i++) {
                assert_int_equal(
                        ka_progress_decode(bad[i], strlen(bad[i]), "x", &got),
                        KA_ERR_INVALID);
                assert_null(got);
        }
        /* Truncations of good metadata are invalid too. */
        {
                ka_progress_t *p = sample(9, 10, 4);
                const char *name = "x";
                const ka_progress_t *progs[] = {p};
                char *md = ka_progress_encode(&name, progs, 1);

                for (size_t len = 1; len < strlen(md); len++) {
                        ka_err_t err = ka_progress_decode(md, len, "x", &got);

                        assert_true(err == KA_ERR_INVALID);
                        assert_null(got);
                }
                free(md);
                ka_progress_destroy(p);
        }
}

static void legacy_watermarks(void **state)
{
        const char *md = "{\"ka\":1,\"closed_through\":{\"a\":1700000001000,"
                         "\"b\":\"x\"}}";

        assert_int_equal(ka_progress_legacy_closed_through(md, strlen(md), "a"),
                         1700000001000);
        assert_int_equal(ka_progress_legacy_closed_through(md, strlen(md), "b"),
                         INT64_MIN);
        assert_int_equal(ka_progress_legacy_closed_through(md, strlen(md), "c"),
                         INT64_MIN);
        assert_int_equal(ka_progress_legacy_closed_through(NULL, 0, "a"),
                         INT64_MIN);
        assert_int_equal(ka_progress_legacy_closed_through("{\"v\":1}", 7, "a"),
                         INT64_MIN);
}

/* Random progress of several agents survives the round trip. */
static void random_round_trips(void **state)
{
        ka_test_seed(3);
        for (int round = 0; round < 200; round++) {
                size_t n = 1 + ka_test_rnd_below(6);
                ka_progress_t *progs[6];
                char names[6][48];
                const char *np[6];
                char *md;

                for (size_t a = 0; a < n; a++) {
                        size_t nsrc = ka_test_rnd_below(4);

                        snprintf(names[a], sizeof(names[a]), "agent-%zu-%d", a,
                                 round);
                        np[a] = names[a];
                        progs[a] = ka_progress_new(
                                (int64_t)ka_test_rnd_below(1u << 30),
                                ka_test_rnd_below(2) ? INT64_MIN
                                                     : ka_test_rnd_long() / 2);
                        for (size_t s = 0; s < nsrc; s++) {
                                char topic[32];
                                int32_t np_ = (int32_t)ka_test_rnd_below(20);
                                int64_t *o;

                                snprintf(topic, sizeof(topic), "t%zu", s);
                                o = ka_progress_add_source(progs[a], topic,
                                                           np_);
                                for (int32_t k = 0; k < np_; k++) {
                                        int64_t v = ka_test_rnd_long();

                                        o[k] = v < -1 ? -1 : v;
                                }
                        }
                }
                md = ka_progress_encode(np, (const ka_progress_t *const *)progs,
                                        n);
                assert_non_null(md);
                for (size_t a = 0; a < n; a++) {
                        ka_progress_t *got;

                        assert_int_equal(ka_progress_decode(md, strlen(md),
                                                            names[a], &got),
                                         KA_OK);
                        assert_same(progs[a], got);
                        ka_progress_destroy(got);
                        ka_progress_destroy(progs[a]);
                }
                free(md);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(leases_by_sorted_name),
                cmocka_unit_test(metadata_round_trip),
                cmocka_unit_test(foreign_metadata),
                cmocka_unit_test(legacy_watermarks),
                cmocka_unit_test(random_round_trips),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
