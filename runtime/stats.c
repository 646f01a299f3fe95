/*
 * Window statistics (SPEC §7), bit for bit those of CPython 3.11's
 * statistics module: exact sums rounded once for mean and sum, a
 * double-double sum of squared deviations for stdev, and one multi-rank
 * selection (not a sort: value-range buckets, then quickselect where they
 * do not split the values) serving median, q1 and q3.
 */
#include "stats.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;
/*
 * Two doubles, for the element-wise loops of the sums: GCC and clang
 * vector extensions, one SSE2 operation on x86-64. (Four-double vectors
 * need AVX; on baseline x86-64 the compiler emulates their broadcasts
 * through memory, slow for small windows.) The loops run two vectors at a
 * time, for independent dependency chains.
 */
#define VW 2
typedef double vecd_t __attribute__((vector_size(VW * sizeof(double))));
typedef int64_t veci_t __attribute__((vector_size(VW * sizeof(int64_t))));

/* Buckets of select_buckets(), at most: 64 KB of counts. */
#define BUCKETS_MAX ((size_t)1 << 14)
/* Windows up to this size are scattered whole by select_buckets(). */
#define SCATTER_MAX 4096
/* Largest window where one or two ranks go to select_buckets(). */
#define BUCKETS_FEW_RANKS_MAX 256
/* Marks a wanted bucket in select_buckets() (starts are below 2^31). */
#define BUCKET_MARK (UINT32_C(1) << 31)
/* Ranks asked of a selection, at most: two each for median, q1, q3. */
#define MAX_RANKS 6
/* Ranges this short are sorted by a network instead of partitioned. */
#define SMALL 16
/* Ranges this long get pivots from a sample of 15 (pivot_sampled()). */
#define SAMPLED_PIVOT_MIN 128
/* How far, in steps of that sample, a pivot stays from close ranks. */
#define SAMPLE_MARGIN 1.5

/*
 * The exact sum in 32-bit digits of a fixed-point number whose unit is
 * 2^-1074 (the smallest subnormal): a 53-bit mantissa shifted by up to 31
 * spans three digits, the largest double reaches digit 65, and the rest
 * is headroom for carries. Digits are int64_t, so 2^30 values can be added
 * before carries must be propagated.
 */
#define NDIGITS      72
#define NLIMBS       (NDIGITS / 2 + 2)
#define DIGIT_BUDGET (1u << 30)
#define EXP_MASK     0x7ffu
#define FRAC_MASK    ((UINT64_C(1) << 52) - 1)
#define HIDDEN_BIT   (UINT64_C(1) << 52)
#define INF_BITS     UINT64_C(0x7ff0000000000000)
#define SPLITTER     134217729.0 /* 2^27 + 1, Dekker's split */

struct ka_stats_s {
        double *buf;   /* the column's non-NaN values, then permuted */
        double *tmp;   /* target of out-of-place partitions */
        uint32_t *cnt; /* bucket counts of select_buckets() */
        uint32_t *idx; /* each value's bucket, up to SCATTER_MAX values */
        size_t cap;
        uint64_t rng; /* pivots once deterministic ones went badly */
};

/* An exact sum: (-1)^neg * mag * 2^e2, mag little-endian 64-bit limbs. */
typedef struct xsum_s {
        uint64_t mag[NLIMBS];
        size_t len; /* limbs in use; mag[len - 1] != 0 unless len == 0 */
        int e2;
        bool neg;
        /* When fp: the same sum is hi + lo exactly, two unscaled doubles. */
        bool fp;
        double hi, lo;
} xsum_t;

ka_stats_t *ka_stats_new(void)
{
        ka_stats_t *st = calloc(1, sizeof(*st));

        if (st)
                st->rng = UINT64_C(0x9e3779b97f4a7c15);
        return st;
}

void ka_stats_destroy(ka_stats_t *st)
{
        if (!st)
                return;
        free(st->buf);
        free(st->tmp);
        free(st->cnt);
        free(st->idx);
        free(st);
}

static ka_err_t grow(ka_stats_t *st, size_t n)
{
        size_t cap = st->cap ? st->cap : 64;
        double *buf, *tmp;
        uint32_t *cnt, *idx;

        if (n <= st->cap)
                return KA_OK;
        while (cap < n) {
                if (cap > SIZE_MAX / 2 / sizeof(double))
                        return KA_ERR_NOMEM;
                cap *= 2;
        }
        /* Contents need not survive: free and allocate, no copying. */
        buf = malloc(cap * sizeof(double));
        tmp = malloc(cap * sizeof(double));
        cnt = malloc((cap < BUCKETS_MAX ? cap : BUCKETS_MAX) * sizeof(*cnt));
        idx = malloc((cap < SCATTER_MAX ? cap : SCATTER_MAX) * sizeof(*idx));
        if (!buf || !tmp || !cnt || !idx) {
                free(buf);
                free(tmp);
                free(cnt);
                free(idx);
                return KA_ERR_NOMEM;
        }
        free(st->buf);
        free(st->tmp);
        free(st->cnt);
        free(st->idx);
        st->idx = idx;
        st->buf = buf;
        st->tmp = tmp;
        st->cnt = cnt;
        st->cap = cap;
        return KA_OK;
}

static int clz128(u128 q)
{
        uint64_t hi = (uint64_t)(q >> 64);

        return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)q);
}

/* 2^e for e in [-1074, 1023], built from its bits. */
static double pow2(int e)
{
        assert(e >= -1074 && e <= 1023);
        return e >= -1022 ? ka_bits_double((uint64_t)(e + 1023) << 52)
                          : ka_bits_double(UINT64_C(1) << (e + 1074));
}

/* floor(log2(|x|)) of a finite non-zero x, subnormals included. */
static int exponent_of(double x)
{
        uint64_t u = ka_double_bits(x);
        int be = (int)(u >> 52) & (int)EXP_MASK;

        if (be)
                return be - 1023;
        return -1011 - __builtin_clzll(u << 1 >> 1);
}

/*
 * Pass one: copies the non-NaN values of v[0..n) to buf, without a branch,
 * and finds their min and max. Four lanes hide the latency of the
 * compares; merging lanes may pick another of equal values, which only
 * matters for signed zeros, fixed by first_zero(). A NaN fails every
 * compare and so never becomes the min or max.
 */
#define MINMAX_LANE(x, mn, mx)                                                 \
        do {                                                                   \
                mn = (x) < mn ? (x) : mn;                                      \
                mx = (x) > mx ? (x) : mx;                                      \
        } while (0)

static size_t gather(const double *v, size_t n, double *buf, double *mnp,
                     double *mxp)
{
        double mn0 = INFINITY, mn1 = INFINITY, mn2 = INFINITY, mn3 = INFINITY;
        double mx0 = -INFINITY, mx1 = -INFINITY, mx2 = -INFINITY,
               mx3 = -INFINITY;
        size_t i = 0, k = 0;

        for (; i + 4 <= n; i += 4) {
                double x0 = v[i], x1 = v[i + 1], x2 = v[i + 2], x3 = v[i + 3];

                buf[k] = x0;
                k += x0 == x0;
                buf[k] = x1;
                k += x1 == x1;
                buf[k] = x2;
                k += x2 == x2;
                buf[k] = x3;
                k += x3 == x3;
                MINMAX_LANE(x0, mn0, mx0);
                MINMAX_LANE(x1, mn1, mx1);
                MINMAX_LANE(x2, mn2, mx2);
                MINMAX_LANE(x3, mn3, mx3);
        }
        for (; i < n; i++) {
                buf[k] = v[i];
                k += v[i] == v[i];
                MINMAX_LANE(v[i], mn0, mx0);
        }
        mn0 = mn1 < mn0 ? mn1 : mn0;
        mn2 = mn3 < mn2 ? mn3 : mn2;
        mn0 = mn2 < mn0 ? mn2 : mn0;
        mx0 = mx1 > mx0 ? mx1 : mx0;
        mx2 = mx3 > mx2 ? mx3 : mx2;
        mx0 = mx2 > mx0 ? mx2 : mx0;
        *mnp = mn0;
        *mxp = mx0;
        return k;
}

