/*
 * Window statistics against CPython: every case of
 * ../shared/testdata/python-statistics.json (or $KA_SHARED_DIR/testdata/...)
 * bit for bit (stdev to 1e-12), then the rules around them (NaN skipping,
 * min_sample_size, tiny windows), extreme magnitudes, signed zeros, the
 * selection on adversarial orders against a plain sort, standard
 * deviations on a tie, and random windows against an exact reference
 * (KA_STATS_SEED picks another seed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>

#include "ka_test.h"
#include "stats.h"

static const ka_op_t all_ops[] = {
        KA_OP_MIN,   KA_OP_Q1, KA_OP_MEAN, KA_OP_MEDIAN,
        KA_OP_STDEV, KA_OP_Q3, KA_OP_MAX,  KA_OP_SUM,
};
#define NOPS (sizeof(all_ops) / sizeof(all_ops[0]))

/* Index of each op in all_ops, for reading results. */
enum { I_MIN, I_Q1, I_MEAN, I_MEDIAN, I_STDEV, I_Q3, I_MAX, I_SUM };

static const char *const op_keys[NOPS] = {
        "min", "q1", "mean", "median", "stdev", "q3", "max", "sum",
};

static uint64_t bits_of(double x)
{
        uint64_t u;

        memcpy(&u, &x, sizeof(u));
        return u;
}

/* Same double, or both NaN. */
static int same(double a, double b)
{
        return (isnan(a) && isnan(b)) || bits_of(a) == bits_of(b);
}

static int close_rel(double got, double want, double rel)
{
        if (isnan(want))
                return isnan(got);
        if (want == got)
                return 1;
        return fabs(got - want) <= rel * fabs(want);
}

static void compute(ka_stats_t *st, const double *v, size_t n, int32_t min,
                    double *out)
{
        assert_int_equal(ka_stats_compute(st, v, n, min, all_ops, NOPS, out),
                         KA_OK);
}

#define assert_same(got, want)                                                 \
        do {                                                                   \
                double g_ = (got), w_ = (want);                                \
                if (!same(g_, w_))                                             \
                        fail_msg("%s: got %.17g (%016llx), want %.17g "        \
                                 "(%016llx)",                                  \
                                 #got, g_, (unsigned long long)bits_of(g_),    \
                                 w_, (unsigned long long)bits_of(w_));         \
        } while (0)

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

static void shuffle(double *v, size_t n)
{
        for (size_t i = n; i > 1; i--) {
                size_t j = (size_t)(rnd() % i);
                double t = v[i - 1];

                v[i - 1] = v[j];
                v[j] = t;
        }
}

/*
 * The oracle
 */

static json_t *load_oracle(void)
{
        const char *shared = getenv("KA_SHARED_DIR");
        char path[1024];
        json_error_t jerr;
        json_t *doc;

        snprintf(path, sizeof(path), "%s/testdata/python-statistics.json",
                 shared && *shared ? shared : "../shared");
        doc = json_load_file(path, 0, &jerr);
        if (!doc)
                fail_msg("cannot load %s: %s", path, jerr.text);
        return doc;
}

static double json_num(json_t *j)
{
        return json_is_number(j) ? json_number_value(j) : NAN;
}

static size_t load_values(json_t *tc, double **vp)
{
        json_t *vals = json_object_get(tc, "values"), *v;
        size_t i, n;
        double *buf;

        assert_true(json_is_array(vals));
        n = json_array_size(vals);
        buf = malloc((n ? n : 1) * sizeof(double));
        assert_non_null(buf);
        json_array_foreach(vals, i, v) buf[i] = json_num(v);
        *vp = buf;
        return n;
}

static void oracle_cases(void **state)
{
        json_t *doc = load_oracle(), *cases, *tc;
        ka_stats_t *st = ka_stats_new();
        size_t exact[NOPS] = {0}, within[NOPS] = {0}, i, ncases;
        double worst = 0;

        assert_non_null(st);
        cases = json_object_get(doc, "cases");
        assert_true(json_is_array(cases));
        ncases = json_array_size(cases);
        assert_true(ncases > 0);
        json_array_foreach(cases, i, tc)
        {
                double *v, out[NOPS];
                size_t n = load_values(tc, &v);

                assert_int_equal(
                        json_integer_value(json_object_get(tc, "count")),
                        (json_int_t)n);
                compute(st, v, n, 0, out);
                for (size_t k = 0; k < NOPS; k++) {
                        double want = json_num(json_object_get(tc, op_keys[k]));

                        if (same(out[k], want)) {
                                exact[k]++;
                                within[k]++;
                        } else if (k == I_STDEV &&
                                   close_rel(out[k], want, 1e-12)) {
                                double rel = fabs(out[k] - want) / fabs(want);

                                within[k]++;
                                worst = rel > worst ? rel : worst;
                        } else {
                                fail_msg("case %zu (%s, n=%zu): %s got %.17g, "
                                         "want %.17g",
                                         i,
                                         json_string_value(
                                                 json_object_get(tc, "kind")),
                                         n, op_keys[k], out[k], want);
                        }
                }
                free(v);
        }
        for (size_t k = 0; k < NOPS; k++) {
                print_message(
                        "%-6s %zu/%zu bit-exact, %zu/%zu within tolerance\n",
                        op_keys[k], exact[k], ncases, within[k], ncases);
                assert_int_equal(within[k], ncases);
        }
        print_message("stdev worst relative error %.3g\n", worst);
        /* Documented as nearly always correctly rounded: hold it to that. */
        assert_true(exact[I_STDEV] * 100 >= ncases * 99);
        ka_stats_destroy(st);
        json_decref(doc);
}

/*
 * Every oracle case again with its values shuffled and NaN (missing
 * values) interleaved: the same results, with min_sample_size counting
 * the NaN entries as messages.
 */
