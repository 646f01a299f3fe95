/*
 * group_by_key against hash flooding (issue #10): message keys come from
 * whoever produces to the source topic. Keys crafted so that the windows'
 * former key hash (unseeded, invertible, the table indexed by its low
 * bits) gives them all one slot must cost no more than random keys: 120k
 * such keys took 25 s against 0.18 s for random ones.
 *
 * The keys are crafted here against that former hash, which this file
 * keeps a copy of (hash_window() of runtime/window.c before the fix) with
 * its inverse. The comparison is of CPU time, crafted against random, in
 * one process and with the best of three runs each: quadratic probing
 * makes the ratio about 100 at this size, a keyed hash about 1, and the
 * bound is 10.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "window.h"

#define NKEYS 60000
#define K     UINT64_C(0x9e3779b97f4a7c15)
#define M1    UINT64_C(0xbf58476d1ce4e5b9)
#define M2    UINT64_C(0x94d049bb133111eb)

static uint64_t mix64(uint64_t x)
{
        x ^= x >> 30;
        x *= M1;
        x ^= x >> 27;
        x *= M2;
        x ^= x >> 31;
        return x;
}

/* The former hash of an 8-byte key in the window starting at start. */
static uint64_t old_hash(int64_t start, uint64_t key)
{
        uint64_t h = (uint64_t)start * K;

        h ^= 8 + 1;
        h = (h ^ key) * K;
        h ^= h >> 29;
        return mix64(h);
}

static uint64_t inverse(uint64_t odd)
{
        uint64_t x = odd;

        /* Newton's iteration doubles the correct low bits each time. */
        for (int i = 0; i < 6; i++)
                x *= 2 - odd * x;
        return x;
}

static uint64_t unshift(uint64_t y, unsigned s)
{
        uint64_t x = y;

        for (unsigned i = 0; i < 64 / s + 1; i++)
                x = y ^ x >> s;
        return x;
}

/* The key whose former hash in the window at start is target. */
static uint64_t craft(int64_t start, uint64_t target)
{
        uint64_t h = unshift(target, 31) * inverse(M2);

        h = unshift(h, 27) * inverse(M1);
        h = unshift(h, 30);
        h = unshift(h, 29) * inverse(K);
        return h ^ ((uint64_t)start * K ^ (8 + 1));
}

static double cpu_seconds(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds to open one window per key, all at one time. */
static double time_keys(const uint64_t *keys, size_t n)
{
        ka_window_config_t cfg = {.size_ms = 1000,
                                  .idle_timeout_ms = -1,
                                  .group_by_key = true,
                                  .nfields = 1};
        ka_windows_t *w = ka_windows_new(&cfg, 1);
        ka_windows_stats_t stats;
        double vals[1] = {1.0}, t0;
        ka_row_t row = {.vals = vals, .nvals = 1};

        assert_non_null(w);
        t0 = cpu_seconds();
        for (size_t i = 0; i < n; i++)
                assert_int_equal(ka_windows_add(w, 0, (int64_t)i, 500, &keys[i],
                                                sizeof(keys[i]), &row),
                                 KA_WINDOW_ADDED);
        t0 = cpu_seconds() - t0;
        ka_windows_stats(w, &stats);
        assert_int_equal(stats.open, n);
        ka_windows_destroy(w);
        return t0;
}

static void crafted_keys_cost_what_random_keys_cost(void **state)
{
        uint64_t *crafted = malloc(NKEYS * sizeof(*crafted));
        uint64_t *random = malloc(NKEYS * sizeof(*random));
        uint64_t x = UINT64_C(88172645463325252);
        double tc = 1e9, tr = 1e9, t;

        assert_non_null(crafted);
        assert_non_null(random);
        for (size_t i = 0; i < NKEYS; i++) {
                /* Distinct keys, all with the low 32 bits of their former
                 * hash zero: one slot of any table up to 2^32. */
                crafted[i] = craft(0, (uint64_t)(i + 1) << 32);
                assert_true(old_hash(0, crafted[i]) == (uint64_t)(i + 1) << 32);
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                random[i] = x;
        }
        for (int run = 0; run < 3; run++) {
                t = time_keys(random, NKEYS);
                tr = t < tr ? t : tr;
                t = time_keys(crafted, NKEYS);
                tc = t < tc ? t : tc;
        }
        print_message("%d keys: crafted %.3f s, random %.3f s\n", NKEYS, tc,
                      tr);
        if (tc > 10 * tr + 0.05)
                fail_msg("crafted keys took %.3f s, random ones %.3f s", tc,
                         tr);
        free(crafted);
        free(random);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(crafted_keys_cost_what_random_keys_cost),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