/* gather() without the copy, for min and max alone. */
static size_t minmax(const double *v, size_t n, double *mnp, double *mxp)
{
        double mn0 = INFINITY, mn1 = INFINITY, mx0 = -INFINITY, mx1 = -INFINITY;
        size_t i = 0, k = 0;

        for (; i + 2 <= n; i += 2) {
                k += (size_t)(v[i] == v[i]) + (v[i + 1] == v[i + 1]);
                MINMAX_LANE(v[i], mn0, mx0);
                MINMAX_LANE(v[i + 1], mn1, mx1);
        }
        if (i < n) {
                k += v[i] == v[i];
                MINMAX_LANE(v[i], mn0, mx0);
        }
        mn0 = mn1 < mn0 ? mn1 : mn0;
        mx0 = mx1 > mx0 ? mx1 : mx0;
        *mnp = mn0;
        *mxp = mx0;
        return k;
}

/* The first zero of v in arrival order: min() and max() keep it. */
static double first_zero(const double *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (v[i] == 0)
                        return v[i];
        }
        return 0.0;
}

/*
 * Selection sees 0.0 and -0.0 as equal and may return either (or one
 * twice). CPython's sorted() is stable: its zeros keep their arrival
 * order, after every negative value. This gives each zero rank (rk
 * ascending) the sign CPython's would have, with one or two passes over v,
 * only when a selected value is zero.
 */
static void fix_zero_ranks(const double *v, size_t n, const size_t *rk,
                           double *rv, size_t nrk)
{
        size_t nneg = 0, npos0 = 0, nneg0 = 0, z = 0, r = 0;

        for (size_t i = 0; i < nrk; i++) {
                if (rv[i] == 0)
                        goto fix;
        }
        return;
fix:
        for (size_t i = 0; i < n; i++) {
                nneg += v[i] < 0;
                if (v[i] == 0) {
                        if (signbit(v[i]))
                                nneg0++;
                        else
                                npos0++;
                }
        }
        if (nneg0 == 0 || npos0 == 0) {
                for (size_t i = 0; i < nrk; i++) {
                        if (rv[i] == 0)
                                rv[i] = nneg0 ? -0.0 : 0.0;
                }
                return;
        }
        for (size_t i = 0; i < n && r < nrk; i++) {
                if (v[i] != 0)
                        continue;
                while (r < nrk && (rv[r] != 0 || rk[r] < nneg + z)) {
                        assert(rv[r] != 0);
                        r++;
                }
                if (r < nrk && rk[r] == nneg + z)
                        rv[r++] = v[i];
                z++;
        }
}

/*
 * Correctly rounded (-1)^neg * (q + f) * 2^e, f in (0, 1) when sticky and
 * 0 otherwise, with gradual underflow and overflow to infinity. The bits
 * below q must not decide a tie alone: callers pass q with 64 or more
 * significant bits, so sticky lies below the rounding bit.
 */
static double round_u128(u128 q, int e, bool sticky, bool neg)
{
        uint64_t m, bits;
        int nbits, lsb, sh;

        if (q == 0)
                return 0.0;
        nbits = 128 - clz128(q);
        lsb = e + nbits - 53; /* exponent of the result's last place */
        if (lsb < -1074)
                lsb = -1074;
        sh = lsb - e;
        if (sh <= 0) {
                m = (uint64_t)(q << -sh);
        } else {
                bool half, rest;

                m = sh >= 128 ? 0 : (uint64_t)(q >> sh);
                half = sh - 1 < 128 && ((q >> (sh - 1)) & 1);
                rest = sticky ||
                       (sh - 1 >= 128
                                ? q != 0
                                : (q & ((((u128)1) << (sh - 1)) - 1)) != 0);
                if (half && (rest || (m & 1)))
                        m++;
        }
        /*
         * The biased exponent field is lsb + 1075 for a normal double with
         * the hidden bit in m; adding m with the hidden bit to one less
         * makes a carry out of the mantissa bump the exponent, and makes a
         * subnormal (lsb == -1074, m < 2^52) come out right.
         */
        bits = ((uint64_t)(lsb + 1074) << 52) + m;
        if (bits >= INF_BITS)
                bits = INF_BITS;
        return ka_bits_double(bits | (uint64_t)neg << 63);
}

/* Correctly rounded value of an exact sum. */
static double xsum_round(const xsum_t *xs)
{
        u128 top;
        bool sticky = false;

        if (xs->len == 0)
                return 0.0; /* CPython's exact zero is +0.0 */
        if (xs->len <= 2) {
                top = xs->mag[0];
                if (xs->len == 2)
                        top |= (u128)xs->mag[1] << 64;
                return round_u128(top, xs->e2, false, xs->neg);
        }
        top = (u128)xs->mag[xs->len - 1] << 64 | xs->mag[xs->len - 2];
        for (size_t i = 0; i + 2 < xs->len; i++)
                sticky |= xs->mag[i] != 0;
        return round_u128(top, xs->e2 + 64 * (int)(xs->len - 2), sticky,
                          xs->neg);
}

/* Correctly rounded exact sum / n (statistics.mean()). */
static double xsum_div_round(const xsum_t *xs, uint64_t n)
{
        uint64_t q[NLIMBS + 2];
        u128 a, rem = 0, top;
        size_t len;
        bool sticky = false;

        if (xs->len == 0)
                return 0.0;
        if (xs->len <= 2) {
                /*
                 * Scaled so that the quotient has 62 to 64 bits: one
                 * 128-by-64-bit division instead of two. Bits shifted out
                 * only feed the sticky bit (floor(floor(a / 2^s) / n) is
                 * floor(a / (2^s n))).
                 */
                int nbits = 64 - __builtin_clzll(n), sh;
                bool lost = false;

                a = xs->mag[0];
                if (xs->len == 2)
                        a |= (u128)xs->mag[1] << 64;
                sh = (128 - clz128(a)) - (63 + nbits);
                if (sh > 0) {
                        lost = (a & ((((u128)1) << sh) - 1)) != 0;
                        a >>= sh;
                } else {
                        a <<= -sh;
                }
                top = a / n;
                return round_u128(top, xs->e2 + sh, lost || top * n != a,
                                  xs->neg);
        }
        /* Long division of mag * 2^128 by n, one limb at a time. */
        len = xs->len + 2;
        q[0] = q[1] = 0;
        memcpy(q + 2, xs->mag, xs->len * sizeof(uint64_t));
        for (size_t i = len; i-- > 0;) {
                u128 cur = rem << 64 | q[i];

                q[i] = (uint64_t)(cur / n);
                rem = cur % n;
        }
        while (len > 0 && q[len - 1] == 0)
                len--;
        assert(len >= 2);
        top = (u128)q[len - 1] << 64 | q[len - 2];
        sticky = rem != 0;
        for (size_t i = 0; i + 2 < len; i++)
                sticky |= q[i] != 0;
        return round_u128(top, xs->e2 - 128 + 64 * (int)(len - 2), sticky,
                          xs->neg);
}

/*
 * The position of a finite double's last mantissa bit in units of 2^-1074
 * (0 for subnormals, biased exponent - 1 otherwise) and its integer
 * mantissa.
 */
static int lsb_pos(uint64_t u, uint64_t *m)
{
        unsigned be = (unsigned)(u >> 52) & EXP_MASK;

        *m = (u & FRAC_MASK) | (be ? HIDDEN_BIT : 0);
        return (int)be - (be != 0);
}

/*
 * Fast exact sum: when every value is a multiple of 2^(p0 - 1074), the sum
 * is a 128-bit integer in that unit. p0 leaves headroom for n values as
 * large as the largest, so the accumulator cannot overflow; a value with
 * mantissa bits below the unit (more than about 2^60 times smaller than
 * the largest) makes it give up.
 */
