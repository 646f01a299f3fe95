/*
 * The windows module (SPEC §6, §10): scripted event-time sequences with the
 * windows they must close, checked against expectations computed here
 * independently (floor division in floating point, a model of the watermark
 * and of the offsets held), plus a randomized property test of the
 * committable offset.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ka.h"
#include "ka_test.h"
#include "window.h"

/* A row of scalars only, as the windows take it. */
#define ROW(...) (&(ka_row_t){.vals = (__VA_ARGS__)})

/* An epoch time around 1.7e12 ms (2023-11-14), aligned to 1 s and 0.5 s
 * but not to 1.5 s or 1 h. */
#define B INT64_C(1700000000000)

#define MAX_PARTS 4

/* A copy of one window passed to the close callback. */
typedef struct closed_s {
        int64_t start, end;
        bool key_null;
        char key[32];
        size_t keylen;
        size_t count;
        double *cols; /* nfields columns of count values */
        int64_t low[MAX_PARTS];
} closed_t;

typedef struct rec_s {
        size_t nfields;
        size_t nparts;
        closed_t *v;
        size_t n, cap;
} rec_t;

static void record(const ka_window_t *win, void *opaque)
{
        rec_t *rec = opaque;
        closed_t *c;
        const void *key;
        size_t f, n, i;

        if (rec->n == rec->cap) {
                rec->cap = rec->cap ? rec->cap * 2 : 16;
                rec->v = realloc(rec->v, rec->cap * sizeof(*rec->v));
                assert_non_null(rec->v);
        }
        c = &rec->v[rec->n++];
        memset(c, 0, sizeof(*c));
        c->start = ka_window_start_ms(win);
        c->end = ka_window_end_ms(win);
        key = ka_window_key(win, &c->keylen);
        c->key_null = key == NULL;
        assert_true(c->keylen < sizeof(c->key));
        if (key != NULL)
                memcpy(c->key, key, c->keylen);
        c->count = ka_window_count(win);
        assert_true(c->count >= 1);
        c->cols = calloc(rec->nfields * c->count + 1, sizeof(double));
        assert_non_null(c->cols);
        for (f = 0; f < rec->nfields; f++) {
                const double *col = ka_window_column(win, f, &n);

                assert_non_null(col);
                assert_int_equal(n, c->count);
                memcpy(c->cols + f * n, col, n * sizeof(*col));
        }
        assert_null(ka_window_column(win, rec->nfields, &n));
        assert_int_equal(n, 0);
        for (i = 0; i < MAX_PARTS; i++)
                c->low[i] = ka_window_low_offset(win, i);
}

static void rec_clear(rec_t *rec)
{
        size_t i;

        for (i = 0; i < rec->n; i++)
                free(rec->v[i].cols);
        rec->n = 0;
}

static void rec_free(rec_t *rec)
{
        rec_clear(rec);
        free(rec->v);
}

static double col_value(const closed_t *c, size_t field, size_t i)
{
        return c->cols[field * c->count + i];
}

/* The oracle for window starts: floor division in double precision, exact
 * for the magnitudes used here (< 2^53). */
static int64_t oracle_start(int64_t t, int64_t size)
{
        return (int64_t)floor((double)t / (double)size) * size;
}

static ka_windows_t *make(int64_t size, int64_t exp, int64_t idle, bool by_key,
                          size_t nfields, size_t nparts)
{
        ka_window_config_t cfg = {
                .size_ms = size,
                .expiration_ms = exp,
                .idle_timeout_ms = idle,
                .group_by_key = by_key,
                .nfields = nfields,
        };
        ka_windows_t *w = ka_windows_new(&cfg, nparts);

        assert_non_null(w);
        return w;
}

static ka_window_add_result_t add(ka_windows_t *w, size_t part, int64_t offset,
                                  int64_t t, double v0, double v1)
{
        double row[2] = {v0, v1};

        return ka_windows_add(w, part, offset, t, NULL, 0, ROW(row));
}

/* Report every slot caught up at now, so that all are idle idle_ms later. */
static void all_caught_up(ka_windows_t *w, size_t nparts, int64_t now)
{
        size_t i;

        for (i = 0; i < nparts; i++)
                ka_windows_partition_idle(w, i, true, now);
}

static uint64_t stat_late(const ka_windows_t *w)
{
        ka_windows_stats_t st;

        ka_windows_stats(w, &st);
        return st.late;
}

static size_t stat_open(const ka_windows_t *w)
{
        ka_windows_stats_t st;

        ka_windows_stats(w, &st);
        return st.open;
}

/*
 * In-order messages at epoch times around 1.7e12 with window sizes 1 s,
 * 0.5 s, 1.5 s and 1 h: each window closes as soon as the watermark (the
 * last event time) reaches its end, aligned to floor(t / size) * size,
 * with its messages' values in arrival order.
 */
static void in_order_sizes(void **state)
{
        static const int64_t sizes[] = {1000, 500, 1500, 3600000};
        size_t s;

        for (s = 0; s < KA_ARRAY_SIZE(sizes); s++) {
                int64_t size = sizes[s], step = size / 7 + 3;
                int64_t t0 = B + 123, first_open = 0;
                rec_t rec = {.nfields = 2, .nparts = 1};
                ka_windows_t *w = make(size, 0, 1000, false, 2, 1);
                size_t i, j, k, nclosed = 0, nmsg = 60;

                for (i = 0; i < nmsg; i++) {
                        int64_t t = t0 + (int64_t)i * step;

                        assert_int_equal(add(w, 0, (int64_t)i, t, (double)i,
                                             (double)(t - t0)),
                                         KA_WINDOW_ADDED);
                        rec_clear(&rec);
                        ka_windows_close(w, 0, record, &rec);
                        /* Expected: every window of earlier messages whose
                         * end is <= t, each once, in start order. */
                        k = 0;
                        for (j = (size_t)first_open; j < i; j++) {
                                int64_t tj = t0 + (int64_t)j * step;
                                int64_t st = oracle_start(tj, size);

                                if (st + size > t)
                                        break;
                                if (j > (size_t)first_open &&
                                    oracle_start(tj - step, size) == st)
                                        continue;
                                assert_true(k < rec.n);
                                assert_int_equal(rec.v[k].start, st);
                                assert_int_equal(rec.v[k].end, st + size);
                                assert_int_equal(rec.v[k].start % size, 0);
                                assert_true(rec.v[k].key_null);
                                k++;
                        }
                        assert_int_equal(rec.n, k);
                        for (k = 0; k < rec.n; k++) {
                                const closed_t *c = &rec.v[k];
                                size_t n = 0;

                                /* Its messages: consecutive indexes. */
                                for (j = (size_t)first_open; j < i; j++) {
                                        int64_t tj = t0 + (int64_t)j * step;

                                        if (oracle_start(tj, size) != c->start)
                                                continue;
                                        assert_true(n < c->count);
                                        assert_true(col_value(c, 0, n) ==
                                                    (double)j);
                                        assert_true(col_value(c, 1, n) ==
                                                    (double)(tj - t0));
                                        assert_int_equal(c->low[0],
                                                         (int64_t)j -
                                                                 (int64_t)n);
                                        n++;
                                }
                                assert_int_equal(n, c->count);
                                first_open += (int64_t)n;
                        }
                        nclosed += rec.n;
                }
                /* Several windows closed, the last one is still open. */
                assert_true(nclosed >= 5);
                assert_int_equal(stat_open(w), 1);
                assert_int_equal(ka_windows_low_offset(w, 0), first_open);
                assert_int_equal(stat_late(w), 0);
                rec_clear(&rec);
                rec_free(&rec);
                ka_windows_destroy(w);
        }
}

