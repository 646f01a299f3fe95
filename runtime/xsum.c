/*
 * Exact sums of doubles: three ways to the same exact sum (two-level
 * splitting in floating point, a 128-bit integer, a fixed-point number over
 * the whole double range), each rounded once; and the exact sample
 * variance, a big integer, for the standard deviations floating point
 * cannot round.
 */
#include "xsum.h"

#include <math.h>
#include <string.h>

/*
 * Each step of the sums is exact only as written: reassociated, fused or
 * rewritten by value-unsafe optimizations, they silently lose the bits
 * they exist to keep.
 */
#if defined(__FAST_MATH__) || defined(__ASSOCIATIVE_MATH__) ||                 \
        defined(__RECIPROCAL_MATH__) || defined(__NO_SIGNED_ZEROS__) ||        \
        (defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__)
#error "xsum.c: exact sums need IEEE arithmetic as written; build without -ffast-math, -Ofast, -ffinite-math-only, -fassociative-math, -freciprocal-math or -fno-signed-zeros"
#endif

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

/*
 * The exact sum in 32-bit digits of a fixed-point number whose unit is
 * 2^-1074 (the smallest subnormal): a 53-bit mantissa shifted by up to 31
 * spans three digits, the largest double reaches digit 65, and the rest
 * is headroom for carries. Digits are int64_t, so 2^30 values can be added
 * before carries must be propagated.
 */
#define NDIGITS      72
#define DIGIT_BUDGET (1u << 30)
#define EXP_MASK     0x7ffu
#define FRAC_MASK    ((UINT64_C(1) << 52) - 1)
#define HIDDEN_BIT   (UINT64_C(1) << 52)
#define INF_BITS     UINT64_C(0x7ff0000000000000)

/* The digits as limbs, and two more for the long division of the mean. */
_Static_assert(KA_XSUM_LIMBS == NDIGITS / 2 + 2, "limbs of ka_xsum_t");