static void oracle_shuffled_with_nans(void **state)
{
        json_t *doc = load_oracle(), *cases, *tc;
        ka_stats_t *st = ka_stats_new();
        size_t i;

        assert_non_null(st);
        cases = json_object_get(doc, "cases");
        json_array_foreach(cases, i, tc)
        {
                double *v, *w, ref[NOPS], out[NOPS];
                size_t n = load_values(tc, &v), m = 0;

                w = malloc((3 * n + 2) * sizeof(double));
                assert_non_null(w);
                compute(st, v, n, 0, ref);
                shuffle(v, n);
                w[m++] = NAN;
                for (size_t k = 0; k < n; k++) {
                        w[m++] = v[k];
                        if (rnd() % 3 == 0)
                                w[m++] = NAN;
                }
                /* min_sample_size == message count still computes. */
                compute(st, w, m, (int32_t)m, out);
                for (size_t k = 0; k < NOPS; k++) {
                        if (k == I_STDEV ? !close_rel(out[k], ref[k], 1e-15)
                                         : !same(out[k], ref[k]))
                                fail_msg("case %zu shuffled: %s got %.17g, "
                                         "want %.17g",
                                         i, op_keys[k], out[k], ref[k]);
                }
                free(v);
                free(w);
        }
        ka_stats_destroy(st);
        json_decref(doc);
}

/*
 * Rules
 */

static void empty_and_all_nan(void **state)
{
        ka_stats_t *st = ka_stats_new();
        double nans[5] = {NAN, NAN, NAN, NAN, NAN}, out[NOPS];

        compute(st, NULL, 0, 0, out);
        for (size_t k = 0; k < NOPS; k++)
                assert_true(isnan(out[k]));
        compute(st, nans, 5, 2, out);
        for (size_t k = 0; k < NOPS; k++)
                assert_true(isnan(out[k]));
        ka_stats_destroy(st);
}

static void single_value(void **state)
{
        ka_stats_t *st = ka_stats_new();
        double v[4] = {NAN, 7.25, NAN, NAN}, out[NOPS];

        compute(st, v, 4, 2, out);
        assert_same(out[I_MIN], 7.25);
        assert_same(out[I_MAX], 7.25);
        assert_same(out[I_MEAN], 7.25);
        assert_same(out[I_MEDIAN], 7.25);
        assert_same(out[I_SUM], 7.25);
        assert_true(isnan(out[I_STDEV]));
        assert_true(isnan(out[I_Q1]));
        assert_true(isnan(out[I_Q3]));
        ka_stats_destroy(st);
}

static void min_sample_size_rule(void **state)
{
        ka_stats_t *st = ka_stats_new();
        double v[4] = {NAN, 5.0, 1.0, 3.0}, out[NOPS];

        /* 4 messages (one without a value) < 5: the first value. */
        compute(st, v, 4, 5, out);
        for (size_t k = 0; k < NOPS; k++)
                assert_same(out[k], 5.0);
        /* Nothing but NaN before the rule applies: NaN. */
        compute(st, v, 1, 2, out);
        for (size_t k = 0; k < NOPS; k++)
                assert_true(isnan(out[k]));
        /* Exactly the minimum: computed over 5, 1, 3. */
        compute(st, v, 4, 4, out);
        assert_same(out[I_MIN], 1.0);
        assert_same(out[I_MAX], 5.0);
        assert_same(out[I_MEAN], 3.0);
        assert_same(out[I_MEDIAN], 3.0);
        assert_same(out[I_STDEV], 2.0);
        assert_same(out[I_Q1], 1.0);
        assert_same(out[I_Q3], 5.0);
        assert_same(out[I_SUM], 9.0);
        /* Zero and negative minimums never apply. */
        compute(st, v, 2, 0, out);
        assert_same(out[I_MEAN], 5.0);
        assert_true(isnan(out[I_STDEV]));
        compute(st, v, 3, -1, out);
        assert_same(out[I_MEAN], 3.0);
        ka_stats_destroy(st);
}

static void hand_computed(void **state)
{
        ka_stats_t *st = ka_stats_new();
        double a[2] = {2.0, 1.0}, b[4] = {4, 1, 3, 2}, c[5] = {5, 1, 4, 2, 3};
        double d[6] = {10, 20, 30, 40, 50, 60}, out[NOPS];

        /* quantiles([1, 2]) extrapolates: 1 - 0.25, 2 + 0.25. */
        compute(st, a, 2, 0, out);
        assert_same(out[I_Q1], 0.75);
        assert_same(out[I_Q3], 2.25);
        assert_same(out[I_MEDIAN], 1.5);
        assert_same(out[I_MEAN], 1.5);
        assert_same(out[I_STDEV], sqrt(0.5));
        /* n = 4: positions 1.25 and 3.75 of 1..4. */
        compute(st, b, 4, 0, out);
        assert_same(out[I_Q1], 1.25);
        assert_same(out[I_Q3], 3.75);
        assert_same(out[I_MEDIAN], 2.5);
        assert_same(out[I_SUM], 10.0);
        /* n = 5: positions 1.5 and 4.5. */
        compute(st, c, 5, 0, out);
        assert_same(out[I_Q1], 1.5);
        assert_same(out[I_Q3], 4.5);
        assert_same(out[I_MEDIAN], 3.0);
        assert_same(out[I_STDEV], sqrt(2.5));
        /* n = 6: positions 1.75 and 5.25. */
        compute(st, d, 6, 0, out);
        assert_same(out[I_Q1], 17.5);
        assert_same(out[I_Q3], 52.5);
        assert_same(out[I_MEDIAN], 35.0);
        assert_same(out[I_MEAN], 35.0);
        assert_same(out[I_STDEV], sqrt(350.0));
        ka_stats_destroy(st);
}

/* Only the ops asked for, in the order asked, repeated ops included. */
static void op_subsets(void **state)
{
        ka_stats_t *st = ka_stats_new();
        double v[5] = {3, 1, 4, 1, 5}, out[4];
        ka_op_t ops1[] = {KA_OP_MAX, KA_OP_SUM, KA_OP_MAX};
        ka_op_t ops2[] = {KA_OP_Q3};
        ka_op_t ops3[] = {KA_OP_MEDIAN, KA_OP_MIN};
        ka_op_t ops4[] = {KA_OP_MIN, KA_OP_MAX};
        double w[4] = {NAN, -2.5, NAN, 8.0};
        ka_op_t bad[] = {KA_OP__COUNT};

        assert_int_equal(ka_stats_compute(st, v, 5, 0, ops1, 3, out), KA_OK);
        assert_same(out[0], 5.0);
        assert_same(out[1], 14.0);
        assert_same(out[2], 5.0);
        assert_int_equal(ka_stats_compute(st, v, 5, 0, ops2, 1, out), KA_OK);
        assert_same(out[0], 4.5);
        assert_int_equal(ka_stats_compute(st, v, 5, 0, ops3, 2, out), KA_OK);
        assert_same(out[0], 3.0);
        assert_same(out[1], 1.0);
        /* min and max alone: no copy of the column */
        assert_int_equal(ka_stats_compute(st, w, 4, 0, ops4, 2, out), KA_OK);
        assert_same(out[0], -2.5);
        assert_same(out[1], 8.0);
        assert_int_equal(ka_stats_compute(st, w, 1, 0, ops4, 2, out), KA_OK);
        assert_true(isnan(out[0]) && isnan(out[1]));
        assert_int_equal(ka_stats_compute(st, v, 5, 0, bad, 1, out),
                         KA_ERR_INVALID);
        assert_int_equal(ka_stats_compute(NULL, v, 5, 0, ops2, 1, out),
                         KA_ERR_INVALID);
        assert_int_equal(ka_stats_compute(st, NULL, 5, 0, ops2, 1, out),
                         KA_ERR_INVALID);
        assert_int_equal(ka_stats_compute(st, v, 5, 0, ops2, 1, NULL),
                         KA_ERR_INVALID);
        ka_stats_destroy(st);
        ka_stats_destroy(NULL);
}