static bool sum_fast(const double *x, size_t n, int pmax, xsum_t *xs)
{
        int log2n = n > 1 ? 64 - __builtin_clzll((uint64_t)n - 1) : 0;
        int p0 = pmax + 53 + log2n - 127;
        u128 acc = 0, mag;

        if (p0 < 0)
                p0 = 0;
        for (size_t i = 0; i < n; i++) {
                uint64_t u = ka_double_bits(x[i]), m;
                int sh = lsb_pos(u, &m) - p0;
                u128 v, sign = -(u128)(u >> 63);

                if (sh < 0) {
                        if (sh <= -53) {
                                if (m)
                                        return false;
                                continue;
                        }
                        if (m & ((UINT64_C(1) << -sh) - 1))
                                return false;
                        m >>= -sh;
                        sh = 0;
                }
                v = (u128)m << sh;
                acc += (v ^ sign) - sign;
        }
        xs->neg = (acc >> 127) != 0;
        mag = xs->neg ? -acc : acc;
        xs->mag[0] = (uint64_t)mag;
        xs->mag[1] = (uint64_t)(mag >> 64);
        xs->len = xs->mag[1] ? 2 : xs->mag[0] ? 1 : 0;
        xs->e2 = p0 - 1074;
        return true;
}

/* Propagates carries so that digits 0..NDIGITS-2 lie in [0, 2^32). */
static void digits_carry(int64_t *d)
{
        int64_t carry = 0;

        for (size_t i = 0; i < NDIGITS; i++) {
                int64_t t = d[i] + carry;

                /* Arithmetic shift (GCC): floor division by 2^32. */
                carry = t >> 32;
                d[i] = i + 1 < NDIGITS ? (int64_t)(uint32_t)t : t;
        }
}

/* Exact sum over the whole double range, for any finite values. */
static void sum_slow(const double *x, size_t n, xsum_t *xs)
{
        int64_t d[NDIGITS] = {0};
        uint32_t w[NDIGITS];
        unsigned budget = DIGIT_BUDGET;
        bool neg;

        for (size_t i = 0; i < n; i++) {
                uint64_t u = ka_double_bits(x[i]), m;
                int p = lsb_pos(u, &m);
                size_t at = (size_t)p / 32;
                u128 v = (u128)m << (p % 32);
                int64_t c0 = (int64_t)(uint32_t)v;
                int64_t c1 = (int64_t)(uint32_t)(v >> 32);
                int64_t c2 = (int64_t)(v >> 64);

                if (u >> 63) {
                        d[at] -= c0;
                        d[at + 1] -= c1;
                        d[at + 2] -= c2;
                } else {
                        d[at] += c0;
                        d[at + 1] += c1;
                        d[at + 2] += c2;
                }
                if (--budget == 0) {
                        digits_carry(d);
                        budget = DIGIT_BUDGET;
                }
        }
        digits_carry(d);
        /* The top digit is now the sign: 0 or -1 (headroom). */
        neg = d[NDIGITS - 1] < 0;
        for (size_t i = 0; i < NDIGITS; i++)
                w[i] = (uint32_t)d[i];
        if (neg) {
                uint32_t carry = 1;

                for (size_t i = 0; i < NDIGITS; i++) {
                        uint64_t t = (uint64_t)(uint32_t)~w[i] + carry;

                        w[i] = (uint32_t)t;
                        carry = (uint32_t)(t >> 32);
                }
        }
        xs->neg = neg;
        xs->e2 = -1074;
        xs->len = 0;
        for (size_t i = 0; i < NDIGITS / 2; i++) {
                xs->mag[i] = (uint64_t)w[2 * i + 1] << 32 | w[2 * i];
                if (xs->mag[i])
                        xs->len = i + 1;
        }
}

/* One step of sum_split() on the VW values at x, times scale. */
static inline void split_step(const double *x, double scale, double sig1,
                              double sig2, vecd_t *a1, vecd_t *a2, veci_t *rest)
{
        vecd_t v, h, r, h2;

        memcpy(&v, x, sizeof(v));
        v *= scale;
        h = (v + sig1) - sig1;
        r = v - h;
        h2 = (r + sig2) - sig2;
        *a1 += h;
        *a2 += h2;
        /* any bit below u2 (the sign of a -0.0 does not count) */
        *rest |= (veci_t)(r - h2) & INT64_MAX;
}

/* split_step() on one value, for the last ones. */
static inline void split_step1(double v, double sig1, double sig2, double *a1,
                               double *a2, uint64_t *rest)
{
        double h = (v + sig1) - sig1, r = v - h;
        double h2 = (r + sig2) - sig2;

        *a1 += h;
        *a2 += h2;
        *rest |= ka_double_bits(r - h2) & ~(UINT64_C(1) << 63);
}

/*
 * Fastest exact sum, in floating point. With n <= 2^L values below 2^(e+1)
 * in magnitude, adding then subtracting sig1 = 1.5 * 2^(e+L) rounds a
 * value to a multiple h of u1 = 2^(e+L-52) and x - h is the exact rest;
 * sums of n such multiples never exceed 2^53 * u1, so adding them is
 * exact in any order (vector lanes, no carries). The rests go through the
 * same split once more, with u2 = 2^(e+2L-106); a value with bits left
 * below u2 (one about 2^(104-2L) times smaller than the largest) makes it
 * give up. Tiny values are scaled up by 2^600 first (exact) so that u2 is
 * not below the subnormal grid; values so large that sig1 would overflow
 * are left to sum_fast(). Needs -ffp-contract=off and no -ffast-math:
 * (x + sig) - sig must be computed as written.
 */
static bool sum_split(const double *x, size_t n, double amax, xsum_t *xs)
{
        int L = n > 8 ? 64 - __builtin_clzll((uint64_t)n - 1) : 3;
        int e = exponent_of(amax), k = 0;
        vecd_t a1 = {0}, a2 = {0}, b1 = {0}, b2 = {0};
        veci_t rest = {0};
        double scale, sig1, sig2, u1, u2, s1 = 0, s2 = 0;
        uint64_t bits = 0;
        int64_t k1, k2;
        u128 mag;
        __extension__ __int128 sum;
        size_t i = 0;

        if (e + 2 * L < -968) {
                k = 600;
                e += k;
        }
        if (e + L > 1022 || L > 54)
                return false;
        scale = pow2(k);
        sig1 = 1.5 * pow2(e + L);
        sig2 = 1.5 * pow2(e + 2 * L - 54);
        for (; i + 2 * VW <= n; i += 2 * VW) {
                split_step(x + i, scale, sig1, sig2, &a1, &a2, &rest);
                split_step(x + i + VW, scale, sig1, sig2, &b1, &b2, &rest);
        }
        for (; i < n; i++)
                split_step1(x[i] * scale, sig1, sig2, &s1, &s2, &bits);
        /* Exact in any order. */
        a1 += b1;
        a2 += b2;
        for (size_t l = 0; l < VW; l++) {
                bits |= (uint64_t)rest[l];
                s1 += a1[l];
                s2 += a2[l];
        }
        if (bits)
                return false;
        u1 = pow2(e + L - 52);
        u2 = pow2(e + 2 * L - 106);
        k1 = (int64_t)(s1 / u1);
        k2 = (int64_t)(s2 / u2);
        sum = (__extension__(__int128) k1 * ((__int128)1 << (54 - L))) + k2;
        xs->neg = sum < 0;
        mag = xs->neg ? -(u128)sum : (u128)sum;
        xs->mag[0] = (uint64_t)mag;
        xs->mag[1] = (uint64_t)(mag >> 64);
        xs->len = xs->mag[1] ? 2 : xs->mag[0] ? 1 : 0;
        xs->e2 = e + 2 * L - 106 - k;
        xs->fp = k == 0;
        xs->hi = s1;
        xs->lo = s2;
        return true;
}

/* Exact sum of finite x[0..n); amax is the largest magnitude. */
static void sum_exact(const double *x, size_t n, double amax, xsum_t *xs)
{
        uint64_t m;

        xs->fp = false;
        if (amax == 0) {
                xs->len = 0;
                xs->neg = false;
                xs->e2 = 0;
                return;
        }
        if (sum_split(x, n, amax, xs))
                return;
        if (!sum_fast(x, n, lsb_pos(ka_double_bits(amax), &m), xs))
                sum_slow(x, n, xs);
}

/* Double-double arithmetic (no FMA: -ffp-contract=off). */
static void two_sum(double a, double b, double *s, double *e)
{
        double t = a + b, bb = t - a;

        *e = (a - (t - bb)) + (b - bb);
        *s = t;
}

static void fast_two_sum(double a, double b, double *s, double *e)
{
        double t = a + b;

        *e = b - (t - a);
        *s = t;
}

