/*
 * Exact summation (runtime/xsum.c) through its own API: each of the three
 * ways to the exact sum, rounded for math.fsum() and divided for
 * statistics.mean() where only exactness gets the last bit right, and the
 * exact sample variance against midpoints, checked against 128-bit integer
 * arithmetic at every scale of the double range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <float.h>
#include <math.h>

#include "ka_test.h"
#include "xsum.h"

static uint64_t bits_of(double x)
{
        uint64_t u;

        memcpy(&u, &x, sizeof(u));
        return u;
}

#define assert_same(got, want)                                                 \
        do {                                                                   \
                double g_ = (got), w_ = (want);                                \
                if (bits_of(g_) != bits_of(w_))                                \
                        fail_msg("%s: got %a, want %a", #got, g_, w_);         \
        } while (0)

static double amax_of(const double *x, size_t n)
{
        double amax = 0;

        for (size_t i = 0; i < n; i++)
                amax = fabs(x[i]) > amax ? fabs(x[i]) : amax;
        return amax;
}

/*
 * One case: the values, the exact sum rounded and the exact mean rounded
 * (from CPython: math.fsum(), statistics.mean()), and whether the sum is
 * held as two doubles (the fast path of sum_split()).
 */
typedef struct sum_case_s {
        const char *what;
        double v[4];
        size_t n;
        double sum, mean;
        bool fp;
} sum_case_t;

static void check_sum(const sum_case_t *c, int sign)
{
        double v[4];
        ka_xsum_t xs;

        for (size_t i = 0; i < c->n; i++)
                v[i] = sign * c->v[i];
        ka_xsum_compute(&xs, v, c->n, amax_of(v, c->n));
        if (xs.fp != c->fp)
                fail_msg("%s: fp %d, want %d", c->what, xs.fp, c->fp);
        assert_same(ka_xsum_round(&xs), sign * c->sum);
        assert_same(ka_xsum_mean(&xs, c->n), sign * c->mean);
}

static void sum_paths(void **state)
{
        static const sum_case_t cases[] = {
                /* two doubles; the mean is 2^-101 above a tie */
                {"split",
                 {1.0, 0x1p-53 + 0x1p-100},
                 2,
                 0x1.0000000000001p+0,
                 0x1.0000000000001p-1,
                 true},
                /* subnormals, scaled up by 2^600 to split */
                {"split scaled",
                 {0x3p-1074, 0x1p-1074, 0x1p-1074},
                 3,
                 0x5p-1074,
                 0x2p-1074,
                 false},
                /* too close to the top of the range to split */
                {"128-bit",
                 {1.5e308, 0x1p950, -1.5e308},
                 3,
                 0x1p950,
                 0x1.5555555555555p+948,
                 false},
                /*
                 * 2^55 down to 2^-1074: the fixed-point sum. The mean is
                 * 2^53 + 1 + 2^-1074 / 3, its last bit decided by the
                 * remainder of the long division alone.
                 */
                {"fixed point",
                 {0x3p53, 3.0, 0x1p-1074},
                 3,
                 0x3p53 + 4,
                 0x1p53 + 2,
                 false},
                /* overflowing sum (math.fsum() raises), representable mean */
                {"overflow", {DBL_MAX, DBL_MAX}, 2, INFINITY, DBL_MAX, false},
                /* cancellation to an exact zero: +0.0 */
                {"zero", {1e308, -1e308, 1.0, -1.0}, 4, 0.0, 0.0, false},
                {"zero split", {0.5, -0.25, -0.25}, 3, 0.0, 0.0, true},
        };

        for (size_t i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                check_sum(&cases[i], 1);
                /* exact zeros stay +0.0 */
                if (cases[i].sum != 0)
                        check_sum(&cases[i], -1);
        }
}

/* No values, or zeros alone: an exact zero, +0.0. */
static void sum_of_zeros(void **state)
{
        double z[3] = {-0.0, -0.0, 0.0};
        ka_xsum_t xs;

        ka_xsum_compute(&xs, NULL, 0, 0.0);
        assert_same(ka_xsum_round(&xs), 0.0);
        ka_xsum_compute(&xs, z, 2, 0.0);
        assert_same(ka_xsum_round(&xs), 0.0);
        assert_same(ka_xsum_mean(&xs, 2), 0.0);
        ka_xsum_compute(&xs, z, 3, 0.0);
        assert_same(ka_xsum_mean(&xs, 3), 0.0);
}

/*
 * Values k 2^(s + sh) with |k 2^sh| <= 2^51: the exact sum is an int64_t
 * times 2^s, rounded once by the conversion to double (s keeps it normal),
 * whichever of the split and the 128-bit sums the spread of the exponents
 * picks.
 */