/*
 * Magnitudes
 */

static void huge_mixed_sign(void **state)
{
        ka_stats_t *st = ka_stats_new();
        double a[2] = {1.2e308, -1.2e308}, b[3] = {1e308, 1e308, -1e308};
        double c[2] = {1.7e308, 1.7e308}, out[NOPS];

        compute(st, a, 2, 0, out);
        assert_same(out[I_SUM], 0.0);
        assert_same(out[I_MEAN], 0.0);
        /* sqrt(2 * 1.2e308^2 / 1): representable, its square is not */
        assert_true(isfinite(out[I_STDEV]));
        assert_true(close_rel(out[I_STDEV], 1.2e308 * sqrt(2.0), 1e-15));
        /* The median of two huge values of one sign overflows in CPython
         * too ((a + b) / 2); of opposite signs it does not. */
        assert_same(out[I_MEDIAN], 0.0);

        compute(st, b, 3, 0, out);
        assert_same(out[I_SUM], 1e308);
        assert_same(out[I_MEAN], 1e308 / 3.0);
        /* deviations 2a/3, 2a/3, -4a/3: SS = 24a^2/9, var = 12a^2/9 */
        assert_true(close_rel(out[I_STDEV], 1e308 * (2.0 / sqrt(3.0)), 1e-15));

        /* The sum overflows (CPython raises), the mean does not. */
        compute(st, c, 2, 0, out);
        assert_true(isinf(out[I_SUM]) && out[I_SUM] > 0);
        assert_same(out[I_MEAN], 1.7e308);
        assert_same(out[I_STDEV], 0.0);
        ka_stats_destroy(st);
}

static void exact_sums(void **state)
{
        ka_stats_t *st = ka_stats_new();
        /* A naive left-to-right sum gives 1.0 for both. */
        double a[3] = {1.0, 0x1p-53, 0x1p-60};
        double b[4] = {0x1p100, 1.0 + 0x1p-52, -0x1p100, 0.0};
        double c[3] = {1e100, 1.0, -1e100};
        double d[4] = {1e300, 1.0, -1e300, 1e-300};
        /* Near the top of the range, far apart (each a different path). */
        double e[3] = {1.5e308, 0x1p950, -1.5e308};
        double f[3] = {1.5e308, 1.0, -1.5e308};
        /* mean 1 + 2^-53 + 2^-80 / 3: just above a tie, rounds up */
        double g[3] = {2.0, 1.0 + 0x1p-52, 0x1p-53 + 0x1p-80};
        double out[NOPS];

        compute(st, a, 3, 0, out);
        assert_same(out[I_SUM], 1.0 + 0x1p-52);
        /* 2^100 and 1 + 2^-52 differ by more than a 128-bit window. */
        compute(st, b, 4, 0, out);
        assert_same(out[I_SUM], 1.0 + 0x1p-52);
        assert_same(out[I_MEAN], (1.0 + 0x1p-52) / 4.0);
        compute(st, c, 3, 0, out);
        assert_same(out[I_SUM], 1.0);
        assert_same(out[I_MEAN], 1.0 / 3.0);
        assert_true(close_rel(out[I_STDEV], 1e100, 1e-15));
        compute(st, d, 4, 0, out);
        assert_same(out[I_SUM], 1.0);
        assert_same(out[I_MEAN], 0.25);
        compute(st, e, 3, 0, out);
        assert_same(out[I_SUM], 0x1p950);
        assert_same(out[I_MEAN], 0x1p950 / 3.0);
        compute(st, f, 3, 0, out);
        assert_same(out[I_SUM], 1.0);
        assert_same(out[I_MEAN], 1.0 / 3.0);
        compute(st, g, 3, 0, out);
        assert_same(out[I_MEAN], 1.0 + 0x1p-52);
        g[2] = 0x1p-53; /* an exact tie: to even */
        compute(st, g, 3, 0, out);
        assert_same(out[I_MEAN], 1.0);
        ka_stats_destroy(st);
}

/* Values on a grid of the smallest subnormal t: exact integer expectations. */
static void subnormals(void **state)
{
        ka_stats_t *st = ka_stats_new();
        const double t = 0x1p-1074;
        double a[2] = {t, 0.0}, b[2] = {3 * t, 0.0},
               c[4] = {t, 6 * t, 2 * t, 3 * t};
        double d[3] = {0x1p-1022, -0x1p-1070, 0x1p-1060}, out[NOPS];

        /* mean t/2 rounds to even (0), 3t/2 to 2t; stdev t/sqrt(2) to t */
        compute(st, a, 2, 0, out);
        assert_same(out[I_MEAN], 0.0);
        assert_same(out[I_SUM], t);
        assert_same(out[I_STDEV], t);
        compute(st, b, 2, 0, out);
        assert_same(out[I_MEAN], 2 * t);
        assert_same(out[I_STDEV], 2 * t); /* 3t/sqrt(2) = 2.12t */
        /* sum 12t, mean 3t, SS = 4+1+9+0 -> sqrt(14/3) t = 2.16t -> 2t */
        compute(st, c, 4, 0, out);
        assert_same(out[I_SUM], 12 * t);
        assert_same(out[I_MEAN], 3 * t);
        assert_same(out[I_STDEV], 2 * t);
        assert_same(out[I_MIN], t);
        assert_same(out[I_MAX], 6 * t);
        /* sorted t, 2t, 3t, 6t: median 2.5t -> 2t (even) */
        assert_same(out[I_MEDIAN], 2 * t);
        /* normal and subnormal mixed: exact sum is representable */
        compute(st, d, 3, 0, out);
        assert_same(out[I_SUM], 0x1p-1022 - 0x1p-1070 + 0x1p-1060);
        ka_stats_destroy(st);
}