/* Hand-computed starts, including negative times and fractional sizes. */
static void start_alignment(void **state)
{
        static const struct {
                int64_t size, t, start;
        } cases[] = {
                {1500, B + 123, B - 500},
                {1500, B - 500, B - 500},
                {1500, B - 501, B - 2000},
                {3600000, B, B - 800000},
                {500, 499, 0},
                {500, 0, 0},
                {500, -1, -500},
                {500, -500, -500},
                {500, -501, -1000},
                {1500, -1, -1500},
                {1000, -B - 1, -B - 1000},
        };
        size_t i;

        for (i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                rec_t rec = {.nfields = 2, .nparts = 1};
                ka_windows_t *w = make(cases[i].size, 0, 0, false, 2, 1);

                assert_int_equal(add(w, 0, 0, cases[i].t, 1, 2),
                                 KA_WINDOW_ADDED);
                all_caught_up(w, 1, 0);
                assert_int_equal(ka_windows_close(w, 0, record, &rec), 1);
                assert_int_equal(rec.v[0].start, cases[i].start);
                assert_int_equal(rec.v[0].end, cases[i].start + cases[i].size);
                assert_int_equal(oracle_start(cases[i].t, cases[i].size),
                                 cases[i].start);
                rec_free(&rec);
                ka_windows_destroy(w);
        }
}

/* Windows of messages added before any close(), flushed in start order. */
static void negative_times_flush_in_order(void **state)
{
        static const int64_t ts[] = {499, 0, -1, -500, -501};
        rec_t rec = {.nfields = 2, .nparts = 1};
        ka_windows_t *w = make(500, 0, 0, false, 2, 1);
        size_t i;

        for (i = 0; i < KA_ARRAY_SIZE(ts); i++)
                assert_int_equal(add(w, 0, (int64_t)i, ts[i], (double)ts[i], 0),
                                 KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_add(w, 0, 9, -KA_WINDOW_MAX_MS, NULL, 0,
                                        ROW((double[2]){0, 0})),
                         KA_WINDOW_ADDED);
        all_caught_up(w, 1, 0);
        assert_int_equal(ka_windows_close(w, 0, record, &rec), 4);
        assert_int_equal(rec.v[0].start, oracle_start(-KA_WINDOW_MAX_MS, 500));
        assert_int_equal(rec.v[1].start, -1000);
        assert_int_equal(rec.v[1].count, 1);
        assert_true(col_value(&rec.v[1], 0, 0) == -501);
        assert_int_equal(rec.v[2].start, -500);
        assert_int_equal(rec.v[2].count, 2);
        assert_true(col_value(&rec.v[2], 0, 0) == -1);
        assert_true(col_value(&rec.v[2], 0, 1) == -500);
        assert_int_equal(rec.v[3].start, 0);
        assert_int_equal(rec.v[3].count, 2);
        assert_int_equal(rec.v[3].low[0], 0);
        rec_free(&rec);
        ka_windows_destroy(w);
}

/*
 * Expiration 2 s: a message 2.85 s behind the watermark still joins its
 * open window; once the watermark passes end + expiration, the window
 * closes and later messages for it are late.
 */
static void out_of_order_within_grace(void **state)
{
        rec_t rec = {.nfields = 2, .nparts = 1};
        ka_windows_t *w = make(1000, 2000, 1000, false, 2, 1);

        assert_int_equal(add(w, 0, 0, B + 100, 1, 0), KA_WINDOW_ADDED);
        assert_int_equal(add(w, 0, 1, B + 1500, 2, 0), KA_WINDOW_ADDED);
        assert_int_equal(add(w, 0, 2, B + 2900, 3, 0), KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_close(w, 0, record, &rec), 0);
        assert_int_equal(add(w, 0, 3, B + 50, 4, 0), KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_close(w, 0, record, &rec), 0);
        assert_int_equal(ka_windows_low_offset(w, 0), 0);

        /* Watermark B + 3000 = end + expiration of [B, B + 1000). */
        assert_int_equal(add(w, 0, 4, B + 3000, 5, 0), KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_close(w, 0, record, &rec), 1);
        assert_int_equal(rec.v[0].start, B);
        assert_int_equal(rec.v[0].count, 2);
        assert_true(col_value(&rec.v[0], 0, 0) == 1);
        assert_true(col_value(&rec.v[0], 0, 1) == 4);
        assert_int_equal(rec.v[0].low[0], 0);
        assert_int_equal(ka_windows_low_offset(w, 0), 1);
        assert_int_equal(ka_windows_closed_through(w, 0), B + 3000);

        assert_int_equal(add(w, 0, 5, B + 999, 6, 0), KA_WINDOW_LATE);
        assert_int_equal(stat_late(w), 1);
        /* [B + 1000, B + 2000) closes at B + 4000: still open. */
        assert_int_equal(add(w, 0, 6, B + 1999, 7, 0), KA_WINDOW_ADDED);
        assert_int_equal(add(w, 0, 7, B + 4100, 8, 0), KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_close(w, 0, record, &rec), 1);
        assert_int_equal(rec.v[1].start, B + 1000);
        assert_int_equal(rec.v[1].count, 2);
        assert_true(col_value(&rec.v[1], 0, 1) == 7);
        assert_int_equal(ka_windows_low_offset(w, 0), 2);

        all_caught_up(w, 1, 0);
        assert_int_equal(ka_windows_close(w, 1000, record, &rec), 3);
        assert_int_equal(rec.v[2].start, B + 2000);
        assert_int_equal(rec.v[3].start, B + 3000);
        assert_int_equal(rec.v[4].start, B + 4000);
        assert_int_equal(ka_windows_low_offset(w, 0), -1);
        assert_int_equal(stat_late(w), 1);
        rec_free(&rec);
        ka_windows_destroy(w);
}

/*
 * Expiration 0: once the watermark reached B + 1000, every window ending
 * at or before it is closed, including ones that never had a message.
 */
static void late_beyond_grace(void **state)
{
        rec_t rec = {.nfields = 2, .nparts = 1};
        ka_windows_t *w = make(1000, 0, 1000, false, 2, 1);

        assert_int_equal(add(w, 0, 10, B, 1, 0), KA_WINDOW_ADDED);
        assert_int_equal(add(w, 0, 11, B + 1000, 2, 0), KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_close(w, 0, record, &rec), 1);
        assert_int_equal(rec.v[0].count, 1);
        assert_int_equal(add(w, 0, 12, B + 500, 3, 0), KA_WINDOW_LATE);
        assert_int_equal(add(w, 0, 13, B - 5000, 4, 0), KA_WINDOW_LATE);
        assert_int_equal(add(w, 0, 14, B + 1001, 5, 0), KA_WINDOW_ADDED);
        assert_int_equal(stat_late(w), 2);
        /* Late messages hold no offset. */
        assert_int_equal(ka_windows_low_offset(w, 0), 11);
        all_caught_up(w, 1, 0);
        assert_int_equal(ka_windows_close(w, 1000, record, &rec), 1);
        assert_int_equal(rec.v[1].count, 2);
        assert_true(col_value(&rec.v[1], 0, 0) == 2);
        assert_true(col_value(&rec.v[1], 0, 1) == 5);
        rec_free(&rec);
        ka_windows_destroy(w);
}

/*
 * Idleness: caught up and quiet for the idle timeout. With every partition
 * idle, all windows close; one active partition then sets the watermark on
 * its own.
 */
