/*
 * Micro-benchmark of ka_stats_compute(): nanoseconds per value for windows
 * of 10, 100, 1000 and 100000 values, with the seven default ops and with
 * each op alone, against a naive baseline (qsort, then plain summation)
 * measured in the same run, and SUMMARY lines for tests/bench/run.sh. Not
 * a test: prints numbers, and exits 0 unless the library fails.
 *
 *   cc -std=c11 -D_GNU_SOURCE -ffp-contract=off -O2 -Iruntime \
 *      tests/bench/bench_stats.c runtime/stats.c runtime/xsum.c \
 *      runtime/select.c -lm -o /tmp/bench_stats
 *   /tmp/bench_stats [seconds per measurement, default 0.3]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <math.h>

#include "stats.h"

static const ka_op_t default_ops[] = {
        KA_OP_MIN,   KA_OP_Q1, KA_OP_MEAN, KA_OP_MEDIAN,
        KA_OP_STDEV, KA_OP_Q3, KA_OP_MAX,
};
#define NDEFAULT (sizeof(default_ops) / sizeof(default_ops[0]))

static const char *const op_names[KA_OP__COUNT] = {
        [KA_OP_MIN] = "min",     [KA_OP_Q1] = "q1",
        [KA_OP_MEAN] = "mean",   [KA_OP_MEDIAN] = "median",
        [KA_OP_STDEV] = "stdev", [KA_OP_Q3] = "q3",
        [KA_OP_MAX] = "max",     [KA_OP_SUM] = "sum",
};

/* Values spread over this many doubles, so that windows are not all hot. */
#define POOL (1u << 21)

static volatile double sink;

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x853c49e6748fea9bULL;

static double uniform(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (double)(rng >> 11) * 0x1p-53;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* The textbook way: sort a copy, read ranks, sum in order. */
static void naive(double *tmp, const double *v, size_t n, double *out)
{
        double sum = 0, ss = 0, mean;
        size_t m = n + 1;

        memcpy(tmp, v, n * sizeof(double));
        qsort(tmp, n, sizeof(double), cmp_double);
        for (size_t i = 0; i < n; i++)
                sum += tmp[i];
        mean = sum / (double)n;
        for (size_t i = 0; i < n; i++)
                ss += (tmp[i] - mean) * (tmp[i] - mean);
        out[0] = tmp[0];
        out[1] = tmp[m / 4 - 1] * 0.25 + tmp[m / 4] * 0.75;
        out[2] = mean;
        out[3] = n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
        out[4] = sqrt(ss / (double)(n - 1));
        out[5] = tmp[3 * m / 4 - 1] * 0.75 + tmp[3 * m / 4] * 0.25;
        out[6] = tmp[n - 1];
}

typedef struct run_s {
        ka_stats_t *st;
        const double *pool;
        double *tmp;
        size_t n;
        const ka_op_t *ops; /* NULL: the naive baseline */
        size_t nops;
} run_t;

/*
 * ns per value of one configuration: the best of five trials of secs / 5
 * each, so that a noisy neighbour on the machine counts less.
 */
static double measure(const run_t *r, double secs)
{
        size_t windows = POOL / r->n, w = 0;
        double out[KA_OP__COUNT], acc = 0, best = INFINITY;

        for (int trial = 0; trial < 5; trial++) {
                size_t values = 0;
                double t0 = now(), t;

                do {
                        for (int rep = 0; rep < 16; rep++) {
                                const double *v =
                                        r->pool + (w % windows) * r->n;

                                if (!r->ops)
                                        naive(r->tmp, v, r->n, out);
                                else if (ka_stats_compute(r->st, v, r->n, 0,
                                                          r->ops, r->nops,
                                                          out)) {
                                        fprintf(stderr, "bench_stats: compute "
                                                        "failed\n");
                                        exit(1);
                                }
                                acc += out[0];
                                w++;
                                values += r->n;
                        }
                        t = now() - t0;
                } while (t < secs / 5);
                if (t * 1e9 / (double)values < best)
                        best = t * 1e9 / (double)values;
        }
        sink = acc;
        return best;
}

int main(int argc, char **argv)
{
        static const size_t sizes[] = {10, 100, 1000, 100000};
        double secs = argc > 1 ? atof(argv[1]) : 0.3;
        double *pool = malloc(POOL * sizeof(double));
        double *tmp = malloc(100000 * sizeof(double));
        double naive_ns[KA_ARRAY_SIZE(sizes)], ops_ns[KA_ARRAY_SIZE(sizes)];
        ka_stats_t *st = ka_stats_new();
        run_t r = {.st = st, .pool = pool, .tmp = tmp};

        if (!pool || !tmp || !st) {
                fprintf(stderr, "bench_stats: out of memory\n");
                return 1;
        }
        if (!(secs > 0))
                secs = 0.3;
        /* Sensor-like readings: 20 +- 5 with full-precision mantissas. */
        for (size_t i = 0; i < POOL; i++)
                pool[i] = 15.0 + 10.0 * uniform();

        printf("ka_stats_compute, ns per value (values 15 + 10 U(0,1), best "
               "of 5 trials)\n");
        printf("%-22s", "ops \\ n");
        for (size_t s = 0; s < KA_ARRAY_SIZE(sizes); s++)
                printf("%10zu", sizes[s]);
        printf("\n");

        for (int row = -2; row < (int)KA_OP__COUNT; row++) {
                ka_op_t one;

                if (row == -2) {
                        printf("%-22s", "naive qsort baseline");
                        r.ops = NULL;
                        r.nops = NDEFAULT;
                } else if (row == -1) {
                        printf("%-22s", "7 default ops");
                        r.ops = default_ops;
                        r.nops = NDEFAULT;
                } else {
                        one = (ka_op_t)row;
                        printf("  %-20s", op_names[one]);
                        r.ops = &one;
                        r.nops = 1;
                }
                for (size_t s = 0; s < KA_ARRAY_SIZE(sizes); s++) {
                        double ns;

                        r.n = sizes[s];
                        ns = measure(&r, secs);
                        if (row == -2)
                                naive_ns[s] = ns;
                        else if (row == -1)
                                ops_ns[s] = ns;
                        printf("%10.2f", ns);
                        fflush(stdout);
                }
                printf("\n");
        }
        printf("\n7 default ops vs naive qsort baseline:");
        for (size_t s = 0; s < KA_ARRAY_SIZE(sizes); s++)
                printf(" %.1fx (n=%zu)", naive_ns[s] / ops_ns[s], sizes[s]);
        printf("\n");
        for (size_t s = 1; s <= 2; s++)
                printf("SUMMARY|statistics: 7 default ops, %zu values a "
                       "window|%.2f ns/value (%.1fx naive qsort)|faster than "
                       "naive qsort|%s\n",
                       sizes[s], ops_ns[s], naive_ns[s] / ops_ns[s],
                       ops_ns[s] < naive_ns[s] ? "PASS" : "slower");
        ka_stats_destroy(st);
        free(pool);
        free(tmp);
        return 0;
}