static void signed_zeros(void **state)
{
        ka_stats_t *st = ka_stats_new();
        /* CPython keeps the first of equal values (min, max, sorted()). */
        double a[3] = {0.0, -0.0, 1.0}, c[2] = {-0.0, -0.0}, out[NOPS];
        double b[9] = {-1, -2, -3, -4, -0.0, 0.0, 5, 6, 7};
        double b2[9] = {-1, -2, -3, -4, 0.0, -0.0, 5, 6, 7};
        double d[9] = {1, 2, 3, 4, 5, 6, 0.0, -0.0, -0.0};

        compute(st, a, 3, 0, out);
        assert_same(out[I_MIN], 0.0);
        assert_same(out[I_MEDIAN], -0.0); /* sorted: 0.0, -0.0, 1.0 */
        assert_same(out[I_MEAN], 1.0 / 3.0);
        compute(st, a, 2, 0, out);
        assert_same(out[I_MIN], 0.0);
        assert_same(out[I_MAX], 0.0);
        assert_same(out[I_MEDIAN], 0.0); /* (0.0 + -0.0) / 2 */
        /* the middle of nine is the first zero to arrive */
        compute(st, b, 9, 0, out);
        assert_same(out[I_MEDIAN], -0.0);
        compute(st, b2, 9, 0, out);
        assert_same(out[I_MEDIAN], 0.0);
        /* sorted 0.0, -0.0, -0.0, 1, ...: q1 = (-0.0 * 2 + -0.0 * 2) / 4 */
        compute(st, d, 9, 0, out);
        assert_same(out[I_Q1], -0.0);
        assert_same(out[I_MIN], 0.0);
        compute(st, c, 2, 0, out);
        assert_same(out[I_MIN], -0.0);
        assert_same(out[I_MAX], -0.0);
        assert_same(out[I_MEDIAN], -0.0);
        assert_same(out[I_SUM], 0.0); /* math.fsum's exact zero */
        assert_same(out[I_MEAN], 0.0);
        assert_same(out[I_Q1], 0.0); /* -0*5 + -0*-1 = -0 + 0 */
        ka_stats_destroy(st);
}

static void infinities(void **state)
{
        ka_stats_t *st = ka_stats_new();
        double a[3] = {1.0, INFINITY, 2.0}, b[3] = {-INFINITY, 1.0, INFINITY};
        double out[NOPS];

        compute(st, a, 3, 0, out);
        assert_same(out[I_SUM], INFINITY);
        assert_same(out[I_MEAN], INFINITY);
        assert_same(out[I_MAX], INFINITY);
        assert_same(out[I_MEDIAN], 2.0);
        assert_true(isnan(out[I_STDEV]));
        compute(st, b, 3, 0, out);
        assert_true(isnan(out[I_SUM]));
        assert_same(out[I_MEDIAN], 1.0);
        assert_same(out[I_MIN], -INFINITY);
        ka_stats_destroy(st);
}

/*
 * Selection against a plain sort
 */

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* CPython's median and quantiles over a sorted copy. */
static void reference(const double *v, size_t n, double *med, double *q1,
                      double *q3)
{
        double *s = malloc(n * sizeof(double));
        size_t m = n + 1;
        double *q[2] = {q1, q3};

        assert_non_null(s);
        memcpy(s, v, n * sizeof(double));
        qsort(s, n, sizeof(double), cmp_double);
        *med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        for (size_t i = 1; i <= 3; i += 2) {
                long long j = (long long)(i * m / 4), delta;

                if (j < 1)
                        j = 1;
                if (j > (long long)n - 1)
                        j = (long long)n - 1;
                delta = (long long)(i * m) - 4 * j;
                *q[i / 2] = (s[j - 1] * (double)(4 - delta) +
                             s[j] * (double)delta) /
                            4;
        }
        free(s);
}

static void check_against_sort(ka_stats_t *st, const double *v, size_t n,
                               const char *what)
{
        double out[NOPS], med, q1, q3;

        compute(st, v, n, 0, out);
        reference(v, n, &med, &q1, &q3);
        if (!same(out[I_MEDIAN], med) || !same(out[I_Q1], q1) ||
            !same(out[I_Q3], q3))
                fail_msg("%s n=%zu: median/q1/q3 %.17g %.17g %.17g, sort "
                         "gives %.17g %.17g %.17g",
                         what, n, out[I_MEDIAN], out[I_Q1], out[I_Q3], med, q1,
                         q3);
}

static void selection_orders(void **state)
{
        ka_stats_t *st = ka_stats_new();
        size_t sizes[] = {2,  3,   5,   15,  16,  17,   18,   31,    33,
                          64, 100, 127, 128, 129, 1000, 4097, 100000};
        double *v = malloc(100000 * sizeof(double));

        assert_non_null(v);
        for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
                size_t n = sizes[si];

                for (size_t i = 0; i < n; i++)
                        v[i] = (double)(rnd() % 1000000) / 7.0;
                check_against_sort(st, v, n, "random");
                for (size_t i = 0; i < n; i++)
                        v[i] = (double)i;
                check_against_sort(st, v, n, "sorted");
                for (size_t i = 0; i < n; i++)
                        v[i] = (double)(n - i);
                check_against_sort(st, v, n, "reversed");
                for (size_t i = 0; i < n; i++)
                        v[i] = 42.5;
                check_against_sort(st, v, n, "constant");
                for (size_t i = 0; i < n; i++)
                        v[i] = (double)(rnd() % 3);
                check_against_sort(st, v, n, "three values");
                for (size_t i = 0; i < n; i++)
                        v[i] = i % 97 == 0 ? (double)i : 1.0;
                check_against_sort(st, v, n, "mostly one value");
                for (size_t i = 0; i < n; i++)
                        v[i] = (double)(i < n / 2 ? i : n - i);
                check_against_sort(st, v, n, "organ pipe");
                for (size_t i = 0; i < n; i++)
                        v[i] = (double)((i * 7919) % n) - (double)n / 2;
                check_against_sort(st, v, n, "strided");
        }
        free(v);
        ka_stats_destroy(st);
}