static void idle_flush(void **state)
{
        rec_t rec = {.nfields = 2, .nparts = 2};
        ka_windows_t *w = make(1000, 0, 5000, false, 2, 2);
        const int64_t t0 = 1000000;

        assert_int_equal(add(w, 0, 0, B + 100, 1, 0), KA_WINDOW_ADDED);
        assert_int_equal(add(w, 1, 0, B + 200, 2, 0), KA_WINDOW_ADDED);
        assert_int_equal(add(w, 0, 1, B + 1100, 3, 0), KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_watermark(w, t0), B + 200);
        assert_int_equal(ka_windows_close(w, t0, record, &rec), 0);

        assert_false(ka_windows_partition_idle(w, 0, true, t0));
        assert_false(ka_windows_partition_idle(w, 1, true, t0));
        assert_int_equal(ka_windows_close(w, t0 + 4999, record, &rec), 0);
        assert_false(ka_windows_partition_idle(w, 0, true, t0 + 4999));
        assert_true(ka_windows_partition_idle(w, 0, true, t0 + 5000));
        assert_true(ka_windows_partition_idle(w, 1, true, t0 + 5000));
        assert_int_equal(ka_windows_watermark(w, t0 + 5000), INT64_MAX);
        assert_int_equal(ka_windows_close(w, t0 + 5000, record, &rec), 2);
        assert_int_equal(rec.v[0].start, B);
        assert_int_equal(rec.v[0].count, 2);
        assert_int_equal(rec.v[0].low[0], 0);
        assert_int_equal(rec.v[0].low[1], 0);
        assert_int_equal(rec.v[1].start, B + 1000);
        assert_int_equal(rec.v[1].count, 1);
        assert_int_equal(rec.v[1].low[1], -1);
        assert_int_equal(ka_windows_closed_through(w, 0), B + 2000);

        /* The flushed window is closed: a message for it is late. */
        assert_int_equal(add(w, 1, 1, B + 1500, 4, 0), KA_WINDOW_LATE);
        assert_int_equal(add(w, 1, 2, B + 2000, 5, 0), KA_WINDOW_ADDED);
        /* Slot 1 had an arrival since its last report: active again. */
        assert_int_equal(ka_windows_watermark(w, t0 + 6000), B + 2000);
        assert_int_equal(ka_windows_close(w, t0 + 6000, record, &rec), 0);
        /* Its activity counts from this report; then it is behind. */
        assert_false(ka_windows_partition_idle(w, 1, true, t0 + 6000));
        assert_false(ka_windows_partition_idle(w, 1, false, t0 + 12000));
        assert_int_equal(ka_windows_close(w, t0 + 12000, record, &rec), 0);
        assert_true(ka_windows_partition_idle(w, 1, true, t0 + 12000));
        assert_int_equal(ka_windows_close(w, t0 + 12000, record, &rec), 1);
        assert_int_equal(rec.v[2].start, B + 2000);
        rec_free(&rec);
        ka_windows_destroy(w);
}

/* Without idle_timeout_ms: window size + expiration + 1 s (SPEC §6). */
static void idle_default_timeout(void **state)
{
        ka_windows_t *w = make(1000, 500, -1, false, 2, 1);

        assert_false(ka_windows_partition_idle(w, 0, true, 0));
        assert_false(ka_windows_partition_idle(w, 0, true, 2499));
        assert_true(ka_windows_partition_idle(w, 0, true, 2500));
        assert_false(ka_windows_partition_idle(w, 0, false, 2500));
        ka_windows_destroy(w);
}

/*
 * Slot 0 is read 100 windows ahead of slot 1, which has no message yet:
 * nothing closes and nothing is late. Windows then close one by one as
 * slot 1 catches up, each with the messages of both slots.
 */
static void partition_far_ahead(void **state)
{
        rec_t rec = {.nfields = 2, .nparts = 2};
        ka_windows_t *w = make(1000, 0, 5000, false, 2, 2);
        int64_t k, m, off;
        size_t closed = 0;

        for (off = 0; off < 300; off++) {
                k = off / 3;
                m = off % 3;
                assert_int_equal(
                        add(w, 0, off, B + k * 1000 + m * 300, 0, (double)off),
                        KA_WINDOW_ADDED);
                assert_int_equal(ka_windows_close(w, 0, record, &rec), 0);
        }
        assert_int_equal(ka_windows_watermark(w, 0), INT64_MIN);
        assert_int_equal(stat_open(w), 100);
        /* Slot 1 caught up but not yet idle: still holds the watermark. */
        ka_windows_partition_idle(w, 1, true, 0);
        assert_int_equal(ka_windows_close(w, 4999, record, &rec), 0);
        ka_windows_partition_idle(w, 1, false, 5000);

        for (off = 0; off < 300; off++) {
                k = off / 3;
                m = off % 3;
                assert_int_equal(
                        add(w, 1, off, B + k * 1000 + m * 300, 1, (double)off),
                        KA_WINDOW_ADDED);
                rec_clear(&rec);
                ka_windows_close(w, 5000, record, &rec);
                if (m != 0 || k == 0) {
                        assert_int_equal(rec.n, 0);
                        continue;
                }
                /* The first message of window k closes window k - 1. */
                assert_int_equal(rec.n, 1);
                assert_int_equal(rec.v[0].start, B + (k - 1) * 1000);
                assert_int_equal(rec.v[0].count, 6);
                assert_int_equal(rec.v[0].low[0], (k - 1) * 3);
                assert_int_equal(rec.v[0].low[1], (k - 1) * 3);
                /* Slot 0's messages first (arrival order), then slot 1's. */
                assert_true(col_value(&rec.v[0], 0, 0) == 0);
                assert_true(col_value(&rec.v[0], 0, 3) == 1);
                assert_true(col_value(&rec.v[0], 1, 5) ==
                            (double)((k - 1) * 3 + 2));
                assert_int_equal(ka_windows_low_offset(w, 0), k * 3);
                assert_int_equal(ka_windows_low_offset(w, 1), k * 3);
                closed++;
        }
        assert_int_equal(closed, 99);
        assert_int_equal(stat_late(w), 0);

        /* Slot 1 idle, slot 0 not: the watermark is slot 0's, B + 99600,
         * short of the last window's end. */
        ka_windows_partition_idle(w, 1, true, 5000);
        rec_clear(&rec);
        assert_int_equal(ka_windows_close(w, 10000, record, &rec), 0);
        assert_int_equal(ka_windows_watermark(w, 10000), B + 99600);
        ka_windows_partition_idle(w, 0, true, 10000);
        assert_int_equal(ka_windows_close(w, 15000, record, &rec), 1);
        assert_int_equal(rec.v[0].start, B + 99000);
        assert_int_equal(rec.v[0].count, 6);
        rec_free(&rec);
        ka_windows_destroy(w);
}

/* A slot that never gets a message holds everything back until it is
 * idle; then the other slot's watermark closes all but the last window. */
static void empty_partition_goes_idle(void **state)
{
        rec_t rec = {.nfields = 2, .nparts = 2};
        ka_windows_t *w = make(500, 0, 2000, false, 2, 2);
        int64_t i;

        for (i = 0; i < 40; i++)
                assert_int_equal(add(w, 0, i, B + i * 250, (double)i, 0),
                                 KA_WINDOW_ADDED);
        ka_windows_partition_idle(w, 0, false, 0);
        ka_windows_partition_idle(w, 1, true, 0);
        assert_int_equal(ka_windows_close(w, 1999, record, &rec), 0);
        assert_int_equal(ka_windows_close(w, 2000, record, &rec), 19);
        for (i = 0; i < 19; i++) {
                assert_int_equal(rec.v[i].start, B + i * 500);
                assert_int_equal(rec.v[i].count, 2);
                assert_true(col_value(&rec.v[i], 0, 1) == (double)(2 * i + 1));
        }
        assert_int_equal(ka_windows_low_offset(w, 0), 38);
        assert_int_equal(ka_windows_low_offset(w, 1), -1);
        rec_free(&rec);
        ka_windows_destroy(w);
}

