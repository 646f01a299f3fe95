/*
 * Window statistics (SPEC §7), bit for bit those of CPython 3.11's
 * statistics module: this module runs one column through the scan for min
 * and max, the exact sum (xsum.c), the standard deviation and one
 * multi-rank selection (select.c) serving median, q1 and q3.
 */
#include "stats.h"

#include "select.h"
#include "xsum.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * NaN marks a missing value (x == x), -0.0 differs from 0.0 and the
 * double-double steps of the standard deviation are exact only as written:
 * value-unsafe optimizations would change results without a warning.
 */
#if defined(__FAST_MATH__) || defined(__ASSOCIATIVE_MATH__) ||                 \
        defined(__RECIPROCAL_MATH__) || defined(__NO_SIGNED_ZEROS__) ||        \
        (defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__)
#error "stats.c: statistics need IEEE NaN, signed zeros and arithmetic as written; build without -ffast-math, -Ofast, -ffinite-math-only, -fassociative-math, -freciprocal-math or -fno-signed-zeros"
#endif

/*
 * Two doubles, for the element-wise loops of the standard deviation: GCC
 * and clang vector extensions, one SSE2 operation on x86-64 (see xsum.c).
 */
#define VW 2
typedef double vecd_t __attribute__((vector_size(VW * sizeof(double))));

#define MAX_RANKS KA_SELECT_MAX_RANKS
#define INF_BITS  UINT64_C(0x7ff0000000000000)
/* Rare paths, kept out of line: off the hot function's code and stack. */
#define COLD __attribute__((cold, noinline))

/*
 * The scratch buffers, grown to the largest window seen: sc.buf first
 * holds the column's non-NaN values (gather()), for the sum and the
 * standard deviation, then the selection permutes them.
 */
struct ka_stats_s {
        ka_select_scratch_t sc;
        size_t cap; /* doubles in sc.buf and sc.tmp */
};

ka_stats_t *ka_stats_new(void)
{
        ka_stats_t *st = calloc(1, sizeof(*st));

        if (st)
                st->sc.rng = UINT64_C(0x9e3779b97f4a7c15); /* any nonzero */
        return st;
}

void ka_stats_destroy(ka_stats_t *st)
{
        if (!st)
                return;
        free(st->sc.buf);
        free(st->sc.tmp);
        free(st->sc.cnt);
        free(st->sc.idx);
        free(st);
}