/* Long-double two-pass stdev and a plain sum of integer-valued data. */
static void large_windows(void **state)
{
        ka_stats_t *st = ka_stats_new();
        size_t n = 200000;
        double *v = malloc(n * sizeof(double)), out[NOPS];
        long double mean = 0, ss = 0;
        long long isum = 0;

        assert_non_null(v);
        for (size_t i = 0; i < n; i++) {
                long long k = (long long)(rnd() % 2000001) - 1000000;

                v[i] = (double)k;
                isum += k;
        }
        compute(st, v, n, 0, out);
        assert_same(out[I_SUM], (double)isum);
        assert_same(out[I_MEAN], (double)isum / (double)n);
        for (size_t i = 0; i < n; i++)
                mean += v[i];
        mean /= (long double)n;
        for (size_t i = 0; i < n; i++)
                ss += (v[i] - mean) * (v[i] - mean);
        assert_true(close_rel(out[I_STDEV],
                              (double)sqrtl(ss / (long double)(n - 1)), 1e-12));
        /* Reuse after a large window: a small one still comes out right. */
        compute(st, v, 3, 0, out);
        assert_same(out[I_SUM], v[0] + v[1] + v[2]);
        free(v);
        ka_stats_destroy(st);
}

/*
 * Offset data: deviations of 1e-7 relative on values near 1.6e9; a
 * one-pass sum-of-squares formula in doubles would lose every digit.
 */
static void offset_near_constant(void **state)
{
        ka_stats_t *st = ka_stats_new();
        double v[1000], out[NOPS];

        for (size_t i = 0; i < 1000; i++)
                v[i] = 1.6e9 + (i % 2 ? 0x1p-22 : 0.0);
        compute(st, v, 1000, 0, out);
        /* 500 of each: SS = 1000 * (2^-23)^2, var = SS / 999 */
        assert_true(
                close_rel(out[I_STDEV], 0x1p-23 * sqrt(1000.0 / 999.0), 1e-14));
        /* 1.6e9 + 2^-23 is a tie between neighbours: the even one */
        assert_same(out[I_MEAN], 1.6e9);
        ka_stats_destroy(st);
}

/*
 * Standard deviations on a tie. With A^2 - AB + B^2 = 3 M^2 (M odd, 54
 * bits: a midpoint between two doubles), the sample standard deviation of
 * [A, B, 0] is exactly M: a tie, rounded to even. A third value far below
 * the other two breaks it, one way or the other, by much less than the
 * 2^-106 of a double-double: next to 1.6e308 a subnormal (which scaling
 * the values down used to flush to zero), next to 1e7 2^-150. The expected
 * values are CPython 3.11's:
 *
 *   import statistics
 *   a = float.fromhex('0x1.be53426482f3fp+1023')
 *   b = float.fromhex('-0x1.ceb3581bde2e2p+1021')
 *   statistics.stdev([a, b, -5e-324]).hex()  # '0x1.28c4e351d7d21p+1023'
 *   statistics.stdev([a, b, -1e-310]).hex()  # '0x1.28c4e351d7d21p+1023'
 *   statistics.stdev([a, b, 0.0]).hex()      # '0x1.28c4e351d7d20p+1023'
 *   c = float.fromhex('0x1.9fbfe83fa6e83p+1023')
 *   d = float.fromhex('-0x1.3c9030fef0ddap+1021')
 *   statistics.stdev([c, d, 5e-324]).hex()   # '0x1.09d736769f981p+1023'
 *   statistics.stdev([a / 2**1000, b / 2**1000, -2.0**-150]).hex()
 *                                            # '0x1.28c4e351d7d21p+23'
 *   statistics.stdev([a / 2**1000, b / 2**1000, 2.0**-150]).hex()
 *                                            # '0x1.28c4e351d7d20p+23'
 */
static void stdev_near_ties(void **state)
{
        static const struct {
                double v[3];
                double want;
        } cases[] = {
                {{0x1.be53426482f3fp+1023, -0x1.ceb3581bde2e2p+1021,
                  -0x1p-1074},
                 0x1.28c4e351d7d21p+1023},
                {{0x1.be53426482f3fp+1023, -0x1.ceb3581bde2e2p+1021, -1e-310},
                 0x1.28c4e351d7d21p+1023},
                {{0x1.be53426482f3fp+1023, -0x1.ceb3581bde2e2p+1021, 0.0},
                 0x1.28c4e351d7d20p+1023},
                {{0x1.9fbfe83fa6e83p+1023, -0x1.3c9030fef0ddap+1021, 0x1p-1074},
                 0x1.09d736769f981p+1023},
                {{0x1.be53426482f3fp+23, -0x1.ceb3581bde2e2p+21, -0x1p-150},
                 0x1.28c4e351d7d21p+23},
                {{0x1.be53426482f3fp+23, -0x1.ceb3581bde2e2p+21, 0x1p-150},
                 0x1.28c4e351d7d20p+23},
        };
        ka_stats_t *st = ka_stats_new();
        double out[NOPS], v[3];

        assert_non_null(st);
        for (size_t i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                compute(st, cases[i].v, 3, 0, out);
                assert_same(out[I_STDEV], cases[i].want);
                /* in any order */
                v[0] = cases[i].v[2];
                v[1] = cases[i].v[0];
                v[2] = cases[i].v[1];
                compute(st, v, 3, 0, out);
                assert_same(out[I_STDEV], cases[i].want);
        }
        ka_stats_destroy(st);
}

/*
 * Random windows against a reference
 *
 * The reference is a plain model of CPython written for this test and
 * sharing no code with the runtime: a stable sort (qsort over value and
 * arrival index) for min, max, median and quartiles, and exact integer
 * arithmetic for sum, mean and stdev. Values are integers X in units of
 * 2^-1074 (squares in units of 2^-2148) in big integers of 32-bit limbs;
 * the sum is S, the variance (n sum(X^2) - S^2) / (n (n - 1)), rounded
 * once to a double at the end. Every op must match bit for bit, stdev
 * included. Where CPython raises, the reference follows stats.h.
 */

#define REF_LIMBS 144 /* n sum(X^2) for n < 2^16 is below 2^4230 */

typedef struct ref_big_s {
        uint32_t d[REF_LIMBS];
} ref_big_t;

