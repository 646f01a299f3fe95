/*
 * Multi-rank selection: a counting pass into value-range buckets, then only
 * the buckets holding the wanted ranks sorted; quickselect with sampled
 * pivots where buckets do not split the values; sorting networks below 17
 * values. Partitions and networks are branch-free on the data.
 */
#include "select.h"

#include "ka.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <string.h>

/*
 * Comparisons must see NaN, infinities (the padding of the networks) and
 * signed zeros as IEEE does: value-unsafe optimizations would fold them.
 */
#if defined(__FAST_MATH__) || defined(__ASSOCIATIVE_MATH__) ||                 \
        defined(__RECIPROCAL_MATH__) || defined(__NO_SIGNED_ZEROS__) ||        \
        (defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__)
#error "select.c: selection needs IEEE comparisons, infinities and signed zeros; build without -ffast-math, -Ofast, -ffinite-math-only, -fassociative-math, -freciprocal-math or -fno-signed-zeros"
#endif

#define MAX_RANKS   KA_SELECT_MAX_RANKS
#define SMALL       KA_SELECT_SMALL
#define BUCKETS_MAX KA_SELECT_BUCKETS_MAX
#define SCATTER_MAX KA_SELECT_SCATTER_MAX
/* Marks a wanted bucket in select_buckets() (starts are below 2^31). */
#define BUCKET_MARK (UINT32_C(1) << 31)
/* Ranges this long get pivots from a sample of 15 (pivot_sampled()). */
#define SAMPLED_PIVOT_MIN 128
/* How far, in steps of that sample, a pivot stays from close ranks. */
#define SAMPLE_MARGIN 1.5
#define INF_BITS      UINT64_C(0x7ff0000000000000)

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

static size_t rand_below(ka_select_scratch_t *sc, size_t n)
{
        /* xorshift64 */
        sc->rng ^= sc->rng << 13;
        sc->rng ^= sc->rng >> 7;
        sc->rng ^= sc->rng << 17;
        return (size_t)(sc->rng % n);
}

static double pivot_rand(ka_select_scratch_t *sc, const double *a, size_t lo,
                         size_t hi)
{
        size_t len = hi - lo;

        return med3(a[lo + rand_below(sc, len)], a[lo + rand_below(sc, len)],
                    a[lo + rand_below(sc, len)]);
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
 * ka_select_fix_zeros() sees to.
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
static void mselect(ka_select_scratch_t *sc, double *cur, double *oth,
                    size_t lo, size_t hi, const size_t *rk, double *rv,
                    size_t nrk, unsigned budget)
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
                        p = pivot_rand(sc, cur, lo, hi);
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
                        mselect(sc, oth, cur, lo, s, rk, rv, i, budget);
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
static bool select_buckets(ka_select_scratch_t *sc, const double *buf, size_t n,
                           double mn, double mx, const size_t *rk, double *rv,
                           size_t nrk)
{
        size_t nb = n < BUCKETS_MAX ? n : BUCKETS_MAX;
        double span = mx - mn, scale = (double)nb / span, top = (double)nb - 1;
        double *tmp = sc->tmp;
        uint32_t *cnt = sc->cnt, *idx = sc->idx, run = 0;
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
                        mselect(sc, tmp, sc->buf, l, h, rk + j0, rv + j0,
                                j - j0, select_budget(h - l));
                }
        }
        return true;
}

void ka_select_ranks(ka_select_scratch_t *sc, const double *v, size_t n,
                     double mn, double mx, const size_t *rk, double *rv,
                     size_t nrk)
{
        if (mn == mx) {
                for (size_t i = 0; i < nrk; i++)
                        rv[i] = mn;
                return;
        }
        /* Buckets cost two passes whatever the ranks; quickselect after one
         * or two ranks of a large window is cheaper. */
        if (!ka_select_in_place(n, nrk) &&
            select_buckets(sc, v, n, mn, mx, rk, rv, nrk))
                return;
        if (v != sc->buf)
                memcpy(sc->buf, v, n * sizeof(double));
        if (n <= SMALL) {
                sort_small(sc->buf, n);
                for (size_t i = 0; i < nrk; i++)
                        rv[i] = sc->buf[rk[i]];
                return;
        }
        mselect(sc, sc->buf, sc->tmp, 0, n, rk, rv, nrk, select_budget(n));
}

/*
 * Selection sees 0.0 and -0.0 as equal and may return either (or one
 * twice). CPython's sorted() is stable: its zeros keep their arrival
 * order, after every negative value. This gives each zero rank (rk
 * ascending) the sign CPython's would have, with one or two passes over v,
 * only when a selected value is zero.
 */
void ka_select_fix_zeros(const double *v, size_t n, const size_t *rk,
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