static ka_err_t grow(ka_stats_t *st, size_t n)
{
        size_t cap = st->cap ? st->cap : 64, ncnt, nidx;
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
        ncnt = cap < KA_SELECT_BUCKETS_MAX ? cap : KA_SELECT_BUCKETS_MAX;
        nidx = cap < KA_SELECT_SCATTER_MAX ? cap : KA_SELECT_SCATTER_MAX;
        cnt = malloc(ncnt * sizeof(*cnt));
        idx = malloc(nidx * sizeof(*idx));
        if (!buf || !tmp || !cnt || !idx) {
                free(buf);
                free(tmp);
                free(cnt);
                free(idx);
                return KA_ERR_NOMEM;
        }
        free(st->sc.buf);
        free(st->sc.tmp);
        free(st->sc.cnt);
        free(st->sc.idx);
        st->sc.idx = idx;
        st->sc.buf = buf;
        st->sc.tmp = tmp;
        st->sc.cnt = cnt;
        st->cap = cap;
        return KA_OK;
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
 * (ah + al) / b to about 2^-104, given inv within an ulp or two of 1 / b:
 * the first quotient need not be correctly rounded, the remainder (exact
 * up to al) corrects it, so no division lies on the dependency chain.
 */
static void dd_div(double ah, double al, double b, double inv, double *qh,
                   double *ql)
{
        double q1 = ah * inv, p, pe, r;

        ka_xsum_two_prod(q1, b, &p, &pe);
        r = ((ah - p) - pe + al) * inv;
        ka_xsum_fast_two_sum(q1, r, qh, ql);
}

/*
 * (h + l) * 2^k rounded once to a double, also when the result is
 * subnormal, where scaling the rounded h would round twice; h + l >= 0,
 * h the double nearest to it. Sets *near when h + l lies within tol
 * ulps of a tie, where an error that small could change the rounding.
 */
static double dd_scale(double h, double l, int k, double tol, bool *near)
{
        double r = h * ka_xsum_pow2(k), t, tl, ri, diff;

        if (h == 0)
                return r;
        if (fabs(r) >= 0x1p-1022) {
                /*
                 * Exact, or an overflow to inf. h + l rounds to h, so |l|
                 * is at most half an ulp of h (a quarter below a power of
                 * two), the tie: near is |l| close to that bound, one
                 * compare. (h is normal: scaled results lie far above the
                 * subnormals.)
                 */
                uint64_t hb = ka_double_bits(h);
                double ulp = ka_bits_double(hb & INF_BITS) * 0x1p-52;
                double bound = (hb << 12) == 0 && l < 0 ? 0.25 : 0.5;

                *near = fabs(l) >= (bound - tol) * ulp;
                return r;
        }
        t = ldexp(h, 1074 + k); /* in units of the smallest subnormal */
        tl = ldexp(l, 1074 + k);
        ri = nearbyint(t);
        diff = (t - ri) + tl;
        /* These units are coarser than h's ulps: tol is generous here. */
        *near = fabs(fabs(diff) - 0.5) <= tol;
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
        t = KA_XSUM_SPLITTER * dh;
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

        ka_xsum_two_sum(v, ncs, &dh, &dl);
        ka_xsum_two_prod(dh, dh, &p, &pe);
        pe += (dh + dh) * dl;
        ka_xsum_two_sum(*qh, p, &qs, &qe);
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

        ka_xsum_two_sum((*hv)[0], (*hv)[1], &s, &e);
        e += (*lv)[0] + (*lv)[1];
        ka_xsum_two_sum(*h, s, h, &s);
        *l += s + e;
}

/*
 * The end of stdev_dd() and stdev_sterbenz(): the standard deviation from
 * the sum of squared deviations Q = Qh + Ql and the sum of deviations
 * T = Th + Tl around c, both scaled by 2^-k, as double-doubles. Sets *near
 * when the result may be misrounded: when the double-double lies within
 * a bound of its error of a tie. The bound, in ulps of the result, is
 * 2^-40 plus n^2 2^-52. The low parts of Q add up with an error of up to
 * n^2 2^-107 Q, which the cancellation in n Q - T^2 (at most a factor of
 * two) and the square root turn into n^2 2^-54 ulp; the errors measured
 * are far smaller (2^-53 ulp for small windows, 2^-30 for 100000 values
 * spanning 1e+-300). Windows reach the exact path by a chance of 2^-18
 * at n = 100000, 2^-11 at a million values.
 */
static double stdev_finish(double Qh, double Ql, double Th, double Tl, size_t n,
                           int k, bool *near)
{
        double nd = (double)n, nn1 = nd * (nd - 1), inv = 1 / nn1;
        double a, b, sh, sl, vh, vl, r, d, e;

        ka_xsum_fast_two_sum(Qh, Ql, &Qh, &Ql);
        ka_xsum_fast_two_sum(Th, Tl, &Th, &Tl);
        /* var = (n Q - T^2) / (n (n - 1)) */
        ka_xsum_two_prod(Qh, nd, &sh, &sl);
        sl += Ql * nd;
        ka_xsum_two_prod(Th, Th, &a, &b);
        b += (Th + Th) * Tl;
        ka_xsum_two_sum(sh, -a, &sh, &e);
        ka_xsum_fast_two_sum(sh, e + sl - b, &sh, &sl);
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
        ka_xsum_two_prod(r, r, &a, &b);
        d = ((vh - a) - b + vl) / (r + r);
        ka_xsum_fast_two_sum(r, d, &r, &d);
        return dd_scale(r, d, k, 0x1p-40 + nd * nd * 0x1p-52, near);
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
 * result is correctly rounded unless it lies very close to a tie (*near,
 * see stdev_finish()). Values that scaling takes below the subnormals
 * (next to values near 1e308) are lost here: only near a tie can they
 * matter.
 */
static double stdev_dd(const double *x, size_t n, double c, double amax,
                       bool *near)
{
        vecd_t qh0 = {0}, ql0 = {0}, th0 = {0}, tl0 = {0};
        vecd_t qh1 = {0}, ql1 = {0}, th1 = {0}, tl1 = {0};
        double s, ncs, Qh = 0, Ql = 0, Th = 0, Tl = 0;
        size_t i = 0;
        int k;

        if (amax == 0)
                return 0.0;
        k = ka_xsum_ilogb(amax);
        if (k < -1022)
                k = -1022; /* 2^1022 lifts the smallest subnormal enough */
        s = ka_xsum_pow2(-k);
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
        return stdev_finish(Qh, Ql, Th, Tl, n, k, near);
}

/*
 * The exact error of d * d (d = dh, p = dh * dh) as a vector: Dekker's
 * product, or one fused multiply-subtract where the CPU has it. Both are
 * exact, so the results do not depend on which ran.
 */
static inline vecd_t sq_err(vecd_t dh, vecd_t p)
{
        vecd_t t = KA_XSUM_SPLITTER * dh, h = t - (t - dh), lo = dh - h;

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
                           double mx, const ka_xsum_t *xs, double *out,
                           bool *near)
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
        k = ka_xsum_ilogb(amax);
        s = ka_xsum_pow2(-k);
        ncs = -(c * s);
        i = have_fma() ? sq_sterbenz_fma(x, n, s, ncs, &qh, &ql)
                       : sq_sterbenz(x, n, s, ncs, &qh, &ql);
        for (; i < n; i++) {
                double d = x[i] * s + ncs, q, e;

                ka_xsum_two_prod(d, d, &q, &e);
                ka_xsum_two_sum(Qh, q, &Qh, &q);
                Ql += q + e;
        }
        dd_add_lanes(&qh, &ql, &Qh, &Ql);
        /*
         * T = S - n c: h and p lie within a few ulps of each other (c is
         * S / n rounded, and every value has c's sign), so h - p is exact.
         */
        ka_xsum_two_sum(xs->hi, xs->lo, &h, &l);
        ka_xsum_two_prod(c, (double)n, &p, &pe);
        a = h - p;
        ka_xsum_two_sum(a, l - pe, &th, &tl);
        *out = stdev_finish(Qh, Ql, th * s, tl * s, n, k, near);
        return true;
}

/*
 * The midpoint between y >= 0 and the next double up (dir 1) or down
 * (dir -1) as m 2^e, m odd. Past DBL_MAX comes 2^1024, which y = +inf
 * stands for.
 */
static void midpoint(double y, int dir, uint64_t *m, int *e)
{
        uint64_t u = ka_double_bits(y), frac = u & ((UINT64_C(1) << 52) - 1);
        int be = (int)(u >> 52);
        uint64_t mant = be ? (frac | UINT64_C(1) << 52) : frac;
        int lsb = be ? be - 1075 : -1074;

        if (dir > 0) {
                *m = 2 * mant + 1;
                *e = lsb - 1;
        } else if (frac == 0 && be > 1) {
                /* below a power of two, the ulp halves */
                *m = 4 * mant - 1;
                *e = lsb - 2;
        } else {
                *m = 2 * mant - 1;
                *e = lsb - 1;
        }
}

/*
 * The correctly rounded standard deviation of x[0..n), given y, a rounding
 * of it near a tie: the exact variance against the squares of the
 * midpoints around y. y moves while it is on the wrong side of one: once
 * at most within the error bounds above, a few times at most in any case.
 */
static COLD double stdev_tie(const double *x, size_t n, double y)
{
        ka_xsum_var_t var;
        uint64_t m;
        int e, c;
        bool up = false;

        ka_xsum_var_compute(&var, x, n);
        for (int i = 0; i < 4 && y < INFINITY; i++) {
                midpoint(y, 1, &m, &e);
                c = ka_xsum_var_cmp(&var, m, e);
                /* A tie goes to the even neighbour: up when y is odd. */
                if (c < 0 || (c == 0 && !(ka_double_bits(y) & 1)))
                        break;
                y = ka_bits_double(ka_double_bits(y) + 1);
                up = true;
        }
        for (int i = 0; i < 4 && !up && y > 0; i++) {
                midpoint(y, -1, &m, &e);
                c = ka_xsum_var_cmp(&var, m, e);
                if (c > 0 || (c == 0 && !(ka_double_bits(y) & 1)))
                        break;
                y = ka_bits_double(ka_double_bits(y) - 1);
        }
        return y;
}

/*
 * statistics.stdev() of finite x[0..n), n >= 2, given c, their correctly
 * rounded mean, their exact sum, min, max and largest magnitude:
 * correctly rounded, as CPython's. Floating point nearly always; the
 * exact variance when that lands too close to a tie to tell.
 */
static double stdev(const double *x, size_t n, double c, double mn, double mx,
                    double amax, const ka_xsum_t *xs)
{
        double sd;
        bool near = false;

        if (!stdev_sterbenz(x, n, c, mn, mx, xs, &sd, &near))
                sd = stdev_dd(x, n, c, amax, &near);
        return near ? stdev_tie(x, n, sd) : sd;
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
         * permute it (the selection scatters from it to st->sc.tmp when it
         * picks buckets): no copy. Otherwise (a sorting network, or
         * quickselect for one op: at most two ranks) one pass copies and
         * scans.
         */
        sel = need &
              (OP_BIT(KA_OP_MEDIAN) | OP_BIT(KA_OP_Q1) | OP_BIT(KA_OP_Q3));
        v = values;
        if (copy && sel &&
            ka_select_in_place(n, (sel & (sel - 1)) == 0 ? 2 : MAX_RANKS)) {
                cnt = gather(values, n, st->sc.buf, &mn, &mx);
                v = st->sc.buf;
        } else {
                cnt = minmax(values, n, &mn, &mx);
                if (copy && cnt < n) {
                        gather(values, n, st->sc.buf, &mn, &mx);
                        v = st->sc.buf;
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
                        ka_xsum_t xs;

                        ka_xsum_compute(&xs, v, cnt, amax);
                        res[KA_OP_SUM] = ka_xsum_round(&xs);
                        res[KA_OP_MEAN] = ka_xsum_mean(&xs, cnt);
                        if (cnt >= 2 && (need & OP_BIT(KA_OP_STDEV)))
                                res[KA_OP_STDEV] =
                                        stdev(v, cnt, res[KA_OP_MEAN], mn, mx,
                                              amax, &xs);
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
                ka_select_ranks(&st->sc, v, cnt, mn, mx, rk, rv, nrk);
                /* No zero to fix in a column of one sign, the usual one. */
                if (mn <= 0 && mx >= 0)
                        ka_select_fix_zeros(values, n, rk, rv, nrk);
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