static void sums_of_scaled_integers(void **state)
{
        static const size_t spreads[] = {0, 20, 50};
        double v[2000];

        ka_test_seed(0x853c49e6748fea9bULL);
        for (int round = 0; round < 2000; round++) {
                size_t n = 1 + ka_test_rnd_below(KA_ARRAY_SIZE(v));
                int s = (int)ka_test_rnd_below(1900) - 1000;
                size_t spread = spreads[ka_test_rnd_below(3)];
                int64_t sum = 0;
                ka_xsum_t xs;

                for (size_t i = 0; i < n; i++) {
                        int sh = (int)ka_test_rnd_below(spread + 1);
                        int64_t k = (int64_t)(ka_test_rnd() >> (12 + sh)) -
                                    (INT64_C(1) << (51 - sh));

                        v[i] = ldexp((double)k, s + sh);
                        sum += k * (INT64_C(1) << sh);
                }
                ka_xsum_compute(&xs, v, n, amax_of(v, n));
                assert_same(ka_xsum_round(&xs), ldexp((double)sum, s));
        }
}

/*
 * The variance against n (n - 1) mid^2 in 128-bit integers, for integer
 * values below 2^10 and midpoints m 2^e with e in {-1, 0, 1}: sign of
 * n sum(k^2) - (sum k)^2 - n (n - 1) m^2 4^e.
 */
static int var_cmp_int(const int64_t *k, size_t n, uint64_t m, int e)
{
        __int128 s = 0, sq = 0, lhs, rhs;

        for (size_t i = 0; i < n; i++) {
                s += k[i];
                sq += (__int128)k[i] * k[i];
        }
        lhs = (__int128)n * sq - s * s;
        rhs = (__int128)n * (__int128)(n - 1) * (__int128)m * (__int128)m;
        if (e < 0)
                lhs *= 4;
        else if (e > 0)
                rhs *= 4;
        return (lhs > rhs) - (lhs < rhs);
}

static int sign_of(int c)
{
        return (c > 0) - (c < 0);
}

static void var_against_integers(void **state)
{
        int64_t k[64];
        double v[64];

        ka_test_seed(0x9e3779b97f4a7c15ULL);
        for (int round = 0; round < 3000; round++) {
                size_t n = 2 + ka_test_rnd_below(KA_ARRAY_SIZE(k) - 1);
                int e = (int)ka_test_rnd_below(3) - 1;
                uint64_t m = ka_test_rnd_below(1500);
                /* every scale: values k 2^s from subnormal to 2^1010 */
                int s = (int)ka_test_rnd_below(2075) - 1074;
                ka_xsum_var_t var;
                int want;

                for (size_t i = 0; i < n; i++)
                        k[i] = (int64_t)ka_test_rnd_below(2001) - 1000;
                /* sometimes exactly on a midpoint: n = 3, [0, 2, 4] -> 2 */
                if (round % 10 == 0) {
                        n = 3;
                        k[0] = 0;
                        k[1] = 2;
                        k[2] = 4;
                        m = 2;
                        e = 0;
                }
                want = var_cmp_int(k, n, m, e);
                for (size_t i = 0; i < n; i++)
                        v[i] = ldexp((double)k[i], s);
                ka_xsum_var_compute(&var, v, n);
                if (sign_of(ka_xsum_var_cmp(&var, m, e + s)) != want)
                        fail_msg("round %d (n=%zu, 2^%d, m=%llu e=%d): "
                                 "want %d",
                                 round, n, s, (unsigned long long)m, e, want);
        }
}

static void var_at_the_edges(void **state)
{
        const double t = 0x1p-1074;
        double tiny[2] = {0.0, t}, huge[2] = {DBL_MAX, -DBL_MAX};
        double same[1000];
        ka_xsum_var_t var;

        /* var = t^2 / 2: between (t/2)^2 and (3t/2)^2 */
        ka_xsum_var_compute(&var, tiny, 2);
        assert_true(ka_xsum_var_cmp(&var, 1, -1075) > 0);
        assert_true(ka_xsum_var_cmp(&var, 3, -1075) < 0);
        /* var = 2 DBL_MAX^2, above the midpoint past DBL_MAX */
        ka_xsum_var_compute(&var, huge, 2);
        assert_true(ka_xsum_var_cmp(&var, (UINT64_C(1) << 54) - 1, 970) > 0);
        /* constant: 0 */
        for (size_t i = 0; i < KA_ARRAY_SIZE(same); i++)
                same[i] = -1.5e300;
        ka_xsum_var_compute(&var, same, KA_ARRAY_SIZE(same));
        assert_int_equal(ka_xsum_var_cmp(&var, 0, -1075), 0);
        assert_true(ka_xsum_var_cmp(&var, 1, -1075) < 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(sum_paths),
                cmocka_unit_test(sum_of_zeros),
                cmocka_unit_test(sums_of_scaled_integers),
                cmocka_unit_test(var_against_integers),
                cmocka_unit_test(var_at_the_edges),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
