/*
 * Selection (runtime/select.c) through its own API: the values of up to
 * six ranks against a plain sort, for every size around the thresholds
 * where the method changes and for orders chosen to hurt quickselect and
 * buckets; the caller's column left alone; and zeros given the signs a
 * stable sort puts at their ranks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "ka.h"
#include "ka_test.h"
#include "select.h"

#define MAX_N 20000

/* Scratch for selections among up to MAX_N values, as stats.c sizes it. */
static void scratch_init(ka_select_scratch_t *sc)
{
        size_t ncnt =
                MAX_N < KA_SELECT_BUCKETS_MAX ? MAX_N : KA_SELECT_BUCKETS_MAX;
        size_t nidx =
                MAX_N < KA_SELECT_SCATTER_MAX ? MAX_N : KA_SELECT_SCATTER_MAX;

        sc->buf = malloc(MAX_N * sizeof(double));
        sc->tmp = malloc(MAX_N * sizeof(double));
        sc->cnt = malloc(ncnt * sizeof(uint32_t));
        sc->idx = malloc(nidx * sizeof(uint32_t));
        sc->rng = 1;
        assert_true(sc->buf && sc->tmp && sc->cnt && sc->idx);
}

static void scratch_release(ka_select_scratch_t *sc)
{
        free(sc->buf);
        free(sc->tmp);
        free(sc->cnt);
        free(sc->idx);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

typedef enum order_e {
        O_RANDOM,
        O_SORTED,
        O_REVERSED,
        O_CONSTANT,
        O_TWO_VALUES,
        O_FEW_VALUES,
        O_ORGAN_PIPE,
        O_SAWTOOTH,
        O_ZEROS_INF, /* signed zeros, infinities, a few others */
        O_WIDE,      /* magnitudes from 1e-300 to 1e300, both signs */
        O_COUNT,
} order_t;

static const char *const order_names[O_COUNT] = {
        "random", "sorted",     "reversed", "constant",  "two values",
        "few",    "organ pipe", "sawtooth", "zeros/inf", "wide",
};

static double value_at(order_t order, size_t i, size_t n)
{
        static const double odd[] = {0.0, -0.0, INFINITY, -INFINITY, 1.0, -2.0};

        switch (order) {
        case O_RANDOM:
                return (double)(ka_test_rnd() % 1000000) / 7.0;
        case O_SORTED:
                return (double)i;
        case O_REVERSED:
                return (double)(n - i);
        case O_CONSTANT:
                return 42.5;
        case O_TWO_VALUES:
                return ka_test_rnd() & 1 ? 1.0 : 2.0;
        case O_FEW_VALUES:
                return (double)(ka_test_rnd() % 5);
        case O_ORGAN_PIPE:
                return (double)(i < n / 2 ? i : n - i);
        case O_SAWTOOTH:
                return (double)(i % 17);
        case O_ZEROS_INF:
                return odd[ka_test_rnd_below(KA_ARRAY_SIZE(odd))];
        default:
                return ldexp(ka_test_rnd() & 1 ? -1.0 : 1.0,
                             (int)ka_test_rnd_below(2000) - 1000);
        }
}

/* Up to KA_SELECT_MAX_RANKS distinct ranks below n, ascending. */
static size_t random_ranks(size_t n, size_t *rk)
{
        size_t want = 1 + ka_test_rnd_below(KA_SELECT_MAX_RANKS), nrk = 0;

        for (size_t i = 0; i < want; i++) {
                size_t r = ka_test_rnd_below(4) == 0
                                   ? (ka_test_rnd() & 1 ? 0 : n - 1)
                                   : ka_test_rnd_below(n);
                size_t j = nrk;
                int seen = 0;

                for (size_t k = 0; k < nrk; k++)
                        seen |= rk[k] == r;
                if (seen)
                        continue;
                while (j > 0 && rk[j - 1] > r) {
                        rk[j] = rk[j - 1];
                        j--;
                }
                rk[j] = r;
                nrk++;
        }
        return nrk;
}

static void check(ka_select_scratch_t *sc, const double *v, size_t n,
                  order_t order, int in_buf)
{
        double *sorted = malloc(n * sizeof(double)), *copy = NULL;
        double mn = INFINITY, mx = -INFINITY, rv[KA_SELECT_MAX_RANKS];
        size_t rk[KA_SELECT_MAX_RANKS], nrk = random_ranks(n, rk);
        const double *in = v;

        assert_non_null(sorted);
        memcpy(sorted, v, n * sizeof(double));
        qsort(sorted, n, sizeof(double), cmp_double);
        for (size_t i = 0; i < n; i++) {
                mn = v[i] < mn ? v[i] : mn;
                mx = v[i] > mx ? v[i] : mx;
        }
        if (in_buf) {
                memcpy(sc->buf, v, n * sizeof(double));
                in = sc->buf;
        } else {
                copy = malloc(n * sizeof(double));
                assert_non_null(copy);
                memcpy(copy, v, n * sizeof(double));
        }
        ka_select_ranks(sc, in, n, mn, mx, rk, rv, nrk);
        for (size_t i = 0; i < nrk; i++) {
                /* == : a zero's sign is ka_select_fix_zeros()'s business */
                if (!(rv[i] == sorted[rk[i]]))
                        fail_msg("%s n=%zu%s: rank %zu of %zu ranks is %g, "
                                 "sort says %g",
                                 order_names[order], n,
                                 in_buf ? " (in buf)" : "", rk[i], nrk, rv[i],
                                 sorted[rk[i]]);
        }
        if (copy && memcmp(copy, v, n * sizeof(double)) != 0)
                fail_msg("%s n=%zu: the caller's values changed",
                         order_names[order], n);
        free(sorted);
        free(copy);
}

static void ranks_against_sort(void **state)
{
        static const size_t sizes[] = {
                1,   2,   3,   4,    5,    8,    15,   16,    17,  31,
                32,  33,  63,  64,   65,   127,  128,  129,   255, 256,
                257, 300, 999, 4095, 4096, 4097, 5000, MAX_N,
        };
        double *v = malloc(MAX_N * sizeof(double));
        ka_select_scratch_t sc;

        assert_non_null(v);
        scratch_init(&sc);
        ka_test_seed(0x2545f4914f6cdd1dULL);
        for (size_t si = 0; si < KA_ARRAY_SIZE(sizes); si++) {
                size_t n = sizes[si];

                for (int order = 0; order < O_COUNT; order++) {
                        for (int rep = 0; rep < 4; rep++) {
                                for (size_t i = 0; i < n; i++)
                                        v[i] = value_at((order_t)order, i, n);
                                check(&sc, v, n, (order_t)order, rep & 1);
                        }
                }
        }
        scratch_release(&sc);
        free(v);
}

/* A constant column needs no scratch at all. */
static void constant_needs_nothing(void **state)
{
        ka_select_scratch_t none = {0};
        double v[3] = {-0.0, -0.0, -0.0}, rv[2];
        size_t rk[2] = {0, 2};

        ka_select_ranks(&none, v, 3, -0.0, -0.0, rk, rv, 2);
        assert_true(rv[0] == 0 && signbit(rv[0]));
        assert_true(rv[1] == 0 && signbit(rv[1]));
}

typedef struct item_s {
        double v;
        size_t i;
} item_t;

/* Python's sorted(): stable, 0.0 and -0.0 equal. */
static int cmp_stable(const void *a, const void *b)
{
        const item_t *x = a, *y = b;

        if (x->v != y->v)
                return x->v < y->v ? -1 : 1;
        return (x->i > y->i) - (x->i < y->i);
}

/*
 * Columns of zeros of both signs among other values, with missing values
 * (NaN) in the column: after ka_select_fix_zeros() every selected value,
 * sign included, is the stable sort's at its rank.
 */
static void zeros_as_a_stable_sort(void **state)
{
        double v[80], vals[80], rv[KA_SELECT_MAX_RANKS];
        item_t items[80];
        ka_select_scratch_t sc;

        scratch_init(&sc);
        ka_test_seed(0x9e3779b97f4a7c15ULL);
        for (int round = 0; round < 3000; round++) {
                size_t n = 1 + ka_test_rnd_below(KA_ARRAY_SIZE(v)), m = 0;
                double mn = INFINITY, mx = -INFINITY;
                size_t rk[KA_SELECT_MAX_RANKS], nrk;

                for (size_t i = 0; i < n; i++) {
                        switch (ka_test_rnd_below(6)) {
                        case 0:
                                v[i] = NAN;
                                break;
                        case 1:
                                v[i] = -1.0 - (double)ka_test_rnd_below(3);
                                break;
                        case 2:
                                v[i] = 1.0 + (double)ka_test_rnd_below(3);
                                break;
                        default:
                                v[i] = ka_test_rnd() & 1 ? -0.0 : 0.0;
                                break;
                        }
                        if (v[i] == v[i]) {
                                items[m].v = vals[m] = v[i];
                                items[m].i = m;
                                mn = v[i] < mn ? v[i] : mn;
                                mx = v[i] > mx ? v[i] : mx;
                                m++;
                        }
                }
                if (m == 0)
                        continue;
                qsort(items, m, sizeof(item_t), cmp_stable);
                nrk = random_ranks(m, rk);
                ka_select_ranks(&sc, vals, m, mn, mx, rk, rv, nrk);
                ka_select_fix_zeros(v, n, rk, rv, nrk);
                for (size_t i = 0; i < nrk; i++) {
                        if (memcmp(&rv[i], &items[rk[i]].v, sizeof(double)))
                                fail_msg("round %d (m=%zu): rank %zu is %g, "
                                         "a stable sort says %g",
                                         round, m, rk[i], rv[i],
                                         items[rk[i]].v);
                }
        }
        scratch_release(&sc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(ranks_against_sort),
                cmocka_unit_test(constant_needs_nothing),
                cmocka_unit_test(zeros_as_a_stable_sort),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