static void two_prod(double a, double b, double *p, double *e)
{
        double ta = SPLITTER * a, tb = SPLITTER * b;
        double ah = ta - (ta - a), al = a - ah;
        double bh = tb - (tb - b), bl = b - bh;

        *p = a * b;
        *e = ((ah * bh - *p) + ah * bl + al * bh) + al * bl;
}

/*
 * (ah + al) / b to about 2^-104, given inv within an ulp or two of 1 / b:
 * the first quotient need not be correctly rounded, the remainder (exact
 * up to al) corrects it, so no division lies on the dependency chain.
 */
static void dd_div(double ah, double al, double b, double inv, double *qh,
                   double *ql)
{
        double q1 = ah * inv, p, pe, r;

        two_prod(q1, b, &p, &pe);
        r = ((ah - p) - pe + al) * inv;
        fast_two_sum(q1, r, qh, ql);
}

/*
 * The correctly rounded sum of an exact sum held as two doubles: one
 * IEEE addition (overflow and gradual underflow included).
 */
static double xsum_round_fp(const xsum_t *xs)
{
        return xs->hi + xs->lo;
}

/*
 * statistics.mean() from an exact sum held as two doubles, without the
 * 128-bit division of xsum_div_round(): q = h / n is within 1.5 ulp of the
 * true mean, and the remainder S - q n, computed to within err, says
 * whether q or its neighbour is the correctly rounded mean. Returns false
 * when that is too close to call (a tie, or nearly), when q is a power of
 * two (an uneven ulp below it) or beyond 2^+-900 (Dekker's split
 * overflows, the remainder underflows), for the exact path to decide.
 */
static bool mean_fp(const xsum_t *xs, double n, double *mean)
{
        double h, l, q, p, pe, a, r, err, half, ulp;
        uint64_t u;

        two_sum(xs->hi, xs->lo, &h, &l);
        q = h / n;
        u = ka_double_bits(q);
        if (!(fabs(q) >= 0x1p-900 && fabs(q) <= 0x1p900) ||
            (u & FRAC_MASK) == 0)
                return false;
        two_prod(q, n, &p, &pe);
        a = h - p; /* exact: p is within an ulp or two of h */
        r = (a - pe) + l;
        err = 0x1p-50 * (fabs(a) + fabs(pe) + fabs(l));
        ulp = pow2(exponent_of(q) - 52);
        half = 0.5 * n * ulp;
        if (fabs(r) + err < half) {
                *mean = q;
                return true;
        }
        if (fabs(r) - err > half && fabs(r) + err < 3 * half) {
                /* The neighbour towards the remainder's side. */
                *mean = ka_bits_double((r > 0) == (q > 0) ? u + 1 : u - 1);
                return true;
        }
        return false;
}

/*
 * (h + l) * 2^k rounded once to a double, also when the result is
 * subnormal, where scaling the rounded h would round twice.
 */
static double dd_scale(double h, double l, int k)
{
        double r = h * pow2(k), t, tl, ri, diff;

        if (fabs(r) >= 0x1p-1022 || h == 0)
                return r;       /* exact, or an overflow to inf */
        t = ldexp(h, 1074 + k); /* in units of the smallest subnormal */
        tl = ldexp(l, 1074 + k);
        ri = nearbyint(t);
        diff = (t - ri) + tl;
        if (diff > 0.5 || (diff == 0.5 && fmod(ri, 2.0) != 0))
                ri += 1;
        else if (diff < -0.5 || (diff == -0.5 && fmod(ri, 2.0) != 0))
                ri -= 1;
        return ldexp(ri, -1074);
}

/*
 * One step of stdev_dd() on the VW values at x, times s: the deviation
 * v - c (ncs is -c s) as an exact double-double (two-sum), its square as
 * an exact double-double (Dekker), added to the sum of squares (qh + ql)
 * and of deviations (th + tl).
 */
static inline void sq_step(const double *x, double s, double ncs, vecd_t *qh,
                           vecd_t *ql, vecd_t *th, vecd_t *tl)
{
        vecd_t v, dh, bb, dl, t, h, lo, p, pe, qs, b2;

        memcpy(&v, x, sizeof(v));
        v *= s;
        dh = v + ncs;
        bb = dh - v;
        dl = (v - (dh - bb)) + (ncs - bb);
        t = SPLITTER * dh;
        h = t - (t - dh);
        lo = dh - h;
        p = dh * dh;
        pe = ((h * h - p) + (h + h) * lo) + lo * lo + (dh + dh) * dl;
        qs = *qh + p;
        b2 = qs - *qh;
        *ql += ((*qh - (qs - b2)) + (p - b2)) + pe;
        *qh = qs;
        *th += dh;
        *tl += dl;
}

/* sq_step() on one value, for the last ones. */
static inline void sq_step1(double v, double ncs, double *qh, double *ql,
                            double *th, double *tl)
{
        double dh, dl, p, pe, qs, qe;

        two_sum(v, ncs, &dh, &dl);
        two_prod(dh, dh, &p, &pe);
        pe += (dh + dh) * dl;
        two_sum(*qh, p, &qs, &qe);
        *qh = qs;
        *ql += qe + pe;
        *th += dh;
        *tl += dl;
}

/* Lane-wise (h, l) += (h2, l2), exact on the high parts. */
static inline void vdd_add(vecd_t *h, vecd_t *l, const vecd_t *h2,
                           const vecd_t *l2)
{
        vecd_t s = *h + *h2, bb = s - *h;

        *l += ((*h - (s - bb)) + (*h2 - bb)) + *l2;
        *h = s;
}

/* Adds the two lanes of (hv, lv) to the double-double (h, l). */
static inline void dd_add_lanes(const vecd_t *hv, const vecd_t *lv, double *h,
                                double *l)
{
        double s, e;

        two_sum((*hv)[0], (*hv)[1], &s, &e);
        e += (*lv)[0] + (*lv)[1];
        two_sum(*h, s, h, &s);
        *l += s + e;
}

/*
 * The end of stdev_dd() and stdev_sterbenz(): the standard deviation from
 * the sum of squared deviations Q = Qh + Ql and the sum of deviations
 * T = Th + Tl around c, both scaled by 2^-k, as double-doubles.
 */
static double stdev_finish(double Qh, double Ql, double Th, double Tl, size_t n,
                           int k)
{
        double nd = (double)n, nn1 = nd * (nd - 1), inv = 1 / nn1;
        double a, b, sh, sl, vh, vl, r, d, e;

        fast_two_sum(Qh, Ql, &Qh, &Ql);
        fast_two_sum(Th, Tl, &Th, &Tl);
        /* var = (n Q - T^2) / (n (n - 1)) */
        two_prod(Qh, nd, &sh, &sl);
        sl += Ql * nd;
        two_prod(Th, Th, &a, &b);
        b += (Th + Th) * Tl;
        two_sum(sh, -a, &sh, &e);
        fast_two_sum(sh, e + sl - b, &sh, &sl);
        if (sh <= 0)
                return 0.0;
        if (n < (UINT64_C(1) << 26)) {
                dd_div(sh, sl, nn1, inv, &vh, &vl); /* nn1 is exact */
        } else {
                dd_div(sh, sl, nd, 1 / nd, &vh, &vl);
                dd_div(vh, vl, nd - 1, 1 / (nd - 1), &vh, &vl);
        }
        /* sqrt of a double-double: one Newton step from sqrt(vh) */
        r = sqrt(vh);
        two_prod(r, r, &a, &b);
        d = ((vh - a) - b + vl) / (r + r);
        fast_two_sum(r, d, &r, &d);
        return dd_scale(r, d, k);
}

/*
 * Sample standard deviation of finite x[0..n), n >= 2, around c, their
 * correctly rounded mean; amax is the largest magnitude.
 *
 * CPython takes the exact sum of squared deviations. Here the values are
 * first scaled by a power of two so that |x| < 2 (no overflow of squares
 * near 1e300, no underflow near 1e-300), each deviation x - c is exact as
 * a double-double, its square exact as a double-double, and the sum of
 * squares Q and of deviations T are kept to about 2^-100. Then
 * SS = Q - T^2 / n is the sum of squares around the true mean: c within
 * half an ulp of it bounds the cancellation to a bit or two, so the
 * result is correctly rounded unless it lies within about 2^-95 ulp of a
 * tie.
 */
