/*
 * Selection for the window statistics (SPEC §7): the values of a few ranks
 * of a column, as a sort would place them (for median, q1 and q3), in O(n)
 * expected time whatever the order of the values, without sorting it.
 */
#ifndef KA_SELECT_H
#define KA_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ranks asked of one selection, at most: two each for median, q1, q3. */
#define KA_SELECT_MAX_RANKS 6
/* Ranges this short are sorted by a network instead of partitioned. */
#define KA_SELECT_SMALL 16
/* Largest window where one or two ranks go to value-range buckets. */
#define KA_SELECT_FEW_RANKS_MAX 256
/* Value-range buckets, at most: 64 KB of counts. */
#define KA_SELECT_BUCKETS_MAX ((size_t)1 << 14)
/* Windows up to this size are scattered whole into buckets. */
#define KA_SELECT_SCATTER_MAX 4096

/*
 * Memory a selection works in, owned and grown by the caller (stats.c
 * keeps one per ka_stats_t). For a selection among n values: buf and tmp
 * hold n doubles each, cnt min(n, KA_SELECT_BUCKETS_MAX) and idx
 * min(n, KA_SELECT_SCATTER_MAX) counts. rng is the state of the random
 * pivots that take over when deterministic ones went badly: any nonzero
 * value to start with, then left to the selection.
 */
typedef struct ka_select_scratch_s {
        double *buf;   /* the values, when the caller put them here */
        double *tmp;   /* target of out-of-place partitions */
        uint32_t *cnt; /* bucket counts */
        uint32_t *idx; /* each value's bucket */
        uint64_t rng;
} ka_select_scratch_t;

/*
 * Sets rv[i] to the value of rank rk[i] (a 0-based position in ascending
 * order) among v[0..n), for the nrk <= KA_SELECT_MAX_RANKS ranks rk,
 * ascending, distinct and below n. The values must not be NaN; mn and mx
 * are their min and max. v is either sc->buf, whose values are then
 * permuted, or memory of the caller, only read (copied to sc->buf first
 * when the selection works in place, see ka_select_in_place()). 0.0 and
 * -0.0 compare equal here: a selected zero may have either sign until
 * ka_select_fix_zeros() gives it the one a stable sort would.
 */
void ka_select_ranks(ka_select_scratch_t *sc, const double *v, size_t n,
                     double mn, double mx, const size_t *rk, double *rv,
                     size_t nrk);

/*
 * Gives each zero among the selected rv[0..nrk) (ranks rk, as for
 * ka_select_ranks()) the sign that CPython's stable sorted() would put at
 * its rank: zeros keep their arrival order in v[0..n), the column in
 * arrival order (NaN entries allowed and skipped). One or two passes over
 * v, only when a selected value is zero.
 */
void ka_select_fix_zeros(const double *v, size_t n, const size_t *rk,
                         double *rv, size_t nrk);

/*
 * Whether ka_select_ranks() of up to nrk ranks among n values sorts or
 * partitions its input in place, rather than scattering it from where it
 * lies into sc->tmp: then a caller that must copy the column anyway (to
 * drop NaN) best copies it to sc->buf.
 */
static inline bool ka_select_in_place(size_t n, size_t nrk)
{
        return n <= KA_SELECT_SMALL ||
               (nrk <= 2 && n > KA_SELECT_FEW_RANKS_MAX);
}

#endif
