/*
 * Exact summation of doubles for the window statistics (SPEC §7): the
 * exact sum of a column, rounded once for math.fsum() and divided once for
 * statistics.mean(), and the exact sample variance that settles a standard
 * deviation lying close to a tie.
 */
#ifndef KA_XSUM_H
#define KA_XSUM_H

#include "ka.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limbs of an exact sum: the whole double range and carry headroom. */
#define KA_XSUM_LIMBS 38

/*
 * An exact sum: hi + lo exactly when fp, (-1)^neg * mag * 2^e2 otherwise.
 * Filled by ka_xsum_compute() and read by the functions below; other
 * modules read only fp, hi and lo.
 */
typedef struct ka_xsum_s {
        bool fp;
        double hi, lo;
        uint64_t mag[KA_XSUM_LIMBS]; /* little-endian 64-bit limbs */
        size_t len; /* limbs in use; mag[len - 1] != 0 unless len == 0 */
        int e2;
        bool neg;
} ka_xsum_t;

/*
 * Sets xs to the exact sum of x[0..n): finite values (x may be NULL when n
 * is 0), amax the largest magnitude among them. O(n), no allocation:
 * usually one vectorized pass in floating point, a 128-bit or a
 * fixed-point integer accumulator for values too far apart for it.
 */
void ka_xsum_compute(ka_xsum_t *xs, const double *x, size_t n, double amax);

/*
 * The exact sum correctly rounded (math.fsum()): +0.0 for an exact zero,
 * +-inf beyond the double range.
 */
double ka_xsum_round(const ka_xsum_t *xs);

/* The exact sum divided by n > 0, correctly rounded (statistics.mean()). */
double ka_xsum_mean(const ka_xsum_t *xs, size_t n);

/* Limbs of n sum(x^2) in units of 2^-2150, for any n below 2^64. */
#define KA_XSUM_VAR_LIMBS 70

/*
 * The exact sample variance of a column, held as n (n - 1) var = n sum(x^2)
 * - (sum x)^2: a big integer of about half a kilobyte, for the stack.
 * Filled by ka_xsum_var_compute().
 */
typedef struct ka_xsum_var_s {
        uint64_t nss[KA_XSUM_VAR_LIMBS]; /* n sum((x - mean)^2) */
        uint64_t n;
} ka_xsum_var_t;

/*
 * Sets var to the exact sample variance of x[0..n), finite values, n >= 2.
 * O(n) big-integer additions, some thirty times the cost of
 * ka_xsum_compute(): meant for the rare standard deviations too close to a
 * tie for floating point to round.
 */
void ka_xsum_var_compute(ka_xsum_var_t *var, const double *x, size_t n);

/*
 * Compares var with mid^2, mid = m 2^e (m < 2^54, e >= -1075, mid <
 * 2^1024): returns a negative number, 0 or a positive number as the
 * variance is below, equal to or above it. O(1) (a few big-integer
 * operations).
 */
int ka_xsum_var_cmp(const ka_xsum_var_t *var, uint64_t m, int e);

/*
 * Helpers of exact floating-point arithmetic, shared with the standard
 * deviation (stats.c). Exact only as written: -ffp-contract=off, no
 * -ffast-math.
 */

#define KA_XSUM_SPLITTER 134217729.0 /* 2^27 + 1, Dekker's split */

/* 2^e for e in [-1074, 1023], built from its bits. */
static inline double ka_xsum_pow2(int e)
{
        assert(e >= -1074 && e <= 1023);
        return e >= -1022 ? ka_bits_double((uint64_t)(e + 1023) << 52)
                          : ka_bits_double(UINT64_C(1) << (e + 1074));
}

/* floor(log2(|x|)) of a finite non-zero x, subnormals included. */
static inline int ka_xsum_ilogb(double x)
{
        uint64_t u = ka_double_bits(x);
        int be = (int)(u >> 52) & 0x7ff;

        if (be)
                return be - 1023;
        return -1011 - __builtin_clzll(u << 1 >> 1);
}

/* s + e == a + b exactly, s the rounded sum (Knuth's two-sum). */
static inline void ka_xsum_two_sum(double a, double b, double *s, double *e)
{
        double t = a + b, bb = t - a;

        *e = (a - (t - bb)) + (b - bb);
        *s = t;
}

/* ka_xsum_two_sum() for |a| >= |b| (or a == 0), in three operations. */
static inline void ka_xsum_fast_two_sum(double a, double b, double *s,
                                        double *e)
{
        double t = a + b;

        *e = b - (t - a);
        *s = t;
}

/* p + e == a * b exactly, p the rounded product (Dekker, no FMA). */
static inline void ka_xsum_two_prod(double a, double b, double *p, double *e)
{
        double ta = KA_XSUM_SPLITTER * a, tb = KA_XSUM_SPLITTER * b;
        double ah = ta - (ta - a), al = a - ah;
        double bh = tb - (tb - b), bl = b - bh;

        *p = a * b;
        *e = ((ah * bh - *p) + ah * bl + al * bh) + al * bl;
}

#endif