static double stdev_dd(const double *x, size_t n, double c, double amax)
{
        vecd_t qh0 = {0}, ql0 = {0}, th0 = {0}, tl0 = {0};
        vecd_t qh1 = {0}, ql1 = {0}, th1 = {0}, tl1 = {0};
        double s, ncs, Qh = 0, Ql = 0, Th = 0, Tl = 0;
        size_t i = 0;
        int k;

        if (amax == 0)
                return 0.0;
        k = exponent_of(amax);
        if (k < -1022)
                k = -1022; /* 2^1022 lifts the smallest subnormal enough */
        s = pow2(-k);
        ncs = -(c * s);
        for (; i + 2 * VW <= n; i += 2 * VW) {
                sq_step(x + i, s, ncs, &qh0, &ql0, &th0, &tl0);
                sq_step(x + i + VW, s, ncs, &qh1, &ql1, &th1, &tl1);
        }
        for (; i < n; i++)
                sq_step1(x[i] * s, ncs, &Qh, &Ql, &Th, &Tl);
        vdd_add(&qh0, &ql0, &qh1, &ql1);
        vdd_add(&th0, &tl0, &th1, &tl1);
        dd_add_lanes(&qh0, &ql0, &Qh, &Ql);
        dd_add_lanes(&th0, &tl0, &Th, &Tl);
        return stdev_finish(Qh, Ql, Th, Tl, n, k);
}

/*
 * The exact error of d * d (d = dh, p = dh * dh) as a vector: Dekker's
 * product, or one fused multiply-subtract where the CPU has it. Both are
 * exact, so the results do not depend on which ran.
 */
static inline vecd_t sq_err(vecd_t dh, vecd_t p)
{
        vecd_t t = SPLITTER * dh, h = t - (t - dh), lo = dh - h;

        return ((h * h - p) + (h + h) * lo) + lo * lo;
}

/*
 * Sum of squared deviations Q of x[0..n) around -ncs / s, as the lanes of
 * (qh + ql), when every x s + ncs is exact (Sterbenz): each square is
 * exact as p + sq_err(), added by two-sum. Written once, compiled twice.
 */
#define SQ_STERBENZ_BODY(ERR)                                                  \
        do {                                                                   \
                vecd_t qh0 = {0}, ql0 = {0}, qh1 = {0}, ql1 = {0};             \
                size_t i_ = 0;                                                 \
                for (; i_ + 2 * VW <= n; i_ += 2 * VW) {                       \
                        vecd_t v0, v1, d0, d1, p0, p1, t0, t1, b0, b1;         \
                        memcpy(&v0, x + i_, sizeof(v0));                       \
                        memcpy(&v1, x + i_ + VW, sizeof(v1));                  \
                        d0 = v0 * s + ncs;                                     \
                        d1 = v1 * s + ncs;                                     \
                        p0 = d0 * d0;                                          \
                        p1 = d1 * d1;                                          \
                        t0 = qh0 + p0;                                         \
                        t1 = qh1 + p1;                                         \
                        b0 = t0 - qh0;                                         \
                        b1 = t1 - qh1;                                         \
                        ql0 += ((qh0 - (t0 - b0)) + (p0 - b0)) + ERR(d0, p0);  \
                        ql1 += ((qh1 - (t1 - b1)) + (p1 - b1)) + ERR(d1, p1);  \
                        qh0 = t0;                                              \
                        qh1 = t1;                                              \
                }                                                              \
                vdd_add(&qh0, &ql0, &qh1, &ql1);                               \
                *qh = qh0;                                                     \
                *ql = ql0;                                                     \
                return i_;                                                     \
        } while (0)

static size_t sq_sterbenz(const double *x, size_t n, double s, double ncs,
                          vecd_t *qh, vecd_t *ql)
{
        SQ_STERBENZ_BODY(sq_err);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("fma"))) static inline vecd_t sq_err_fma(vecd_t dh,
                                                               vecd_t p)
{
        return (vecd_t)_mm_fmsub_pd((__m128d)dh, (__m128d)dh, (__m128d)p);
}

__attribute__((target("fma"))) static size_t
sq_sterbenz_fma(const double *x, size_t n, double s, double ncs, vecd_t *qh,
                vecd_t *ql)
{
        SQ_STERBENZ_BODY(sq_err_fma);
}

static bool have_fma(void)
{
        static int fma = -1;

        if (fma < 0)
                fma = __builtin_cpu_supports("fma") ? 1 : 0;
        return fma;
}
#else
#define have_fma()      false
#define sq_sterbenz_fma sq_sterbenz
#endif

/*
 * stdev_dd() at half the cost for the common case of values within a
 * factor of two of their mean c (Sterbenz: each deviation x - c is then
 * exact as a double, no two-sum needed), the exact sum held as two
 * doubles (xs->fp) and amax within 2^+-900. The sum of deviations T comes
 * from the exact sum, T = S - n c. The squares are exact as double-
 * doubles, as in stdev_dd(), so the result is the same to within about
 * 2^-95 ulp. Returns false otherwise, for stdev_dd().
 */
static bool stdev_sterbenz(const double *x, size_t n, double c, double mn,
                           double mx, const xsum_t *xs, double *out)
{
        double amax = fabs(mn) > fabs(mx) ? fabs(mn) : fabs(mx);
        double s, ncs, Qh = 0, Ql = 0, h, l, p, pe, a, th, tl;
        vecd_t qh, ql;
        size_t i;
        int k;

        if (!xs->fp || !(amax >= 0x1p-900 && amax <= 0x1p900) ||
            n > (UINT64_C(1) << 40) || c == 0 ||
            !(c > 0 ? mn >= c / 2 && mx <= 2 * c : mx <= c / 2 && mn >= 2 * c))
                return false;
        k = exponent_of(amax);
        s = pow2(-k);
        ncs = -(c * s);
        i = have_fma() ? sq_sterbenz_fma(x, n, s, ncs, &qh, &ql)
                       : sq_sterbenz(x, n, s, ncs, &qh, &ql);
        for (; i < n; i++) {
                double d = x[i] * s + ncs, q, e;

                two_prod(d, d, &q, &e);
                two_sum(Qh, q, &Qh, &q);
                Ql += q + e;
        }
        dd_add_lanes(&qh, &ql, &Qh, &Ql);
        /*
         * T = S - n c: h and p lie within a few ulps of each other (c is
         * S / n rounded, and every value has c's sign), so h - p is exact.
         */
        two_sum(xs->hi, xs->lo, &h, &l);
        two_prod(c, (double)n, &p, &pe);
        a = h - p;
        two_sum(a, l - pe, &th, &tl);
        *out = stdev_finish(Qh, Ql, th * s, tl * s, n, k);
        return true;
}

/* Median of three without branches the compiler cannot turn into min/max. */
static double med3(double a, double b, double c)
{
        double lo = a < b ? a : b, hi = a < b ? b : a;

        hi = hi < c ? hi : c;
        return lo > hi ? lo : hi;
}

/* Pivot for a range too short for pivot_sampled(): median of 3. */
static double pivot_det(const double *a, size_t lo, size_t hi)
{
        return med3(a[lo], a[lo + (hi - lo) / 2], a[hi - 1]);
}

static size_t rand_below(ka_stats_t *st, size_t n)
{
        /* xorshift64 */
        st->rng ^= st->rng << 13;
        st->rng ^= st->rng >> 7;
        st->rng ^= st->rng << 17;
        return (size_t)(st->rng % n);
}

static double pivot_rand(ka_stats_t *st, const double *a, size_t lo, size_t hi)
{
        size_t len = hi - lo;

        return med3(a[lo + rand_below(st, len)], a[lo + rand_below(st, len)],
                    a[lo + rand_below(st, len)]);
}

/*
 * Out-of-place partitions of a[lo..hi) into b[lo..hi): values below p (or
 * not above p) to the front, the rest to the back. Each value is stored at
 * both ends and only one end advances: no branch to mispredict (half of
 * them would be on random data), and two plain stores beat one store to a
 * computed address.
 */
#define PART_STEP(x, below)                                                    \
        do {                                                                   \
                size_t in_ = (below);                                          \
                b[front] = (x);                                                \
                b[back] = (x);                                                 \
                front += in_;                                                  \
                back -= 1 - in_;                                               \
        } while (0)