static ka_window_add_result_t add_key(ka_windows_t *w, int64_t offset,
                                      int64_t t, const char *key, double v)
{
        char buf[16];
        double row[1] = {v};
        ka_window_add_result_t res;
        size_t len = key ? strlen(key) : 0;

        if (key == NULL)
                return ka_windows_add(w, 0, offset, t, NULL, 0, ROW(row));
        /* The caller's buffer is overwritten afterwards: keys are copied. */
        memcpy(buf, key, len + 1);
        res = ka_windows_add(w, 0, offset, t, buf, len, ROW(row));
        memset(buf, 'X', sizeof(buf));
        return res;
}

/* group_by_key: one window per (start, key), the null key apart from the
 * empty key, closed in (start, key) order. */
static void group_by_key(void **state)
{
        static const char *const keys[] = {"b", "a", NULL, "",   "ab",
                                           "b", "a", "ab", NULL, "b"};
        rec_t rec = {.nfields = 1, .nparts = 1};
        ka_windows_t *w = make(1000, 0, 1000, true, 1, 1);
        static const struct {
                bool null;
                const char *key;
                size_t count;
        } want[] = {{true, "", 2},
                    {false, "", 1},
                    {false, "a", 2},
                    {false, "ab", 2},
                    {false, "b", 3}};
        size_t i;

        for (i = 0; i < KA_ARRAY_SIZE(keys); i++)
                assert_int_equal(add_key(w, (int64_t)i, B + (int64_t)i, keys[i],
                                         (double)i),
                                 KA_WINDOW_ADDED);
        assert_int_equal(add_key(w, 20, B + 1000, "a", 20), KA_WINDOW_ADDED);
        assert_int_equal(add_key(w, 21, B + 1001, "zz", 21), KA_WINDOW_ADDED);
        assert_int_equal(stat_open(w), 7);
        assert_int_equal(ka_windows_close(w, 0, record, &rec), 5);
        for (i = 0; i < KA_ARRAY_SIZE(want); i++) {
                const closed_t *c = &rec.v[i];
                size_t j, n = 0;

                assert_int_equal(c->start, B);
                assert_int_equal(c->key_null, want[i].null);
                assert_int_equal(c->keylen, strlen(want[i].key));
                assert_memory_equal(c->key, want[i].key, c->keylen);
                assert_int_equal(c->count, want[i].count);
                for (j = 0; j < KA_ARRAY_SIZE(keys); j++) {
                        if ((keys[j] == NULL) != want[i].null ||
                            (keys[j] && strcmp(keys[j], want[i].key) != 0))
                                continue;
                        if (n == 0)
                                assert_int_equal(c->low[0], (int64_t)j);
                        assert_true(col_value(c, 0, n) == (double)j);
                        n++;
                }
                assert_int_equal(n, c->count);
        }
        assert_int_equal(ka_windows_low_offset(w, 0), 20);

        /* The late rule is per start, whatever the key. */
        assert_int_equal(add_key(w, 22, B + 5, "new", 22), KA_WINDOW_LATE);
        ka_windows_destroy(w);
        rec_free(&rec);

        /* Without group_by_key, keys are ignored: one window. */
        rec = (rec_t){.nfields = 1, .nparts = 1};
        w = make(1000, 0, 1000, false, 1, 1);
        for (i = 0; i < KA_ARRAY_SIZE(keys); i++)
                assert_int_equal(add_key(w, (int64_t)i, B + (int64_t)i, keys[i],
                                         (double)i),
                                 KA_WINDOW_ADDED);
        all_caught_up(w, 1, 0);
        assert_int_equal(ka_windows_close(w, 1000, record, &rec), 1);
        assert_true(rec.v[0].key_null);
        assert_int_equal(rec.v[0].count, KA_ARRAY_SIZE(keys));
        rec_free(&rec);
        ka_windows_destroy(w);
}

/* Many keys: the hash table grows and every key keeps its own window. */
static void many_keys(void **state)
{
        rec_t rec = {.nfields = 1, .nparts = 1};
        ka_windows_t *w = make(1000, 0, 1000, true, 1, 1);
        char key[32];
        int i, round;

        for (round = 0; round < 3; round++)
                for (i = 0; i < 1000; i++) {
                        int len = snprintf(key, sizeof(key), "key-%04d", i);

                        assert_int_equal(
                                ka_windows_add(w, 0, round * 1000 + i,
                                               B + round * 100, key,
                                               (size_t)len,
                                               ROW((double[1]){(double)i})),
                                KA_WINDOW_ADDED);
                }
        assert_int_equal(stat_open(w), 1000);
        all_caught_up(w, 1, 0);
        assert_int_equal(ka_windows_close(w, 1000, record, &rec), 1000);
        for (i = 0; i < 1000; i++) {
                snprintf(key, sizeof(key), "key-%04d", i);
                assert_int_equal(rec.v[i].keylen, 8);
                assert_memory_equal(rec.v[i].key, key, 8);
                assert_int_equal(rec.v[i].count, 3);
                assert_true(col_value(&rec.v[i], 0, 2) == (double)i);
                assert_int_equal(rec.v[i].low[0], i);
        }
        rec_free(&rec);
        ka_windows_destroy(w);
}

/*
 * After a burst (5000 keys in one window, then one window of 100000 rows),
 * the recycled windows kept shrink back to what one key a second needs,
 * and the big window's columns are freed: memory follows the steady state.
 */
static void burst_memory_returned(void **state)
{
        ka_windows_t *w = make(1000, 0, 1000, true, 1, 1);
        ka_windows_stats_t st;
        char key[32];
        int64_t off = 0, k;
        int i;

        for (i = 0; i < 5000; i++, off++) {
                int len = snprintf(key, sizeof(key), "key-%04d", i);

                assert_int_equal(ka_windows_add(w, 0, off, B + 100, key,
                                                (size_t)len,
                                                ROW((double[1]){1.0})),
                                 KA_WINDOW_ADDED);
        }
        for (i = 0; i < 100000; i++, off++)
                assert_int_equal(ka_windows_add(w, 0, off, B + 1100, "big", 3,
                                                ROW((double[1]){2.0})),
                                 KA_WINDOW_ADDED);
        for (k = 2; k < 200; k++) {
                assert_int_equal(ka_windows_add(w, 0, off++, B + k * 1000,
                                                "one", 3,
                                                ROW((double[1]){3.0})),
                                 KA_WINDOW_ADDED);
                all_caught_up(w, 1, 0);
                ka_windows_close(w, k * 1000, NULL, NULL);
                ka_windows_stats(w, &st);
                if (k == 2)
                        assert_true(st.cached >= 4000);
        }
        ka_windows_stats(w, &st);
        /* Caught up and quiet: each round closes its own window too. */
        assert_int_equal(st.closed, 5000 + 1 + 198);
        assert_true(st.cached <= 2);
        assert_true(st.freed >= 5000 - 2);
        /* A steady state of two windows at a time (one open while the
         * previous closes) allocates nothing after its first round. */
        for (i = 200; i < 300; i++) {
                if (i == 202) {
                        ka_windows_stats(w, &st);
                        k = (int64_t)st.allocs;
                }
                ka_windows_add(w, 0, off++, B + i * 1000, "one", 3,
                               ROW((double[1]){3.0}));
                ka_windows_close(w, i * 1000, NULL, NULL);
        }
        ka_windows_stats(w, &st);
        assert_int_equal((int64_t)st.allocs, k);
        ka_windows_destroy(w);
}

