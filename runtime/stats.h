/*
 * Summary statistics of one window's values of a field (SPEC §7): exactly
 * what CPython 3.11's statistics module returns for the same values, in
 * O(n) per window and without allocating once the scratch buffers have
 * grown to the largest window seen.
 */
#ifndef KA_STATS_H
#define KA_STATS_H

#include "agent.h"
#include "ka.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Scratch space for ka_stats_compute(): buffers that grow geometrically to
 * the largest window seen and are reused across windows. Not thread-safe:
 * use one per thread.
 */
typedef struct ka_stats_s ka_stats_t;

/* Returns a new, empty context, or NULL when out of memory. */
ka_stats_t *ka_stats_new(void);

/* Frees st and its buffers; ka_stats_destroy(NULL) is a no-op. */
void ka_stats_destroy(ka_stats_t *st);

/*
 * Computes ops[0..nops) over one field's column and writes out[i] for
 * ops[i]. values[0..n) is the column in arrival order, NaN marking a
 * missing value (values may be NULL when n is 0); it is only read.
 *
 * Results, as CPython 3.11 computes them over the non-NaN values:
 *   KA_OP_MIN, KA_OP_MAX   min(), max() (the first of equal values, which
 *                          matters for -0.0 and 0.0)
 *   KA_OP_MEAN             statistics.mean(): the exact sum divided by the
 *                          count, correctly rounded
 *   KA_OP_SUM              math.fsum(): the exact sum, correctly rounded
 *   KA_OP_MEDIAN           statistics.median()
 *   KA_OP_Q1, KA_OP_Q3     statistics.quantiles(n=4) (method 'exclusive')
 *   KA_OP_STDEV            statistics.stdev() (sample): the square root of
 *                          the exact variance, correctly rounded
 * MIN, MAX, MEDIAN, Q1 and Q3 are bit for bit CPython's, as are MEAN, SUM
 * and STDEV whenever the result is finite. (STDEV is computed in
 * double-double arithmetic; a result within its error bound of a tie
 * between two doubles is settled with the exact variance.)
 *
 * No values left gives NaN for every op; one value gives NaN for STDEV, Q1
 * and Q3. Where CPython raises instead of returning, the result is: sum
 * (and mean) of +inf and -inf is NaN, a sum or stdev too large for a
 * double is +-inf, a stdev of values including an infinity is NaN, and a
 * sum whose partial sums overflow (math.fsum raises) is the exact sum,
 * correctly rounded.
 *
 * min_sample_size: when n (the number of messages, NaN entries included)
 * is below it, every op yields the first non-NaN value (NaN if none).
 *
 * Work is shared between ops and done only for the ops asked: one copy of
 * the column, one exact sum (mean, sum, stdev; xsum.h), one selection for
 * all of median, q1 and q3 (select.h: a counting pass into value-range
 * buckets, then only the buckets holding the wanted ranks sorted;
 * quickselect where buckets do not split the values; O(n) expected
 * whatever the order of the values; sorting networks below 17 values). No
 * allocation once st has seen a window this large.
 *
 * Returns KA_OK, KA_ERR_INVALID (NULL st, ops or out, NULL values with
 * n > 0, or an op outside ka_op_t) or KA_ERR_NOMEM (growing the scratch
 * buffers failed; st stays usable). out is undefined on error.
 */
ka_err_t ka_stats_compute(ka_stats_t *st, const double *values, size_t n,
                          int32_t min_sample_size, const ka_op_t *ops,
                          size_t nops, double *out);

#endif