static size_t part_lt(const double *a, double *b, size_t lo, size_t hi,
                      double p)
{
        size_t front = lo, back = hi - 1, i = lo;

        for (; i + 2 <= hi; i += 2) {
                double x = a[i], y = a[i + 1];

                PART_STEP(x, x < p);
                PART_STEP(y, y < p);
        }
        if (i < hi)
                PART_STEP(a[i], a[i] < p);
        return front;
}

static size_t part_le(const double *a, double *b, size_t lo, size_t hi,
                      double p)
{
        size_t front = lo, back = hi - 1, i = lo;

        for (; i + 2 <= hi; i += 2) {
                double x = a[i], y = a[i + 1];

                PART_STEP(x, x <= p);
                PART_STEP(y, y <= p);
        }
        if (i < hi)
                PART_STEP(a[i], a[i] <= p);
        return front;
}

/*
 * Sorting networks (Knuth's for 4 and 8 inputs, Green's 60 comparators
 * for 16, and for 12 Green's without the comparators that only touch the
 * padding) for ranges of up to SMALL values, padded with +inf: no branches,
 * and the compare-exchanges of one layer are independent. A
 * compare-exchange of 0.0 and -0.0 may keep one of them twice, which only
 * fix_zero_ranks() sees to.
 */
#define CS1(i, j)                                                              \
        do {                                                                   \
                double a_ = v[i], b_ = v[j];                                   \
                v[i] = a_ < b_ ? a_ : b_;                                      \
                v[j] = a_ > b_ ? a_ : b_;                                      \
        } while (0)
#define CS2(i, j, k, l)                                                        \
        do {                                                                   \
                CS1(i, j);                                                     \
                CS1(k, l);                                                     \
        } while (0)
#define CS3(i, j, k, l, m, o)                                                  \
        do {                                                                   \
                CS2(i, j, k, l);                                               \
                CS1(m, o);                                                     \
        } while (0)
#define CS4(i, j, k, l, m, o, p, q)                                            \
        do {                                                                   \
                CS2(i, j, k, l);                                               \
                CS2(m, o, p, q);                                               \
        } while (0)

static void sort_small(double *a, size_t n)
{
        double v[SMALL];

        assert(n <= SMALL);
        if (n < 2)
                return;
        memcpy(v, a, n * sizeof(double));
        for (size_t i = n; i < SMALL; i++)
                v[i] = INFINITY;
        if (n <= 4) {
                CS2(0, 1, 2, 3);
                CS2(0, 2, 1, 3);
                CS1(1, 2);
        } else if (n <= 8) {
                CS4(0, 2, 1, 3, 4, 6, 5, 7);
                CS4(0, 4, 1, 5, 2, 6, 3, 7);
                CS4(0, 1, 2, 3, 4, 5, 6, 7);
                CS2(2, 4, 3, 5);
                CS2(1, 4, 3, 6);
                CS3(1, 2, 3, 4, 5, 6);
        } else if (n <= 12) {
                CS4(4, 8, 5, 6, 7, 11, 9, 10);
                CS4(0, 5, 1, 7, 2, 9, 3, 4);
                CS4(0, 1, 2, 3, 4, 5, 6, 8);
                CS2(7, 9, 10, 11);
                CS4(0, 2, 1, 3, 4, 10, 5, 11);
                CS2(6, 7, 8, 9);
                CS4(1, 2, 4, 6, 5, 7, 8, 10);
                CS1(9, 11);
                CS4(1, 4, 2, 6, 5, 8, 7, 10);
                CS2(2, 4, 3, 6);
                CS3(3, 5, 6, 8, 7, 9);
                CS4(3, 4, 5, 6, 7, 8, 9, 10);
                CS2(6, 7, 8, 9);
        } else {
                CS4(0, 13, 1, 12, 2, 15, 3, 14);
                CS4(4, 8, 5, 6, 7, 11, 9, 10);
                CS4(0, 5, 1, 7, 2, 9, 3, 4);
                CS4(6, 13, 8, 14, 10, 15, 11, 12);
                CS4(0, 1, 2, 3, 4, 5, 6, 8);
                CS4(7, 9, 10, 11, 12, 13, 14, 15);
                CS4(0, 2, 1, 3, 4, 10, 5, 11);
                CS4(6, 7, 8, 9, 12, 14, 13, 15);
                CS4(1, 2, 3, 12, 4, 6, 5, 7);
                CS3(8, 10, 9, 11, 13, 14);
                CS4(1, 4, 2, 6, 5, 8, 7, 10);
                CS2(9, 13, 11, 14);
                CS4(2, 4, 3, 6, 9, 12, 11, 13);
                CS4(3, 5, 6, 8, 7, 9, 10, 12);
                CS4(3, 4, 5, 6, 7, 8, 9, 10);
                CS1(11, 12);
                CS2(6, 7, 8, 9);
        }
        memcpy(a, v, n * sizeof(double));
}

/*
 * Pivot for a range of SAMPLED_PIVOT_MIN or more values, from a sorted
 * sample of 15 that estimates where the wanted ranks fall. Ranks close
 * together get Floyd and Rivest's treatment on a small scale: the pivot is
 * SAMPLE_MARGIN sample steps past them towards the middle, so that they
 * most likely end up in the smaller part (median-of-3 and ninther aim at
 * the middle, right only for a rank in the middle). Ranks far apart get
 * the estimate of the point midway between the first and the last, to
 * separate them.
 */
static double pivot_sampled(const double *a, size_t lo, size_t hi,
                            const size_t *rk, size_t nrk)
{
        double smp[15], f, t;
        size_t len = hi - lo, j;

        for (size_t i = 0; i < 15; i++)
                smp[i] = a[lo + (2 * i + 1) * len / 30];
        sort_small(smp, 15);
        /* smp[j] estimates the quantile (j + 1) / 16 */
        f = ((double)(rk[0] + rk[nrk - 1]) / 2 - (double)lo + 0.5) /
            (double)len;
        t = f * 16 - 1; /* the sample index the ranks fall at */
        if (rk[nrk - 1] - rk[0] < len / 8)
                t += f < 0.5 ? SAMPLE_MARGIN : -SAMPLE_MARGIN;
        j = t < 0.5 ? 0 : t > 13.5 ? 14 : (size_t)(t + 0.5);
        return smp[j];
}

/*
 * Multi-rank selection: sets rv[i] to the value of rank rk[i] (ascending,
 * distinct, all in [lo, hi)) among cur[lo..hi), using oth[lo..hi) as the
 * partition target. Each round partitions around a pivot and keeps the
 * parts holding wanted ranks; a value equal to the pivot is only split
 * off (three-way) when the partition came out lopsided, which is what
 * runs of duplicates do. A rank at either end of its part is a min or a
 * max scan: this is how the neighbour of a rank is found once a partition
 * separates them. Deterministic pivots (sampled, or median of 3 in short
 * ranges) give way to random ones once budget rounds are spent, keeping
 * O(n) expected whatever the input order.
 */
static void mselect(ka_stats_t *st, double *cur, double *oth, size_t lo,
                    size_t hi, const size_t *rk, double *rv, size_t nrk,
                    unsigned budget)
{
        while (nrk > 0) {
                size_t len = hi - lo, s, e, i, j;
                double p, *right, *swap;

                if (len <= SMALL) {
                        sort_small(cur + lo, len);
                        for (i = 0; i < nrk; i++)
                                rv[i] = cur[rk[i]];
                        return;
                }
                if (nrk == 1 && (rk[0] == lo || rk[0] == hi - 1)) {
                        double v = cur[lo];

                        if (rk[0] == lo) {
                                for (i = lo + 1; i < hi; i++)
                                        v = cur[i] < v ? cur[i] : v;
                        } else {
                                for (i = lo + 1; i < hi; i++)
                                        v = cur[i] > v ? cur[i] : v;
                        }
                        rv[0] = v;
                        return;
                }
                if (budget > 0) {
                        budget--;
                        p = len >= SAMPLED_PIVOT_MIN
                                    ? pivot_sampled(cur, lo, hi, rk, nrk)
                                    : pivot_det(cur, lo, hi);
                } else {
                        p = pivot_rand(st, cur, lo, hi);
                }
                s = part_lt(cur, oth, lo, hi, p);
                e = s;
                right = oth;
                if (s - lo < len / 8) {
                        /* Few below p: maybe many equal to it. */
                        e = part_le(oth, cur, s, hi, p);
                        right = cur;
                }
                for (i = 0; i < nrk && rk[i] < s; i++)
                        ;
                for (j = i; j < nrk && rk[j] < e; j++)
                        rv[j] = p;
                if (i > 0 && j < nrk)
                        mselect(st, oth, cur, lo, s, rk, rv, i, budget);
                if (j < nrk) {
                        /* Continue on the right part, wherever it lives. */
                        if (right == oth) {
                                swap = cur;
                                cur = oth;
                                oth = swap;
                        }
                        lo = e;
                        rk += j;
                        rv += j;
                        nrk -= j;
                } else {
                        swap = cur;
                        cur = oth;
                        oth = swap;
                        hi = s;
                        nrk = i;
                }
        }
}