static size_t big_len(const ref_big_t *a)
{
        size_t len = REF_LIMBS;

        while (len > 0 && a->d[len - 1] == 0)
                len--;
        return len;
}

static int big_bitlen(const ref_big_t *a)
{
        size_t len = big_len(a);
        int bits = 0;

        if (len == 0)
                return 0;
        for (uint32_t top = a->d[len - 1]; top; top >>= 1)
                bits++;
        return (int)(len - 1) * 32 + bits;
}

/* a += v * 2^sh, v < 2^128 */
static void big_add(ref_big_t *a, unsigned __int128 v, unsigned sh)
{
        unsigned at = sh / 32, b = sh % 32;
        uint64_t carry = 0;

        for (unsigned i = 0; v || carry; i++) {
                uint64_t piece = (uint64_t)(v & 0xffffffffu) << b;
                uint64_t t = (uint64_t)a->d[at + i] + (uint32_t)piece + carry;

                assert_true(at + i < REF_LIMBS);
                a->d[at + i] = (uint32_t)t;
                carry = (t >> 32) + (piece >> 32);
                v >>= 32;
        }
}

static int big_cmp(const ref_big_t *a, const ref_big_t *b)
{
        for (size_t i = REF_LIMBS; i-- > 0;) {
                if (a->d[i] != b->d[i])
                        return a->d[i] < b->d[i] ? -1 : 1;
        }
        return 0;
}

/* a -= b, a >= b */
static void big_sub(ref_big_t *a, const ref_big_t *b)
{
        int64_t borrow = 0;

        for (size_t i = 0; i < REF_LIMBS; i++) {
                int64_t t = (int64_t)a->d[i] - b->d[i] - borrow;

                borrow = t < 0;
                a->d[i] = (uint32_t)t;
        }
        assert_int_equal(borrow, 0);
}

static void big_mul_u32(ref_big_t *a, uint32_t m)
{
        uint64_t carry = 0;

        for (size_t i = 0; i < REF_LIMBS; i++) {
                uint64_t t = (uint64_t)a->d[i] * m + carry;

                a->d[i] = (uint32_t)t;
                carry = t >> 32;
        }
        assert_int_equal(carry, 0);
}

static void big_sqr(ref_big_t *r, const ref_big_t *a)
{
        size_t len = big_len(a);

        memset(r, 0, sizeof(*r));
        for (size_t i = 0; i < len; i++) {
                uint64_t carry = 0;

                for (size_t j = 0; j < len; j++) {
                        uint64_t t = (uint64_t)a->d[i] * a->d[j] + r->d[i + j] +
                                     carry;

                        r->d[i + j] = (uint32_t)t;
                        carry = t >> 32;
                }
                assert_true(i + len < REF_LIMBS);
                r->d[i + len] = (uint32_t)carry;
        }
}

/* a /= d; returns the remainder */
static uint32_t big_div_u32(ref_big_t *a, uint32_t d)
{
        uint64_t rem = 0;

        for (size_t i = REF_LIMBS; i-- > 0;) {
                uint64_t cur = rem << 32 | a->d[i];

                a->d[i] = (uint32_t)(cur / d);
                rem = cur % d;
        }
        return (uint32_t)rem;
}

static void big_shl(ref_big_t *a, unsigned k)
{
        ref_big_t r = {{0}};

        assert_true(big_bitlen(a) + (int)k <= REF_LIMBS * 32);
        for (size_t i = 0; i + k / 32 < REF_LIMBS; i++) {
                uint64_t w = (uint64_t)a->d[i] << (k % 32);

                r.d[i + k / 32] |= (uint32_t)w;
                if (i + k / 32 + 1 < REF_LIMBS)
                        r.d[i + k / 32 + 1] |= (uint32_t)(w >> 32);
        }
        *a = r;
}

/* a >>= k; returns whether a bit shifted out was set */
static int big_shr(ref_big_t *a, unsigned k)
{
        ref_big_t r = {{0}};
        int lost = 0;

        for (size_t i = 0; i < REF_LIMBS; i++) {
                uint64_t w = (uint64_t)a->d[i] << 32 >> (k % 32);

                if (i < k / 32 + 1)
                        lost |= (i < k / 32 ? a->d[i] : (uint32_t)w) != 0;
                if (i >= k / 32)
                        r.d[i - k / 32] |= (uint32_t)(w >> 32);
                if (i >= k / 32 + 1)
                        r.d[i - k / 32 - 1] |= (uint32_t)w;
        }
        *a = r;
        return lost;
}

/*
 * (-1)^neg (q + f) 2^e rounded to nearest, ties to even, where f is in
 * (0, 1) when sticky and 0 otherwise; q must have 55 bits or more when
 * sticky. Below the normal range on the subnormal grid; beyond it inf.
 */
static double ref_round(uint64_t q, int e, int sticky, int neg)
{
        int bits = 0, lsb, sh;
        uint64_t m, rest, half;
        double r;

        if (q == 0)
                return 0.0;
        for (uint64_t t = q; t; t >>= 1)
                bits++;
        lsb = e + bits - 53; /* exponent of the last place kept */
        if (lsb < -1074)
                lsb = -1074;
        sh = lsb - e;
        if (sh <= 0) {
                assert_false(sticky);
                m = q << -sh;
        } else if (sh > 64) {
                m = 0; /* below half the smallest subnormal */
        } else {
                m = sh == 64 ? 0 : q >> sh;
                rest = sh == 64 ? q : q & ((UINT64_C(1) << sh) - 1);
                half = UINT64_C(1) << (sh - 1);
                if (rest > half || (rest == half && (sticky || (m & 1))))
                        m++;
        }
        r = ldexp((double)m, lsb);
        return neg ? -r : r;
}

/* a 2^e, plus a fraction below it when sticky, rounded */
static double ref_round_big(const ref_big_t *a, int e, int sticky, int neg)
{
        ref_big_t t = *a;
        int excess = big_bitlen(&t) - 64;

        if (excess > 0) {
                sticky |= big_shr(&t, (unsigned)excess);
                e += excess;
        }
        return ref_round((uint64_t)t.d[1] << 32 | t.d[0], e, sticky, neg);
}

static uint64_t isqrt_u128(unsigned __int128 a)
{
        uint64_t r = (uint64_t)sqrtl((long double)a);

        while ((unsigned __int128)r * r > a)
                r--;
        while ((unsigned __int128)(r + 1) * (r + 1) <= a)
                r++;
        return r;
}