/* A small deterministic generator for the property test. */
static uint64_t rng_next(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static int64_t rng_below(uint64_t *s, int64_t n)
{
        return (int64_t)(rng_next(s) % (uint64_t)n);
}

/* The model of the property test: every message added, and which are held
 * by open windows. */
typedef struct model_msg_s {
        size_t part;
        int64_t offset;
        int64_t start;
        bool held;
} model_msg_t;

typedef struct model_s {
        int64_t size, exp;
        model_msg_t *msgs;
        size_t n;
        int64_t wm;         /* the watermark of the close in progress */
        bool all;           /* that close flushes everything */
        int64_t last_start; /* start of the previous window closed */
        size_t nclosed;
} model_t;

static void model_check_window(const ka_window_t *win, void *opaque)
{
        model_t *m = opaque;
        int64_t start = ka_window_start_ms(win);
        int64_t low[3] = {-1, -1, -1};
        size_t i, n = 0, cnt = ka_window_count(win), len;
        const double *parts = ka_window_column(win, 0, &len);
        const double *offs = ka_window_column(win, 1, &len);

        assert_true(m->all || start + m->size + m->exp <= m->wm);
        assert_true(start > m->last_start);
        m->last_start = start;
        for (i = 0; i < m->n; i++) {
                model_msg_t *msg = &m->msgs[i];

                if (!msg->held || msg->start != start)
                        continue;
                assert_true(n < cnt);
                assert_true(parts[n] == (double)msg->part);
                assert_true(offs[n] == (double)msg->offset);
                if (low[msg->part] < 0)
                        low[msg->part] = msg->offset;
                msg->held = false;
                n++;
        }
        assert_int_equal(n, cnt);
        for (i = 0; i < 3; i++)
                assert_int_equal(ka_window_low_offset(win, i), low[i]);
        m->nclosed++;
}

/* Windows the model expects to close at watermark wm (all: every one). */
static size_t model_due(const model_t *m, int64_t wm, bool all)
{
        int64_t starts[4096];
        size_t i, j, n = 0;

        for (i = 0; i < m->n; i++) {
                const model_msg_t *msg = &m->msgs[i];

                if (!msg->held || (!all && msg->start + m->size + m->exp > wm))
                        continue;
                for (j = 0; j < n && starts[j] != msg->start; j++)
                        ;
                if (j == n) {
                        assert_true(n < KA_ARRAY_SIZE(starts));
                        starts[n++] = msg->start;
                }
        }
        return n;
}

static void model_check_offsets(const model_t *m, ka_windows_t *w)
{
        int64_t low[3] = {-1, -1, -1};
        size_t i;

        for (i = 0; i < m->n; i++) {
                const model_msg_t *msg = &m->msgs[i];

                if (msg->held &&
                    (low[msg->part] < 0 || msg->offset < low[msg->part]))
                        low[msg->part] = msg->offset;
        }
        for (i = 0; i < 3; i++)
                assert_int_equal(ka_windows_low_offset(w, i), low[i]);
}

/*
 * Random interleavings over 3 partitions with out-of-order event times:
 * after every step, for each partition, the committable offset of the
 * windows equals the smallest offset of a message still held by an open
 * window (so it never passes one); windows close exactly when the model's
 * watermark says, with exactly their messages; a message is late exactly
 * when the model's closed-through watermark passed its window.
 */
static void low_offset_property(void **state)
{
        static const int64_t sizes[] = {1000, 500, 1500};
        static const int64_t exps[] = {0, 700, 2000};
        uint64_t seed;

        for (seed = 1; seed <= 24; seed++) {
                uint64_t rng = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
                model_t m = {.size = sizes[seed % 3],
                             .exp = exps[seed / 3 % 3]};
                ka_windows_t *w = make(m.size, m.exp, 1000, false, 2, 3);
                int64_t clock[3] = {B, B, B}, maxev[3], next[3] = {0, 0, 0};
                int64_t ct = INT64_MIN;
                size_t step, nsteps = 2000, nlate = 0, p, held = 0;
                ka_windows_stats_t st;

                m.msgs = calloc(nsteps, sizeof(*m.msgs));
                assert_non_null(m.msgs);
                for (p = 0; p < 3; p++)
                        maxev[p] = INT64_MIN;
                for (step = 0; step < nsteps; step++) {
                        int64_t r = rng_below(&rng, 100);

                        if (r < 85) {
                                int64_t t, start;
                                ka_window_add_result_t res;
                                double row[2];

                                /* Partitions advance at different paces;
                                 * some messages lag up to 5 s. */
                                p = (size_t)rng_below(&rng, 3);
                                clock[p] +=
                                        rng_below(&rng, 150 * (int64_t)(p + 1));
                                t = clock[p] - (rng_below(&rng, 4) == 0
                                                        ? rng_below(&rng, 5000)
                                                        : 0);
                                start = oracle_start(t, m.size);
                                row[0] = (double)p;
                                row[1] = (double)next[p];
                                res = ka_windows_add(w, p, next[p], t, NULL, 0,
                                                     ROW(row));
                                if (start + m.size + m.exp <= ct) {
                                        assert_int_equal(res, KA_WINDOW_LATE);
                                        nlate++;
                                } else {
                                        assert_int_equal(res, KA_WINDOW_ADDED);
                                        m.msgs[m.n++] = (model_msg_t){
                                                p, next[p], start, true};
                                }
                                if (t > maxev[p])
                                        maxev[p] = t;
                                next[p] += 1 + rng_below(&rng, 3);
                        } else {
                                int64_t wm = INT64_MAX;
                                size_t due;

                                for (p = 0; p < 3; p++)
                                        if (maxev[p] < wm)
                                                wm = maxev[p];
                                due = model_due(&m, wm, false);
                                m.wm = wm;
                                m.all = false;
                                m.last_start = INT64_MIN;
                                assert_int_equal(
                                        ka_windows_close(
                                                w, 0, model_check_window, &m),
                                        due);
                                if (wm > ct)
                                        ct = wm;
                                assert_int_equal(
                                        ka_windows_closed_through(w, 1), ct);
                        }
                        model_check_offsets(&m, w);
                }
                ka_windows_stats(w, &st);
                assert_int_equal(st.late, nlate);
                assert_int_equal(st.added, m.n);
                for (step = 0; step < m.n; step++)
                        held += m.msgs[step].held;
                assert_true(held > 0);
                all_caught_up(w, 3, 0);
                m.all = true;
                m.last_start = INT64_MIN;
                assert_int_equal(
                        ka_windows_close(w, 1000, model_check_window, &m),
                        model_due(&m, 0, true));
                model_check_offsets(&m, w);
                for (step = 0; step < m.n; step++)
                        assert_false(m.msgs[step].held);
                /* Late messages did occur, and most were not. */
                assert_true(nlate > 0 && nlate < nsteps / 4);
                free(m.msgs);
                ka_windows_destroy(w);
        }
}

/* A rebalance drops every open window and all partition state. */
static void reset_drops_everything(void **state)
{
        rec_t rec = {.nfields = 2, .nparts = 3};
        ka_windows_t *w = make(1000, 0, 1000, false, 2, 2);

        assert_int_equal(add(w, 0, 5, B, 1, 0), KA_WINDOW_ADDED);
        assert_int_equal(add(w, 1, 7, B + 1000, 2, 0), KA_WINDOW_ADDED);
        assert_int_equal(add(w, 0, 6, B + 2000, 3, 0), KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_close(w, 0, record, &rec), 1);
        assert_int_equal(add(w, 0, 8, B + 10, 4, 0), KA_WINDOW_LATE);
        assert_int_equal(add(w, 2, 0, B, 1, 0), KA_WINDOW_INVALID);

        assert_true(ka_windows_reset(w, 3));
        assert_int_equal(stat_open(w), 0);
        assert_int_equal(ka_windows_low_offset(w, 0), -1);
        assert_int_equal(ka_windows_low_offset(w, 1), -1);
        assert_int_equal(ka_windows_closed_through(w, 0), INT64_MIN);
        assert_int_equal(ka_windows_watermark(w, 0), INT64_MIN);
        all_caught_up(w, 3, 0);
        assert_int_equal(ka_windows_close(w, 1000, record, &rec), 0);
        assert_int_equal(rec.n, 1);

        /* Rebuilt from the committed offsets: nothing is late any more. */
        assert_int_equal(add(w, 0, 5, B + 10, 5, 0), KA_WINDOW_ADDED);
        assert_int_equal(add(w, 2, 0, B + 20, 6, 0), KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_low_offset(w, 0), 5);
        assert_int_equal(ka_windows_low_offset(w, 2), 0);
        /* New slots are not idle until reported. */
        assert_int_equal(ka_windows_close(w, 5000, record, &rec), 0);
        all_caught_up(w, 3, 5000);
        assert_int_equal(ka_windows_close(w, 6000, record, &rec), 1);
        assert_int_equal(rec.v[1].count, 2);
        assert_int_equal(rec.v[1].low[2], 0);

        assert_true(ka_windows_reset(w, 1));
        assert_int_equal(add(w, 1, 0, B, 1, 0), KA_WINDOW_INVALID);
        assert_int_equal(ka_windows_low_offset(w, 1), -1);
        assert_false(ka_windows_reset(w, KA_WINDOW_MAX_PARTITIONS + 1));
        assert_int_equal(add(w, 0, 0, B, 1, 0), KA_WINDOW_ADDED);
        rec_free(&rec);
        ka_windows_destroy(w);
}

/*
 * The closed-through value of the commit metadata: windows a previous
 * worker emitted are dropped as replayed, per partition, not as late.
 */
static void closed_through_replays(void **state)
{
        rec_t rec = {.nfields = 2, .nparts = 2};
        ka_windows_t *w = make(1000, 0, 1000, false, 2, 2);
        ka_windows_stats_t st;

        ka_windows_set_closed_through(w, 0, B + 2000);
        assert_int_equal(ka_windows_closed_through(w, 0), B + 2000);
        assert_int_equal(ka_windows_closed_through(w, 1), INT64_MIN);
        assert_int_equal(add(w, 0, 0, B + 500, 1, 0), KA_WINDOW_REPLAYED);
        assert_int_equal(add(w, 0, 1, B + 1999, 2, 0), KA_WINDOW_REPLAYED);
        /* Slot 1 has no metadata: its message opens [B, B + 1000)... */
        assert_int_equal(add(w, 1, 0, B + 500, 3, 0), KA_WINDOW_ADDED);
        /* ...which slot 0's messages still may not join. */
        assert_int_equal(add(w, 0, 2, B + 600, 4, 0), KA_WINDOW_REPLAYED);
        assert_int_equal(add(w, 0, 3, B + 2000, 5, 0), KA_WINDOW_ADDED);
        ka_windows_stats(w, &st);
        assert_int_equal(st.replayed, 3);
        assert_int_equal(st.late, 0);
        assert_int_equal(st.added, 2);
        assert_int_equal(ka_windows_low_offset(w, 0), 3);
        assert_int_equal(ka_windows_low_offset(w, 1), 0);
        /* Replayed messages count for the watermark. */
        assert_int_equal(add(w, 1, 1, B + 2500, 6, 0), KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_watermark(w, 0), B + 2000);
        assert_int_equal(ka_windows_close(w, 0, record, &rec), 1);
        assert_int_equal(rec.v[0].start, B);
        assert_int_equal(rec.v[0].count, 1);
        assert_true(col_value(&rec.v[0], 0, 0) == 3);
        assert_int_equal(rec.v[0].low[0], -1);
        assert_int_equal(ka_windows_closed_through(w, 0), B + 2000);
        assert_int_equal(ka_windows_closed_through(w, 1), B + 2000);
        all_caught_up(w, 2, 0);
        assert_int_equal(ka_windows_close(w, 1000, record, &rec), 1);
        assert_int_equal(rec.v[1].start, B + 2000);
        assert_int_equal(rec.v[1].count, 2);
        assert_int_equal(ka_windows_closed_through(w, 0), B + 3000);
        rec_free(&rec);
        ka_windows_destroy(w);
}

/* Closed windows are recycled with their buffers: after warm-up, 10000
 * more windows allocate nothing. */
static void buffers_reused(void **state)
{
        ka_windows_t *w = make(1000, 0, 1000, false, 10, 1);
        ka_windows_stats_t st;
        uint64_t allocs = 0;
        double row[10];
        int64_t k, i, off = 0;
        size_t f;

        for (k = 0; k < 10020; k++) {
                if (k == 20) {
                        ka_windows_stats(w, &st);
                        allocs = st.allocs;
                        assert_true(allocs > 0);
                }
                for (i = 0; i < 50; i++, off++) {
                        for (f = 0; f < 10; f++)
                                row[f] = (double)(off * 10 + (int64_t)f);
                        assert_int_equal(ka_windows_add(w, 0, off,
                                                        B + k * 1000 + i * 20,
                                                        NULL, 0, ROW(row)),
                                         KA_WINDOW_ADDED);
                        ka_windows_close(w, 0, NULL, NULL);
                }
        }
        ka_windows_stats(w, &st);
        assert_int_equal(st.allocs, allocs);
        assert_int_equal(st.closed, 10019);
        assert_int_equal(st.open, 1);
        assert_int_equal(ka_windows_low_offset(w, 0), off - 50);
        ka_windows_destroy(w);
}

static void check_big_window(const ka_window_t *win, void *opaque)
{
        size_t f, i, n;

        assert_int_equal(ka_window_count(win), 1000);
        for (f = 0; f < 3; f++) {
                const double *col = ka_window_column(win, f, &n);

                assert_int_equal(n, 1000);
                for (i = 0; i < n; i++) {
                        if (f == 1 && i % 7 == 0)
                                assert_true(isnan(col[i]));
                        else
                                assert_true(col[i] ==
                                            (double)(f * 1000000 + i));
                }
        }
        (*(int *)opaque)++;
}

/* Columns keep every value, NaN included, across growths. */
static void columns_grow(void **state)
{
        ka_windows_t *w = make(3600000, 0, 0, false, 3, 1);
        double row[3];
        size_t i, f;
        int calls = 0;

        for (i = 0; i < 1000; i++) {
                for (f = 0; f < 3; f++)
                        row[f] = (double)(f * 1000000 + i);
                if (i % 7 == 0)
                        row[1] = NAN;
                assert_int_equal(ka_windows_add(w, 0, (int64_t)i,
                                                B + (int64_t)i, NULL, 0,
                                                ROW(row)),
                                 KA_WINDOW_ADDED);
        }
        all_caught_up(w, 1, 0);
        assert_int_equal(ka_windows_close(w, 0, check_big_window, &calls), 1);
        assert_int_equal(calls, 1);
        ka_windows_destroy(w);
}

static void count_only(const ka_window_t *win, void *opaque)
{
        size_t n = 99;

        assert_null(ka_window_column(win, 0, &n));
        assert_int_equal(n, 0);
        *(size_t *)opaque = ka_window_count(win);
}

/* ---- array fields ------------------------------------------------------ */

#define AR_FIELDS 2 /* scalars */
#define AR_ARRAYS 3
#define AR_MSGS   4000
#define AR_MAXLEN 70

/* One message of the array model: its window, scalars and arrays. */
typedef struct ar_msg_s {
        int64_t start;
        int key;
        double vals[AR_FIELDS];
        size_t len[AR_ARRAYS];
        double *arr[AR_ARRAYS];
} ar_msg_t;

typedef struct ar_model_s {
        ar_msg_t *msgs;
        size_t nmsgs;
        size_t checked; /* messages matched against closed windows */
        size_t windows;
        bool by_key;
} ar_model_t;

/* Element i of array a in the window's message m: as the model says, or
 * NaN past the end of that message's array. */
static void ar_check_window(const ka_window_t *win, void *opaque)
{
        ar_model_t *m = opaque;
        int64_t start = ka_window_start_ms(win);
        size_t keylen, count = ka_window_count(win), n, k = 0;
        const void *key = ka_window_key(win, &keylen);
        int want_key = key ? ((const char *)key)[0] - 'a' : -1;
        const ar_msg_t **in = calloc(count, sizeof(*in));

        assert_non_null(in);
        /* The model's messages of this window, in arrival order. */
        for (size_t i = 0; i < m->nmsgs && k <= count; i++)
                if (m->msgs[i].start == start &&
                    (!m->by_key || m->msgs[i].key == want_key))
                        in[k++] = &m->msgs[i];
        assert_int_equal(k, count);
        for (size_t f = 0; f < AR_FIELDS; f++) {
                const double *col = ka_window_column(win, f, &n);

                assert_int_equal(n, count);
                for (size_t r = 0; r < count; r++)
                        assert_true(col[r] == in[r]->vals[f]);
        }
        for (size_t a = 0; a < AR_ARRAYS; a++) {
                size_t longest = 0, len = ka_window_array_len(win, a);

                for (size_t r = 0; r < count; r++)
                        if (in[r]->len[a] > longest)
                                longest = in[r]->len[a];
                assert_int_equal(len, longest);
                for (size_t i = 0; i < len; i++) {
                        const double *col =
                                ka_window_array_column(win, a, i, &n);

                        assert_non_null(col);
                        assert_int_equal(n, count);
                        for (size_t r = 0; r < count; r++) {
                                if (i < in[r]->len[a])
                                        assert_true(col[r] == in[r]->arr[a][i]);
                                else
                                        assert_true(isnan(col[r]));
                        }
                }
                assert_null(ka_window_array_column(win, a, len, &n));
                assert_int_equal(n, 0);
        }
        assert_int_equal(ka_window_array_len(win, AR_ARRAYS), 0);
        assert_null(ka_window_array_column(win, AR_ARRAYS, 0, &n));
        m->checked += count;
        m->windows++;
        free(in);
}

/* A length: mostly the topic's usual one, sometimes shorter, empty or
 * longer (SAL arrays have a fixed length; other producers need not). */
static size_t ar_len(size_t usual)
{
        switch (ka_test_rnd_below(10)) {
        case 0:
                return 0;
        case 1:
                return ka_test_rnd_below(AR_MAXLEN + 1);
        default:
                return usual;
        }
}

/*
 * Arrays of varying lengths, over windows that interleave (out of order
 * within the grace), with and without keys, through many row and column
 * growths: every element column of every closed window holds exactly the
 * model's elements, NaN where a message's array was shorter, and is as
 * long as the window's longest array.
 */
static void arrays_element_columns(void **state)
{
        for (int by_key = 0; by_key < 2; by_key++) {
                ka_window_config_t cfg = {.size_ms = 1000,
                                          .expiration_ms = 2000,
                                          .idle_timeout_ms = 1000,
                                          .group_by_key = by_key,
                                          .nfields = AR_FIELDS,
                                          .narrays = AR_ARRAYS};
                ka_windows_t *w = ka_windows_new(&cfg, 1);
                ar_model_t m = {.by_key = by_key};
                ka_row_t row;
                int64_t t = B;

                assert_non_null(w);
                assert_true(ka_row_init(&row, AR_FIELDS, AR_ARRAYS));
                m.msgs = calloc(AR_MSGS, sizeof(*m.msgs));
                assert_non_null(m.msgs);
                ka_test_seed(7 + (uint64_t)by_key);
                for (size_t i = 0; i < AR_MSGS; i++) {
                        ar_msg_t *msg = &m.msgs[m.nmsgs++];
                        /* 1 to 40 ms apart, sometimes back by up to 1.5 s:
                         * messages of three windows mix. */
                        int64_t back =
                                ka_test_rnd_below(5) == 0
                                        ? (int64_t)ka_test_rnd_below(1500)
                                        : 0;
                        int64_t ev = t - back;
                        char key[1];

                        t += 1 + (int64_t)ka_test_rnd_below(40);
                        msg->start = ev - (ev % 1000);
                        msg->key = (int)ka_test_rnd_below(3);
                        key[0] = (char)('a' + msg->key);
                        for (size_t f = 0; f < AR_FIELDS; f++)
                                row.vals[f] = msg->vals[f] =
                                        (double)(i * 10 + f);
                        for (size_t a = 0; a < AR_ARRAYS; a++) {
                                size_t len = ar_len(a * 30 + 1);

                                msg->arr[a] =
                                        malloc((len + 1) * sizeof(double));
                                assert_non_null(msg->arr[a]);
                                assert_int_equal(ka_row_array_reserve(
                                                         &row.arrays[a], len),
                                                 KA_OK);
                                for (size_t e = 0; e < len; e++)
                                        row.arrays[a].vals[e] = msg->arr[a][e] =
                                                (double)(i * 1000 + a * 100 +
                                                         e);
                                row.arrays[a].len = msg->len[a] = len;
                        }
                        assert_int_equal(ka_windows_add(w, 0, (int64_t)i, ev,
                                                        by_key ? key : NULL,
                                                        by_key ? 1 : 0, &row),
                                         KA_WINDOW_ADDED);
                        ka_windows_partition_idle(w, 0, false, 0);
                        ka_windows_close(w, 0, ar_check_window, &m);
                }
                all_caught_up(w, 1, 0);
                ka_windows_close(w, 1000, ar_check_window, &m);
                assert_int_equal(m.checked, AR_MSGS);
                assert_true(m.windows > 50);
                for (size_t i = 0; i < AR_MSGS; i++)
                        for (size_t a = 0; a < AR_ARRAYS; a++)
                                free(m.msgs[i].arr[a]);
                free(m.msgs);
                ka_row_release(&row);
                ka_windows_destroy(w);
        }
}

/* In steady state (50 messages a window, arrays of 400 elements, as
 * ESS.accelerometer at 50 Hz), windows with arrays are recycled with their
 * element columns: 1000 more windows allocate nothing. */
static void arrays_buffers_reused(void **state)
{
        ka_window_config_t cfg = {
                .size_ms = 1000, .idle_timeout_ms = 1000, .narrays = 2};
        ka_windows_t *w = ka_windows_new(&cfg, 1);
        ka_windows_stats_t st;
        uint64_t allocs = 0;
        ka_row_t row;
        int64_t off = 0;

        assert_non_null(w);
        assert_true(ka_row_init(&row, 0, 2));
        for (size_t a = 0; a < 2; a++) {
                assert_int_equal(ka_row_array_reserve(&row.arrays[a], 400),
                                 KA_OK);
                row.arrays[a].len = 400;
                for (size_t e = 0; e < 400; e++)
                        row.arrays[a].vals[e] = (double)e;
        }
        for (int64_t k = 0; k < 1020; k++) {
                if (k == 20) {
                        ka_windows_stats(w, &st);
                        allocs = st.allocs;
                }
                for (int64_t i = 0; i < 50; i++, off++) {
                        assert_int_equal(ka_windows_add(w, 0, off,
                                                        B + k * 1000 + i * 20,
                                                        NULL, 0, &row),
                                         KA_WINDOW_ADDED);
                        ka_windows_close(w, 0, NULL, NULL);
                }
        }
        ka_windows_stats(w, &st);
        assert_int_equal(st.allocs, allocs);
        assert_int_equal(st.closed, 1019);
        ka_row_release(&row);
        ka_windows_destroy(w);
}

/* An array longer than KA_ROW_MAX_ARRAY is refused without side effects;
 * a window with no array in it has element columns of none. */
static void arrays_bounds(void **state)
{
        ka_window_config_t cfg = {.size_ms = 1000, .narrays = 1};
        ka_windows_t *w = ka_windows_new(&cfg, 1);
        ka_windows_stats_t st;
        ka_row_t row;
        size_t count = 0;

        assert_non_null(w);
        assert_true(ka_row_init(&row, 0, 1));
        row.arrays[0].len = KA_ROW_MAX_ARRAY + 1;
        assert_int_equal(ka_windows_add(w, 0, 0, B, NULL, 0, &row),
                         KA_WINDOW_INVALID);
        ka_windows_stats(w, &st);
        assert_int_equal(st.open, 0);
        row.arrays[0].len = 0;
        assert_int_equal(ka_windows_add(w, 0, 1, B, NULL, 0, &row),
                         KA_WINDOW_ADDED);
        all_caught_up(w, 1, 0);
        assert_int_equal(ka_windows_close(w, 5000, count_only, &count), 1);
        assert_int_equal(count, 1);
        ka_row_release(&row);
        ka_windows_destroy(w);
}

/* Invalid configurations and messages are refused without side effects. */
static void invalid_inputs(void **state)
{
        ka_window_config_t cfg = {.size_ms = 1000, .nfields = 1};
        ka_windows_t *w;
        double row[1] = {1};
        size_t count = 0;

        assert_null(ka_windows_new(NULL, 1));
        cfg.size_ms = 0;
        assert_null(ka_windows_new(&cfg, 1));
        cfg.size_ms = -1000;
        assert_null(ka_windows_new(&cfg, 1));
        cfg.size_ms = KA_WINDOW_MAX_MS + 1;
        assert_null(ka_windows_new(&cfg, 1));
        cfg.size_ms = 1000;
        cfg.expiration_ms = -1;
        assert_null(ka_windows_new(&cfg, 1));
        cfg.expiration_ms = 0;
        assert_null(ka_windows_new(&cfg, KA_WINDOW_MAX_PARTITIONS + 1));
        ka_windows_destroy(NULL);

        w = ka_windows_new(&cfg, 2);
        assert_non_null(w);
        assert_int_equal(ka_windows_add(w, 2, 0, B, NULL, 0, ROW(row)),
                         KA_WINDOW_INVALID);
        assert_int_equal(ka_windows_add(w, 0, -1, B, NULL, 0, ROW(row)),
                         KA_WINDOW_INVALID);
        assert_int_equal(ka_windows_add(w, 0, 0, KA_WINDOW_MAX_MS + 1, NULL, 0,
                                        ROW(row)),
                         KA_WINDOW_INVALID);
        assert_int_equal(ka_windows_add(w, 0, 0, -KA_WINDOW_MAX_MS - 1, NULL, 0,
                                        ROW(row)),
                         KA_WINDOW_INVALID);
        assert_int_equal(ka_windows_add(w, 0, 0, INT64_MIN, NULL, 0, ROW(row)),
                         KA_WINDOW_INVALID);
        assert_int_equal(ka_windows_add(w, 0, 0, B, NULL, 3, ROW(row)),
                         KA_WINDOW_INVALID);
        /* Also when the previous message's window holds the time. */
        assert_int_equal(
                ka_windows_add(w, 0, 0, KA_WINDOW_MAX_MS, NULL, 0, ROW(row)),
                KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_add(w, 0, 1, KA_WINDOW_MAX_MS + 1, NULL, 0,
                                        ROW(row)),
                         KA_WINDOW_INVALID);
        assert_int_equal(
                ka_windows_add(w, 1, 0, -KA_WINDOW_MAX_MS, NULL, 0, ROW(row)),
                KA_WINDOW_ADDED);
        assert_int_equal(ka_windows_add(w, 1, 1, -KA_WINDOW_MAX_MS - 1, NULL, 0,
                                        ROW(row)),
                         KA_WINDOW_INVALID);
        assert_int_equal(ka_windows_low_offset(w, 0), 0);
        assert_int_equal(ka_windows_low_offset(w, 1), 0);
        assert_int_equal(stat_open(w), 2);
        ka_windows_destroy(w);
        w = ka_windows_new(&cfg, 2);
        assert_non_null(w);

        /* Refused messages left no trace. */
        assert_int_equal(ka_windows_watermark(w, 0), INT64_MIN);
        assert_int_equal(stat_open(w), 0);
        assert_false(ka_windows_partition_idle(w, 2, true, 0));
        assert_int_equal(ka_windows_low_offset(w, 2), -1);
        ka_windows_destroy(w);

        /* No fields: windows still count messages. */
        cfg.nfields = 0;
        w = ka_windows_new(&cfg, 1);
        assert_non_null(w);
        for (int i = 0; i < 40; i++)
                assert_int_equal(ka_windows_add(w, 0, i, B, NULL, 0, ROW(NULL)),
                                 KA_WINDOW_ADDED);
        all_caught_up(w, 1, 0);
        assert_int_equal(ka_windows_close(w, 0, count_only, &count), 1);
        assert_int_equal(count, 40);
        ka_windows_destroy(w);

        /* No partitions: nothing to add, nothing holds windows open. */
        cfg.nfields = 1;
        w = ka_windows_new(&cfg, 0);
        assert_non_null(w);
        assert_int_equal(ka_windows_add(w, 0, 0, B, NULL, 0, ROW(row)),
                         KA_WINDOW_INVALID);
        assert_int_equal(ka_windows_watermark(w, 0), INT64_MAX);
        assert_int_equal(ka_windows_close(w, 0, NULL, NULL), 0);
        ka_windows_destroy(w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(in_order_sizes),
                cmocka_unit_test(start_alignment),
                cmocka_unit_test(negative_times_flush_in_order),
                cmocka_unit_test(out_of_order_within_grace),
                cmocka_unit_test(late_beyond_grace),
                cmocka_unit_test(idle_flush),
                cmocka_unit_test(idle_default_timeout),
                cmocka_unit_test(partition_far_ahead),
                cmocka_unit_test(empty_partition_goes_idle),
                cmocka_unit_test(group_by_key),
                cmocka_unit_test(many_keys),
                cmocka_unit_test(low_offset_property),
                cmocka_unit_test(reset_drops_everything),
                cmocka_unit_test(closed_through_replays),
                cmocka_unit_test(buffers_reused),
                cmocka_unit_test(burst_memory_returned),
                cmocka_unit_test(columns_grow),
                cmocka_unit_test(invalid_inputs),
                cmocka_unit_test(arrays_element_columns),
                cmocka_unit_test(arrays_buffers_reused),
                cmocka_unit_test(arrays_bounds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