static unsigned select_budget(size_t n)
{
        unsigned budget = 8;

        for (size_t c = n; c > 1; c >>= 1)
                budget += 2;
        return budget;
}

/* The bucket of x in select_buckets(): never decreases as x grows. */
static inline uint32_t bucket_of(double x, double mn, double scale, double top)
{
        double t = (x - mn) * scale;

        return (uint32_t)(int32_t)(t < top ? t : top);
}

/* The largest b < nb with start[b] <= r (start[0] == 0), no branches. */
static size_t bucket_find(const uint32_t *start, size_t nb, size_t r)
{
        size_t base = 0, len = nb;

        while (len > 1) {
                size_t half = len / 2;

                base = start[base + half] <= r ? base + half : base;
                len -= half;
        }
        return base;
}

/*
 * Ranks r[0..m) (ascending) of a[lo..hi), hi - lo <= 4, into rv: a
 * network on a padded copy, no branches on the data or the size.
 */
static void select_tiny(const double *a, size_t lo, size_t hi, const size_t *r,
                        double *rv, size_t m)
{
        double v[4];
        size_t len = hi - lo;

        for (size_t i = 0; i < 4; i++) {
                uint64_t in = i < len, mask = -in;

                /* Past the end, a[lo] is read instead and masked out. */
                v[i] = ka_bits_double((ka_double_bits(a[lo + i * in]) & mask) |
                                      (INF_BITS & ~mask));
        }
        CS2(0, 1, 2, 3);
        CS2(0, 2, 1, 3);
        CS1(1, 2);
        for (size_t i = 0; i < m; i++)
                rv[i] = v[r[i] - lo];
}

/*
 * Selection by distribution: one pass counts the values of buf[0..n) into
 * nb buckets of equal width between mn and mx, a second scatters them to
 * tmp bucket by bucket (a counting sort by bucket), which puts the value
 * of rank r in the bucket spanning position r: only the few buckets
 * holding wanted ranks are then sorted (a network: about 2 values each on
 * spread data) or, when large, handed to mselect(). The bucket of x never
 * decreases as x grows, whatever the rounding, so a value in a lower
 * bucket is below every value in a higher one: the result is exact. No
 * branch depends on the data in the two passes. Returns false, having
 * changed nothing, when the range is too narrow or too wide to scale
 * (then mselect() does it all).
 */
static bool select_buckets(ka_stats_t *st, const double *buf, size_t n,
                           double mn, double mx, const size_t *rk, double *rv,
                           size_t nrk)
{
        size_t nb = n < BUCKETS_MAX ? n : BUCKETS_MAX;
        double span = mx - mn, scale = (double)nb / span, top = (double)nb - 1;
        double *tmp = st->tmp;
        uint32_t *cnt = st->cnt, *idx = st->idx, run = 0;
        size_t tb[MAX_RANKS], lo[MAX_RANKS];

        assert(nrk <= MAX_RANKS);
        if (!(span > 0 && span <= DBL_MAX && scale <= DBL_MAX) || n > INT32_MAX)
                return false;
        memset(cnt, 0, nb * sizeof(*cnt));
        if (n <= SCATTER_MAX) {
                for (size_t i = 0; i < n; i++) {
                        uint32_t b = bucket_of(buf[i], mn, scale, top);

                        idx[i] = b;
                        cnt[b]++;
                }
        } else {
                for (size_t i = 0; i < n; i++)
                        cnt[bucket_of(buf[i], mn, scale, top)]++;
        }
        /* Counts to start positions. */
        for (size_t b = 0; b < nb; b++) {
                uint32_t c = cnt[b];

                cnt[b] = run;
                run += c;
        }
        for (size_t j = 0; j < nrk; j++) {
                tb[j] = bucket_find(cnt, nb, rk[j]);
                lo[j] = cnt[tb[j]];
        }
        /* Afterwards cnt[b] is the end of bucket b (of the wanted ones). */
        if (n <= SCATTER_MAX) {
                for (size_t i = 0; i < n; i++)
                        tmp[cnt[idx[i]]++] = buf[i];
        } else {
                /*
                 * Large windows: only the wanted buckets, marked by the top
                 * bit of their start, to their place in tmp. The branch
                 * mispredicts about twice a copied value, few in all.
                 */
                for (size_t j = 0; j < nrk; j++)
                        cnt[tb[j]] |= BUCKET_MARK;
                for (size_t i = 0; i < n; i++) {
                        uint32_t b = bucket_of(buf[i], mn, scale, top);
                        uint32_t c = cnt[b];

                        if (c & BUCKET_MARK) {
                                tmp[c & ~BUCKET_MARK] = buf[i];
                                cnt[b] = c + 1;
                        }
                }
                for (size_t j = 0; j < nrk; j++)
                        cnt[tb[j]] &= ~BUCKET_MARK;
        }
        for (size_t j = 0; j < nrk;) {
                size_t j0 = j, l = lo[j], h = cnt[tb[j]];

                while (j < nrk && tb[j] == tb[j0])
                        j++;
                if (h - l <= 4) {
                        select_tiny(tmp, l, h, rk + j0, rv + j0, j - j0);
                } else if (h - l <= SMALL) {
                        sort_small(tmp + l, h - l);
                        for (size_t i = j0; i < j; i++)
                                rv[i] = tmp[rk[i]];
                } else {
                        /* buf is free again: the partition target. */
                        mselect(st, tmp, st->buf, l, h, rk + j0, rv + j0,
                                j - j0, select_budget(h - l));
                }
        }
        return true;
}

/*
 * Sets rv[i] to the value of rank rk[i] (ascending, distinct) among
 * v[0..n) (st->buf or the caller's column), whose min and max are mn and
 * mx. Small windows are sorted by a network, constant ones need nothing,
 * others go to bucket selection or quickselect, which permute st->buf.
 */
static void select_ranks(ka_stats_t *st, const double *v, size_t n, double mn,
                         double mx, const size_t *rk, double *rv, size_t nrk)
{
        if (mn == mx) {
                for (size_t i = 0; i < nrk; i++)
                        rv[i] = mn;
                return;
        }
        /* Buckets cost two passes whatever the ranks; quickselect after one
         * or two ranks of a large window is cheaper. */
        if (n > SMALL && (nrk > 2 || n <= BUCKETS_FEW_RANKS_MAX) &&
            select_buckets(st, v, n, mn, mx, rk, rv, nrk))
                return;
        if (v != st->buf)
                memcpy(st->buf, v, n * sizeof(double));
        if (n <= SMALL) {
                sort_small(st->buf, n);
                for (size_t i = 0; i < nrk; i++)
                        rv[i] = st->buf[rk[i]];
                return;
        }
        mselect(st, st->buf, st->tmp, 0, n, rk, rv, nrk, select_budget(n));
}

/* statistics.quantiles(data, n=4)[i - 1], method 'exclusive', i = 1 or 3. */
static void quartile_ranks(size_t n, unsigned i, size_t *j, int64_t *delta)
{
        uint64_t m = (uint64_t)n + 1, im = i * m;
        uint64_t jj = im / 4;

        if (jj < 1)
                jj = 1;
        if (jj > n - 1)
                jj = n - 1;
        *j = (size_t)jj;
        *delta = (int64_t)im - (int64_t)(4 * jj);
}