typedef struct ref_item_s {
        double v;
        size_t i;
} ref_item_t;

/* sorted(): by value, equal values (0.0 and -0.0) in arrival order */
static int cmp_item(const void *a, const void *b)
{
        const ref_item_t *x = a, *y = b;

        if (x->v != y->v)
                return x->v < y->v ? -1 : 1;
        return (x->i > y->i) - (x->i < y->i);
}

/* The reference results of all_ops over values[0..n), NaN skipped. */
static void reference_all(const double *values, size_t n, double *want)
{
        ref_item_t *s = malloc((n ? n : 1) * sizeof(*s));
        ref_big_t pos = {{0}}, neg = {{0}}, sq = {{0}}, sum, s2, t;
        size_t m = 0;
        int pinf = 0, ninf = 0, sneg;

        assert_non_null(s);
        for (size_t k = 0; k < NOPS; k++)
                want[k] = NAN;
        for (size_t i = 0; i < n; i++) {
                if (values[i] == values[i]) {
                        s[m].v = values[i];
                        s[m].i = m;
                        m++;
                }
        }
        if (m == 0)
                goto out;
        /* min() and max() keep the first of equal values */
        want[I_MIN] = want[I_MAX] = s[0].v;
        for (size_t i = 1; i < m; i++) {
                want[I_MIN] = s[i].v < want[I_MIN] ? s[i].v : want[I_MIN];
                want[I_MAX] = s[i].v > want[I_MAX] ? s[i].v : want[I_MAX];
        }
        for (size_t i = 0; i < m; i++) {
                double x = s[i].v;
                int e;
                uint64_t mant;

                if (isinf(x)) {
                        pinf |= x > 0;
                        ninf |= x < 0;
                        continue;
                }
                /* x = mant 2^(e - 1074), mant < 2^53 */
                mant = (uint64_t)ldexp(frexp(fabs(x), &e), 53);
                e = e - 53 + 1074;
                if (e < 0) {
                        mant >>= -e; /* subnormal: exact, low bits zero */
                        e = 0;
                }
                big_add(x < 0 ? &neg : &pos, mant, (unsigned)e);
                big_add(&sq, (unsigned __int128)mant * mant, 2 * (unsigned)e);
        }
        if (pinf || ninf) {
                /* stats.h: inf or NaN where CPython returns or raises */
                want[I_SUM] = want[I_MEAN] = pinf && ninf ? NAN
                                             : pinf       ? INFINITY
                                                          : -INFINITY;
        } else {
                /* sum: math.fsum(), exact and rounded once */
                sneg = big_cmp(&neg, &pos) > 0;
                sum = sneg ? neg : pos;
                big_sub(&sum, sneg ? &pos : &neg);
                want[I_SUM] = ref_round_big(&sum, -1074, 0, sneg);
                /* mean: S / m rounded once, from 64 or more quotient bits */
                {
                        int k = 64 + 32 - big_bitlen(&sum);
                        uint32_t rem;

                        k = k < 0 ? 0 : k;
                        t = sum;
                        big_shl(&t, (unsigned)k);
                        rem = big_div_u32(&t, (uint32_t)m);
                        want[I_MEAN] =
                                ref_round_big(&t, -1074 - k, rem != 0, sneg);
                }
                /* stdev: sqrt((m sum(X^2) - S^2) / (m (m - 1))) 2^-1074 */
                if (m >= 2) {
                        uint32_t d = (uint32_t)(m * (m - 1));
                        int k, sticky = 0, dbits = 0;
                        unsigned __int128 a = 0;
                        uint64_t r;

                        big_sqr(&s2, &sum);
                        t = sq;
                        big_mul_u32(&t, (uint32_t)m);
                        big_sub(&t, &s2);
                        for (uint32_t x = d; x; x >>= 1)
                                dbits++;
                        /* a = floor(t 4^k / d) of about 120 bits */
                        k = (120 - (big_bitlen(&t) - dbits) + 1) / 2;
                        if (k >= 0)
                                big_shl(&t, 2 * (unsigned)k);
                        else
                                sticky = big_shr(&t, 2 * (unsigned)-k);
                        sticky |= big_div_u32(&t, d) != 0;
                        assert_true(big_bitlen(&t) <= 124);
                        for (int i = 3; i >= 0; i--)
                                a = a << 32 | t.d[i];
                        r = isqrt_u128(a);
                        sticky |= (unsigned __int128)r * r != a;
                        want[I_STDEV] = ref_round(r, -k - 1074, sticky, 0);
                }
        }
        /* median() and quantiles(n=4) over sorted() */
        qsort(s, m, sizeof(*s), cmp_item);
        want[I_MEDIAN] = m % 2 ? s[m / 2].v : (s[m / 2 - 1].v + s[m / 2].v) / 2;
        if (m >= 2) {
                for (size_t i = 1; i <= 3; i += 2) {
                        long long j = (long long)(i * (m + 1) / 4), delta;

                        j = j < 1                  ? 1
                            : j > (long long)m - 1 ? (long long)m - 1
                                                   : j;
                        delta = (long long)(i * (m + 1)) - 4 * j;
                        want[i == 1 ? I_Q1 : I_Q3] =
                                (s[j - 1].v * (double)(4 - delta) +
                                 s[j].v * (double)delta) /
                                4;
                }
        }
out:
        free(s);
}

/* A random double in [0, 1), from 53 random bits. */
static double rand_unit(void)
{
        return (double)(ka_test_rnd() >> 11) * 0x1p-53;
}

/* Any finite double, from random bits. */
static double rand_finite(void)
{
        double x;

        do {
                uint64_t u = ka_test_rnd();

                memcpy(&x, &u, sizeof(x));
        } while (!isfinite(x));
        return x;
}

static double rand_sign(double x)
{
        return ka_test_rnd() & 1 ? -x : x;
}

enum {
        D_UNIFORM,   /* sensor-like: 15 + 10 U(0, 1) */
        D_SIGNED,    /* U(-1, 1) */
        D_HUGE,      /* +-[1, 2) 2^e, e in [-1000, 1000]: 1e+-300 */
        D_EXTREME,   /* near +-1.7e308 with subnormals */
        D_DUPS,      /* a handful of distinct values, many times */
        D_INTEGERS,  /* integers up to 1e6 */
        D_SUBNORMAL, /* subnormals and the smallest normals */
        D_ZEROS,     /* 0.0, -0.0 and a few small values */
        D_OFFSET,    /* 1e9 plus tiny deviations */
        D_BITS,      /* any finite bit pattern */
        D_INF,       /* some infinities */
        D_COUNT,
};