static int clz128(u128 q)
{
        uint64_t hi = (uint64_t)(q >> 64);

        return hi ? __builtin_clzll(hi) : 64 + __builtin_clzll((uint64_t)q);
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
static double xsum_round(const ka_xsum_t *xs)
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

static void fp_to_int(const ka_xsum_t *xs, ka_xsum_t *out);

/* Correctly rounded exact sum / n (statistics.mean()). */
static double xsum_div_round(const ka_xsum_t *xs, uint64_t n)
{
        uint64_t q[KA_XSUM_LIMBS + 2];
        u128 a, rem = 0, top;
        size_t len;
        bool sticky = false;
        ka_xsum_t tmp;

        if (xs->fp) {
                fp_to_int(xs, &tmp);
                xs = &tmp;
        }
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
 * The integer form (mag, len, e2, neg) of a sum held as two doubles. Both
 * are multiples of u2 of sum_split(), and |hi| <= 2^(107 - L) u2 with
 * L >= 3: in units of the lower of their lowest set bits, each spans at
 * most 105 bits, and their sum fits a signed 128-bit integer.
 */
static void fp_to_int(const ka_xsum_t *xs, ka_xsum_t *out)
{
        uint64_t uh = ka_double_bits(xs->hi), ul = ka_double_bits(xs->lo);
        uint64_t mh, ml;
        int ph = lsb_pos(uh, &mh), pl = lsb_pos(ul, &ml), base;
        __extension__ __int128 h, l, sum;
        u128 mag;

        /* The lowest set bits, not the last places of the mantissas. */
        if (mh) {
                ph += __builtin_ctzll(mh);
                mh >>= __builtin_ctzll(mh);
        }
        if (ml) {
                pl += __builtin_ctzll(ml);
                ml >>= __builtin_ctzll(ml);
        }
        base = !ml ? ph : !mh ? pl : ph < pl ? ph : pl;
        assert(!mh || ph - base + 64 - __builtin_clzll(mh) <= 105);
        assert(!ml || pl - base + 64 - __builtin_clzll(ml) <= 105);
        h = mh ? (__int128)((u128)mh << (ph - base)) : 0;
        l = ml ? (__int128)((u128)ml << (pl - base)) : 0;
        sum = (uh >> 63 ? -h : h) + (ul >> 63 ? -l : l);
        out->neg = sum < 0;
        mag = out->neg ? -(u128)sum : (u128)sum;
        out->mag[0] = (uint64_t)mag;
        out->mag[1] = (uint64_t)(mag >> 64);
        out->len = out->mag[1] ? 2 : out->mag[0] ? 1 : 0;
        out->e2 = base - 1074;
        out->fp = false;
}

/*
 * Fast exact sum: when every value is a multiple of 2^(p0 - 1074), the sum
 * is a 128-bit integer in that unit. p0 leaves headroom for n values as
 * large as the largest, so the accumulator cannot overflow; a value with
 * mantissa bits below the unit (more than about 2^60 times smaller than
 * the largest) makes it give up.
 */
static bool sum_fast(const double *x, size_t n, int pmax, ka_xsum_t *xs)
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
static void sum_slow(const double *x, size_t n, ka_xsum_t *xs)
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
static bool sum_split(const double *x, size_t n, double amax, ka_xsum_t *xs)
{
        int L = n > 8 ? 64 - __builtin_clzll((uint64_t)n - 1) : 3;
        int e = ka_xsum_ilogb(amax), k = 0;
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
        scale = ka_xsum_pow2(k);
        sig1 = 1.5 * ka_xsum_pow2(e + L);
        sig2 = 1.5 * ka_xsum_pow2(e + 2 * L - 54);
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
        xs->hi = s1;
        xs->lo = s2;
        xs->fp = k == 0;
        /* Unscaled, the two doubles are the sum: the integer form waits
         * until a rounding needs it (fp_to_int()), which is rare. */
        if (xs->fp)
                return true;
        u1 = ka_xsum_pow2(e + L - 52);
        u2 = ka_xsum_pow2(e + 2 * L - 106);
        k1 = (int64_t)(s1 / u1);
        k2 = (int64_t)(s2 / u2);
        sum = (__extension__(__int128) k1 * ((__int128)1 << (54 - L))) + k2;
        xs->neg = sum < 0;
        mag = xs->neg ? -(u128)sum : (u128)sum;
        xs->mag[0] = (uint64_t)mag;
        xs->mag[1] = (uint64_t)(mag >> 64);
        xs->len = xs->mag[1] ? 2 : xs->mag[0] ? 1 : 0;
        xs->e2 = e + 2 * L - 106 - k;
        return true;
}

void ka_xsum_compute(ka_xsum_t *xs, const double *x, size_t n, double amax)
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

double ka_xsum_round(const ka_xsum_t *xs)
{
        /* Held as two doubles: one IEEE addition rounds it, overflow and
         * gradual underflow included. */
        return xs->fp ? xs->hi + xs->lo : xsum_round(xs);
}

/*
 * statistics.mean() from an exact sum held as two doubles, without the
 * long division of xsum_div_round(): q = h / n is within 1.5 ulp of the
 * true mean, and the remainder S - q n, computed to within err, says
 * whether q or its neighbour is the correctly rounded mean. Returns false
 * when that is too close to call (a tie, or nearly), when q is a power of
 * two (an uneven ulp below it) or beyond 2^+-900 (Dekker's split
 * overflows, the remainder underflows), for the exact path to decide.
 */
static bool mean_fp(const ka_xsum_t *xs, double n, double *mean)
{
        double h, l, q, p, pe, a, r, err, half, ulp;
        uint64_t u;

        ka_xsum_two_sum(xs->hi, xs->lo, &h, &l);
        q = h / n;
        u = ka_double_bits(q);
        if (!(fabs(q) >= 0x1p-900 && fabs(q) <= 0x1p900) ||
            (u & FRAC_MASK) == 0)
                return false;
        ka_xsum_two_prod(q, n, &p, &pe);
        a = h - p; /* exact: p is within an ulp or two of h */
        r = (a - pe) + l;
        err = 0x1p-50 * (fabs(a) + fabs(pe) + fabs(l));
        ulp = ka_xsum_pow2(ka_xsum_ilogb(q) - 52);
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

double ka_xsum_mean(const ka_xsum_t *xs, size_t n)
{
        double mean;

        if (xs->fp && mean_fp(xs, (double)n, &mean))
                return mean;
        return xsum_div_round(xs, n);
}

/*
 * The exact variance, in big unsigned integers of KA_XSUM_VAR_LIMBS
 * little-endian limbs: values in units of 2^-1075 (half the smallest
 * subnormal, so that midpoints between subnormals are integers too), their
 * squares in units of 2^-2150. A value is below 2^2100 units, the sum of
 * fewer than 2^64 of them below 2^2164, its square and n sum(x^2) below
 * 2^4328: 68 limbs, and two to spare.
 */
#define VAR_LIMBS KA_XSUM_VAR_LIMBS

/* a += v 2^sh; the sum must fit. */
static void big_add(uint64_t *a, u128 v, unsigned sh)
{
        size_t at = sh / 64;
        unsigned b = sh % 64;
        u128 lo = v << b;
        uint64_t w[3] = {(uint64_t)lo, (uint64_t)(lo >> 64),
                         b ? (uint64_t)(v >> (128 - b)) : 0};
        bool carry = false;

        assert(at + 2 < VAR_LIMBS);
        for (size_t i = 0; i < 3; i++) {
                uint64_t t = a[at + i] + w[i];
                bool c = t < w[i];

                a[at + i] = t + carry;
                carry = c || (carry && a[at + i] == 0);
        }
        for (size_t i = at + 3; carry; i++) {
                assert(i < VAR_LIMBS);
                carry = ++a[i] == 0;
        }
}

/* a -= b, modulo 2^(64 VAR_LIMBS); returns whether it borrowed (a < b). */
static bool big_sub(uint64_t *a, const uint64_t *b)
{
        uint64_t borrow = 0;

        for (size_t i = 0; i < VAR_LIMBS; i++) {
                uint64_t x = a[i], y = b[i];

                a[i] = x - y - borrow;
                borrow = (uint64_t)(x < y || x - y < borrow);
        }
        return borrow != 0;
}

/* a = -a, modulo 2^(64 VAR_LIMBS). */
static void big_neg(uint64_t *a)
{
        uint64_t carry = 1;

        for (size_t i = 0; i < VAR_LIMBS; i++) {
                a[i] = ~a[i] + carry;
                carry = carry && a[i] == 0;
        }
}

/* a *= m; the product must fit. */
static void big_mul_u64(uint64_t *a, uint64_t m)
{
        u128 carry = 0;

        for (size_t i = 0; i < VAR_LIMBS; i++) {
                u128 t = (u128)a[i] * m + carry;

                a[i] = (uint64_t)t;
                carry = t >> 64;
        }
        assert(carry == 0);
}

/* r = a * a, r not a; the square must fit. */
static void big_sqr(uint64_t *r, const uint64_t *a)
{
        size_t len = VAR_LIMBS;

        while (len > 0 && a[len - 1] == 0)
                len--;
        memset(r, 0, VAR_LIMBS * sizeof(*r));
        for (size_t i = 0; i < len; i++) {
                u128 carry = 0;

                for (size_t j = 0; j < len; j++) {
                        /* at most (2^64 - 1)^2 + 2 (2^64 - 1): no overflow */
                        u128 t = (u128)a[i] * a[j] + r[i + j] + carry;

                        r[i + j] = (uint64_t)t;
                        carry = t >> 64;
                }
                assert(i + len < VAR_LIMBS || carry == 0);
                if (i + len < VAR_LIMBS)
                        r[i + len] = (uint64_t)carry;
        }
}

static int big_cmp(const uint64_t *a, const uint64_t *b)
{
        for (size_t i = VAR_LIMBS; i-- > 0;) {
                if (a[i] != b[i])
                        return a[i] < b[i] ? -1 : 1;
        }
        return 0;
}

void ka_xsum_var_compute(ka_xsum_var_t *var, const double *x, size_t n)
{
        uint64_t pos[VAR_LIMBS] = {0}, neg[VAR_LIMBS] = {0}, s2[VAR_LIMBS];
        bool negative;

        assert(n >= 2);
        memset(var->nss, 0, sizeof(var->nss));
        for (size_t i = 0; i < n; i++) {
                uint64_t u = ka_double_bits(x[i]), m;
                unsigned p = (unsigned)lsb_pos(u, &m) + 1;

                big_add(u >> 63 ? neg : pos, m, p);
                big_add(var->nss, (u128)m * m, 2 * p);
        }
        /* n sum(x^2) - S^2, never negative (Cauchy-Schwarz) */
        if (big_sub(pos, neg))
                big_neg(pos);
        big_sqr(s2, pos);
        big_mul_u64(var->nss, n);
        negative = big_sub(var->nss, s2);
        assert(!negative);
        (void)negative;
        var->n = n;
}

int ka_xsum_var_cmp(const ka_xsum_var_t *var, uint64_t m, int e)
{
        uint64_t rhs[VAR_LIMBS] = {0};

        /* n (n - 1) var against n (n - 1) mid^2 */
        assert(m < (UINT64_C(1) << 54) && e >= -1075 &&
               (m == 0 || e + 64 - __builtin_clzll(m) <= 1024));
        big_add(rhs, (u128)m * m, 2 * (unsigned)(e + 1075));
        big_mul_u64(rhs, var->n);
        big_mul_u64(rhs, var->n - 1);
        return big_cmp(var->nss, rhs);
}