static double quartile(double lo, double hi, int64_t delta)
{
        /* CPython: (data[j-1] * (n - delta) + data[j] * delta) / n */
        return (lo * (double)(4 - delta) + hi * (double)delta) / 4.0;
}

#define RANK_CS(i, j)                                                          \
        do {                                                                   \
                size_t a_ = c[i], b_ = c[j];                                   \
                c[i] = a_ < b_ ? a_ : b_;                                      \
                c[j] = a_ < b_ ? b_ : a_;                                      \
        } while (0)

/*
 * The distinct ranks among c[0..MAX_RANKS), SIZE_MAX marking an
 * unused slot, ascending into rk[0..*nrk): a sorting network and a
 * compaction, with no branch to mispredict from one window to the next.
 */
static void ranks_sort(size_t *c, size_t *rk, size_t *nrk)
{
        size_t k = 0;

        RANK_CS(0, 5);
        RANK_CS(1, 3);
        RANK_CS(2, 4);
        RANK_CS(1, 2);
        RANK_CS(3, 4);
        RANK_CS(0, 3);
        RANK_CS(2, 5);
        RANK_CS(0, 1);
        RANK_CS(2, 3);
        RANK_CS(4, 5);
        RANK_CS(1, 2);
        RANK_CS(3, 4);
        for (size_t i = 0; i < MAX_RANKS; i++) {
                rk[k] = c[i];
                k += (size_t)(c[i] != SIZE_MAX) & (i == 0 || c[i] != c[i - 1]);
        }
        *nrk = k;
}

/* The selected value of rank r, which must be one of rk[0..nrk). */
static double rank_value(const size_t *rk, const double *rv, size_t nrk,
                         size_t r)
{
        double v = NAN;

        for (size_t i = 0; i < nrk; i++)
                v = rk[i] == r ? rv[i] : v;
        assert(v == v || !"rank not selected");
        return v;
}

#define OP_BIT(op) (1u << (op))

ka_err_t ka_stats_compute(ka_stats_t *st, const double *values, size_t n,
                          int32_t min_sample_size, const ka_op_t *ops,
                          size_t nops, double *out)
{
        double res[KA_OP__COUNT], mn, mx, amax;
        const double *v;
        unsigned need = 0, sel;
        size_t cnt;
        bool copy;
        ka_err_t err;

        if (!st || (nops && (!ops || !out)) || (n && !values))
                return KA_ERR_INVALID;
        for (size_t i = 0; i < nops; i++) {
                if ((unsigned)ops[i] >= KA_OP__COUNT)
                        return KA_ERR_INVALID;
                need |= OP_BIT(ops[i]);
        }
        if (!need)
                return KA_OK;

        if (min_sample_size > 0 && n < (size_t)min_sample_size) {
                double first = NAN;

                for (size_t i = 0; i < n; i++) {
                        if (values[i] == values[i]) {
                                first = values[i];
                                break;
                        }
                }
                for (size_t i = 0; i < nops; i++)
                        out[i] = first;
                return KA_OK;
        }

        copy = need & ~(OP_BIT(KA_OP_MIN) | OP_BIT(KA_OP_MAX));
        if (copy && (err = grow(st, n)))
                return err;
        /*
         * The column itself when it has no NaN and no selection will
         * permute it (select_ranks() scatters from it to st->tmp when it
         * picks buckets): no copy. Otherwise (a sorting network, or
         * quickselect for one op) one pass copies and scans.
         */
        sel = need &
              (OP_BIT(KA_OP_MEDIAN) | OP_BIT(KA_OP_Q1) | OP_BIT(KA_OP_Q3));
        v = values;
        if (copy && sel &&
            (n <= SMALL ||
             ((sel & (sel - 1)) == 0 && n > BUCKETS_FEW_RANKS_MAX))) {
                cnt = gather(values, n, st->buf, &mn, &mx);
                v = st->buf;
        } else {
                cnt = minmax(values, n, &mn, &mx);
                if (copy && cnt < n) {
                        gather(values, n, st->buf, &mn, &mx);
                        v = st->buf;
                }
        }
        for (size_t i = 0; i < KA_OP__COUNT; i++)
                res[i] = NAN;
        if (cnt == 0)
                goto out;
        res[KA_OP_MIN] = mn == 0 ? first_zero(values, n) : mn;
        res[KA_OP_MAX] = mx == 0 ? first_zero(values, n) : mx;
        amax = fabs(mn) > fabs(mx) ? fabs(mn) : fabs(mx);

        if (need &
            (OP_BIT(KA_OP_MEAN) | OP_BIT(KA_OP_SUM) | OP_BIT(KA_OP_STDEV))) {
                if (isinf(amax)) {
                        /* CPython returns inf or raises; no stdev. */
                        double s = mn < 0 && isinf(mn)
                                           ? (mx > 0 && isinf(mx) ? NAN : mn)
                                           : mx;

                        res[KA_OP_SUM] = res[KA_OP_MEAN] = s;
                } else {
                        xsum_t xs;

                        sum_exact(v, cnt, amax, &xs);
                        res[KA_OP_SUM] =
                                xs.fp ? xsum_round_fp(&xs) : xsum_round(&xs);
                        if (!xs.fp ||
                            !mean_fp(&xs, (double)cnt, &res[KA_OP_MEAN]))
                                res[KA_OP_MEAN] = xsum_div_round(&xs, cnt);
                        if (cnt >= 2 && (need & OP_BIT(KA_OP_STDEV)) &&
                            !stdev_sterbenz(v, cnt, res[KA_OP_MEAN], mn, mx,
                                            &xs, &res[KA_OP_STDEV]))
                                res[KA_OP_STDEV] =
                                        stdev_dd(v, cnt, res[KA_OP_MEAN], amax);
                }
        }

        if (need &
            (OP_BIT(KA_OP_MEDIAN) | OP_BIT(KA_OP_Q1) | OP_BIT(KA_OP_Q3))) {
                bool quart = cnt >= 2 &&
                             (need & (OP_BIT(KA_OP_Q1) | OP_BIT(KA_OP_Q3)));
                size_t rk[MAX_RANKS] = {0}, nrk = 0, j1 = 0, j3 = 0,
                       mid = cnt / 2;
                int64_t d1 = 0, d3 = 0;
                double rv[MAX_RANKS];

                size_t c[MAX_RANKS] = {SIZE_MAX, SIZE_MAX, SIZE_MAX,
                                       SIZE_MAX, SIZE_MAX, SIZE_MAX};

                if (need & OP_BIT(KA_OP_MEDIAN)) {
                        c[0] = mid;
                        if (cnt % 2 == 0)
                                c[1] = mid - 1;
                }
                if (quart && (need & OP_BIT(KA_OP_Q1))) {
                        quartile_ranks(cnt, 1, &j1, &d1);
                        c[2] = j1 - 1;
                        c[3] = j1;
                }
                if (quart && (need & OP_BIT(KA_OP_Q3))) {
                        quartile_ranks(cnt, 3, &j3, &d3);
                        c[4] = j3 - 1;
                        c[5] = j3;
                }
                ranks_sort(c, rk, &nrk);
                select_ranks(st, v, cnt, mn, mx, rk, rv, nrk);
                fix_zero_ranks(values, n, rk, rv, nrk);
                if (need & OP_BIT(KA_OP_MEDIAN)) {
                        double hi = rank_value(rk, rv, nrk, mid);

                        res[KA_OP_MEDIAN] =
                                cnt % 2 ? hi
                                        : (rank_value(rk, rv, nrk, mid - 1) +
                                           hi) / 2.0;
                }
                if (quart && (need & OP_BIT(KA_OP_Q1)))
                        res[KA_OP_Q1] =
                                quartile(rank_value(rk, rv, nrk, j1 - 1),
                                         rank_value(rk, rv, nrk, j1), d1);
                if (quart && (need & OP_BIT(KA_OP_Q3)))
                        res[KA_OP_Q3] =
                                quartile(rank_value(rk, rv, nrk, j3 - 1),
                                         rank_value(rk, rv, nrk, j3), d3);
        }
out:
        for (size_t i = 0; i < nops; i++)
                out[i] = res[ops[i]];
        return KA_OK;
}