static const char *const dist_names[D_COUNT] = {
        "uniform",   "signed", "huge",   "extreme", "dups",       "integers",
        "subnormal", "zeros",  "offset", "bits",    "infinities",
};

static double rand_value(int dist, const double *dups)
{
        switch (dist) {
        case D_UNIFORM:
                return 15 + 10 * rand_unit();
        case D_SIGNED:
                return 2 * rand_unit() - 1;
        case D_HUGE:
                return rand_sign(ldexp(1 + rand_unit(),
                                       (int)ka_test_rnd_below(2001) - 1000));
        case D_EXTREME:
                switch (ka_test_rnd_below(4)) {
                case 0:
                        return rand_sign(1.7e308 * (1 - rand_unit() / 64));
                case 1:
                        return rand_sign(
                                ldexp((double)ka_test_rnd_below(1000), -1074));
                case 2:
                        return rand_sign(0x1p-1022 * rand_unit());
                default:
                        return rand_sign(DBL_MAX);
                }
        case D_DUPS:
                return dups[ka_test_rnd_below(4)];
        case D_INTEGERS:
                return (double)((int64_t)ka_test_rnd_below(2000001) - 1000000);
        case D_SUBNORMAL:
                return rand_sign(ldexp((double)(ka_test_rnd() >> 11),
                                       -1074 - (int)ka_test_rnd_below(40)));
        case D_ZEROS:
                switch (ka_test_rnd_below(5)) {
                case 0:
                case 1:
                        return 0.0;
                case 2:
                case 3:
                        return -0.0;
                default:
                        return rand_sign((double)ka_test_rnd_below(3));
                }
        case D_OFFSET:
                return 1e9 + ldexp((double)ka_test_rnd_below(8), -23);
        case D_BITS:
                return rand_finite();
        default:
                return ka_test_rnd_below(8) == 0 ? rand_sign(INFINITY)
                                                 : 100 * rand_unit();
        }
}

static int cmp_plain(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* Window sizes: mostly tiny (the edge cases), some to ~3000. */
static size_t rand_size(void)
{
        size_t r = ka_test_rnd_below(100);

        if (r < 55)
                return ka_test_rnd_below(21);
        if (r < 85)
                return 21 + ka_test_rnd_below(280);
        return 301 + ka_test_rnd_below(2700);
}

static void random_windows(void **state)
{
        const char *env = getenv("KA_STATS_SEED");
        uint64_t seed =
                env && *env ? strtoull(env, NULL, 0) : UINT64_C(0x5eed5eed2024);
        size_t nwin = 4000, counts[D_COUNT] = {0}, values = 0;
        ka_stats_t *st = ka_stats_new();
        double *v = malloc(3000 * sizeof(double));

        assert_non_null(st);
        assert_non_null(v);
        print_message("seed 0x%llx (KA_STATS_SEED=0x%llx to repeat)\n",
                      (unsigned long long)seed, (unsigned long long)seed);
        ka_test_seed(seed);
        for (size_t w = 0; w < nwin; w++) {
                int dist = (int)ka_test_rnd_below(D_COUNT);
                size_t n = rand_size(), one;
                double dups[4], want[NOPS], out[NOPS];

                for (size_t i = 0; i < 4; i++)
                        dups[i] = rand_value(D_SIGNED, NULL);
                for (size_t i = 0; i < n; i++)
                        v[i] = rand_value(dist, dups);
                switch (ka_test_rnd_below(6)) {
                case 0:
                        qsort(v, n, sizeof(double), cmp_plain);
                        break;
                case 1:
                        qsort(v, n, sizeof(double), cmp_plain);
                        for (size_t i = 0; i < n / 2; i++) {
                                double x = v[i];

                                v[i] = v[n - 1 - i];
                                v[n - 1 - i] = x;
                        }
                        break;
                case 2: /* missing values sprinkled */
                        for (size_t i = 0; i < n; i++) {
                                if (ka_test_rnd_below(4) == 0)
                                        v[i] = NAN;
                        }
                        break;
                default:
                        break;
                }
                compute(st, v, n, 0, out);
                reference_all(v, n, want);
                for (size_t k = 0; k < NOPS; k++) {
                        if (!same(out[k], want[k]))
                                fail_msg("window %zu (%s, n=%zu, seed "
                                         "0x%llx): %s got %a, want %a",
                                         w, dist_names[dist], n,
                                         (unsigned long long)seed, op_keys[k],
                                         out[k], want[k]);
                }
                /* One op alone takes other paths (no copy, quickselect). */
                one = ka_test_rnd_below(NOPS);
                assert_int_equal(
                        ka_stats_compute(st, v, n, 0, &all_ops[one], 1, out),
                        KA_OK);
                if (!same(out[0], want[one]))
                        fail_msg("window %zu (%s, n=%zu, seed 0x%llx): %s "
                                 "alone got %a, want %a",
                                 w, dist_names[dist], n,
                                 (unsigned long long)seed, op_keys[one], out[0],
                                 want[one]);
                counts[dist]++;
                values += n;
        }
        print_message("%zu windows, %zu values, bit for bit:", nwin, values);
        for (int d = 0; d < D_COUNT; d++)
                print_message(" %s %zu", dist_names[d], counts[d]);
        print_message("\n");
        free(v);
        ka_stats_destroy(st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(oracle_cases),
                cmocka_unit_test(oracle_shuffled_with_nans),
                cmocka_unit_test(empty_and_all_nan),
                cmocka_unit_test(single_value),
                cmocka_unit_test(min_sample_size_rule),
                cmocka_unit_test(hand_computed),
                cmocka_unit_test(op_subsets),
                cmocka_unit_test(huge_mixed_sign),
                cmocka_unit_test(exact_sums),
                cmocka_unit_test(subnormals),
                cmocka_unit_test(signed_zeros),
                cmocka_unit_test(infinities),
                cmocka_unit_test(selection_orders),
                cmocka_unit_test(large_windows),
                cmocka_unit_test(offset_near_constant),
                cmocka_unit_test(stdev_near_ties),
                cmocka_unit_test(random_windows),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
