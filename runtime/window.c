/*
 * Tumbling event-time windows of one agent: columnar row storage per
 * window (one column per scalar field and per element index of each array
 * field), the watermark over partitions with idleness, the close rule, and
 * the offsets still held by open windows (SPEC §6, §10).
 */
#include "window.h"
#include "hash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* "No offset held" in the low-offset arrays: larger than any offset. */
#define NO_OFFSET INT64_MAX

/* Rows a fresh window's columns hold before their first growth. */
#define INITIAL_ROWS 16

/* Rows past which a closed window that used under a quarter of its columns
 * is freed rather than kept for reuse. */
#define BIG_ROWS 1024

/* Generous bounds that keep every size computation below far from overflow. */
#define MAX_FIELDS ((size_t)1 << 24)

/* One array field's element columns in a window. */
typedef struct win_array_s {
        /* ncols columns of the window's cap rows: element i at i * cap */
        double *vals;
        size_t len;   /* columns in use: the window's longest array */
        size_t ncols; /* columns allocated */
} win_array_t;

struct ka_window_s {
        int64_t start_ms;
        int64_t end_ms;
        int64_t close_ms; /* end + expiration */
        uint64_t hash;
        size_t count;
        size_t cap;   /* rows each column can hold */
        double *vals; /* nfields columns of cap doubles, column f at f*cap */
        /* Per slot: the smallest offset held, NO_OFFSET when none. */
        int64_t *low;
        size_t npart;
        size_t low_cap;
        size_t nfields;
        win_array_t *arrays; /* narrays, allocated with the window */
        size_t narrays;
        unsigned char *key;
        size_t keylen;
        size_t keycap;
        bool key_null;
        ka_window_t *next_free;
};

typedef struct part_s {
        int64_t max_event_ms; /* INT64_MIN until a message arrives */
        int64_t replay_ms;    /* from the commit metadata, or INT64_MIN */
        /* Wall clock of the report that first saw the latest arrival. */
        int64_t activity_ms;
        bool arrived; /* a message was added since the last report */
        bool reported;
        bool caught_up;
} part_t;

struct ka_windows_s {
        ka_window_config_t cfg;
        int64_t idle_ms;
        /* Keys and arrays need the slow path of ka_windows_add(). */
        bool always_slow;
        ka_window_t *last; /* window of the previous message, or NULL */

        part_t *parts;
        size_t npart;
        size_t part_cap;
        /* Per slot: the smallest offset held by an open window; exact when
         * low_valid, else recomputed on demand (closing raises it). */
        int64_t *low;
        bool low_valid;

        ka_window_t **open; /* open windows, in no order */
        size_t nopen;
        size_t open_cap;
        ka_window_t **closing; /* scratch of open_cap entries for close() */

        /* Open addressing, linear probing, load <= 1/2; rebuilt after a
         * close so that removal needs no tombstones. */
        ka_window_t **slots;
        size_t slot_mask;

        /* Recycled windows, with their buffers: nfree of them, at most
         * keep_free after a close (see cache_window()). */
        ka_window_t *free;
        size_t nfree;
        size_t keep_free;
        int64_t min_close_ms;   /* smallest close point open, or INT64_MAX */
        int64_t closed_through; /* INT64_MIN until something closes */
        /* Messages of closed and dropped windows: with those of open ones,
         * stats.added (kept out of the hot path). */
        uint64_t closed_msgs;
        ka_windows_stats_t stats;
};

/* Keyed: message keys come from whoever writes to the source topic, and
 * an unkeyed hash lets them pick keys that all land in one slot. */
static uint64_t hash_window(int64_t start, const unsigned char *key, size_t len,
                            bool null_key)
{
        return ka_hash_keyed((uint64_t)start, key, len) ^ (uint64_t)null_key;
}

static bool same_key(const ka_window_t *win, const void *key, size_t keylen)
{
        if (key == NULL || win->key_null)
                return key == NULL && win->key_null;
        return win->keylen == keylen &&
               (keylen == 0 || memcmp(win->key, key, keylen) == 0);
}

/* floor(t / size) * size for any sign of t (C division truncates). */
static int64_t window_start(int64_t t, int64_t size)
{
        int64_t r = t % size;

        if (r < 0)
                r += size;
        return t - r;
}

static bool part_is_idle(const ka_windows_t *w, const part_t *p, int64_t now_ms)
{
        if (!p->reported || !p->caught_up || p->arrived ||
            now_ms < p->activity_ms)
                return false;
        /* Unsigned: wall-clock values from the caller may be far apart. */
        return (uint64_t)now_ms - (uint64_t)p->activity_ms >=
               (uint64_t)w->idle_ms;
}

static int64_t watermark(const ka_windows_t *w, int64_t now_ms, bool *all_idle)
{
        int64_t wm = INT64_MAX;
        size_t i;

        *all_idle = true;
        for (i = 0; i < w->npart; i++) {
                const part_t *p = &w->parts[i];

                if (part_is_idle(w, p, now_ms))
                        continue;
                *all_idle = false;
                if (p->max_event_ms < wm)
                        wm = p->max_event_ms;
        }
        return wm;
}

static void reset_parts(ka_windows_t *w)
{
        size_t i;

        for (i = 0; i < w->npart; i++) {
                w->parts[i] = (part_t){.max_event_ms = INT64_MIN,
                                       .replay_ms = INT64_MIN};
                w->low[i] = NO_OFFSET;
        }
        w->low_valid = true;
}

static void rebuild_slots(ka_windows_t *w)
{
        size_t i, j;

        memset(w->slots, 0, (w->slot_mask + 1) * sizeof(*w->slots));
        for (i = 0; i < w->nopen; i++) {
                j = (size_t)w->open[i]->hash & w->slot_mask;
                while (w->slots[j] != NULL)
                        j = (j + 1) & w->slot_mask;
                w->slots[j] = w->open[i];
        }
}

static void free_window(ka_window_t *win);

/*
 * Puts win on the free list, to be reused with its buffers, unless its
 * columns hold over four times the rows it had (a burst's window, too
 * large for the next ones): that one is freed.
 */
static void cache_window(ka_windows_t *w, ka_window_t *win)
{
        if (win->cap > BIG_ROWS && win->cap / 4 > win->count) {
                free_window(win);
                w->stats.freed++;
                return;
        }
        win->next_free = w->free;
        w->free = win;
        w->nfree++;
}

/*
 * After a close that had nwin windows open: the free list keeps as many
 * windows as were open, at the most, over the last closes; the bound
 * decays by 1/16 a close, so that after a burst of windows (keys, or a
 * backlog) memory returns to what the steady state needs within about a
 * hundred closes, and a steady state allocates nothing.
 */
static void trim_free(ka_windows_t *w, size_t nwin)
{
        w->keep_free -= (w->keep_free + 15) / 16;
        if (nwin > w->keep_free)
                w->keep_free = nwin;
        while (w->nfree > w->keep_free) {
                ka_window_t *win = w->free;

                w->free = win->next_free;
                w->nfree--;
                free_window(win);
                w->stats.freed++;
        }
}

/* Moves every open window to the free list. */
static void drop_open(ka_windows_t *w)
{
        size_t i;

        for (i = 0; i < w->nopen; i++) {
                w->closed_msgs += w->open[i]->count;
                cache_window(w, w->open[i]);
        }
        w->nopen = 0;
        w->last = NULL;
        w->min_close_ms = INT64_MAX;
        memset(w->slots, 0, (w->slot_mask + 1) * sizeof(*w->slots));
}

ka_windows_t *ka_windows_new(const ka_window_config_t *cfg, size_t npartitions)
{
        ka_windows_t *w;

        if (cfg == NULL || cfg->size_ms <= 0 ||
            cfg->size_ms > KA_WINDOW_MAX_MS || cfg->expiration_ms < 0 ||
            cfg->expiration_ms > KA_WINDOW_MAX_MS ||
            cfg->idle_timeout_ms > KA_WINDOW_MAX_MS ||
            cfg->nfields > MAX_FIELDS || cfg->narrays > MAX_FIELDS ||
            npartitions > KA_WINDOW_MAX_PARTITIONS)
                return NULL;
        w = calloc(1, sizeof(*w));
        if (w == NULL)
                return NULL;
        w->cfg = *cfg;
        w->always_slow = cfg->group_by_key || cfg->narrays > 0;
        w->idle_ms = cfg->idle_timeout_ms >= 0
                             ? cfg->idle_timeout_ms
                             : cfg->size_ms + cfg->expiration_ms + 1000;
        w->open_cap = 8;
        w->open = malloc(w->open_cap * sizeof(*w->open));
        w->closing = malloc(w->open_cap * sizeof(*w->closing));
        w->slot_mask = 15;
        w->slots = calloc(w->slot_mask + 1, sizeof(*w->slots));
        w->min_close_ms = INT64_MAX;
        w->closed_through = INT64_MIN;
        if (w->open == NULL || w->closing == NULL || w->slots == NULL ||
            !ka_windows_reset(w, npartitions)) {
                ka_windows_destroy(w);
                return NULL;
        }
        return w;
}

static void free_window(ka_window_t *win)
{
        for (size_t a = 0; win->arrays && a < win->narrays; a++)
                free(win->arrays[a].vals);
        free(win->arrays);
        free(win->vals);
        free(win->low);
        free(win->key);
        free(win);
}

void ka_windows_destroy(ka_windows_t *w)
{
        ka_window_t *win;
        size_t i;

        if (w == NULL)
                return;
        for (i = 0; i < w->nopen; i++)
                free_window(w->open[i]);
        while ((win = w->free) != NULL) {
                w->free = win->next_free;
                free_window(win);
        }
        free(w->parts);
        free(w->low);
        free(w->open);
        free(w->closing);
        free(w->slots);
        free(w);
}

bool ka_windows_reset(ka_windows_t *w, size_t npartitions)
{
        bool ok = true;

        drop_open(w);
        w->closed_through = INT64_MIN;
        if (npartitions > KA_WINDOW_MAX_PARTITIONS) {
                ok = false;
        } else if (npartitions > w->part_cap) {
                part_t *parts = realloc(w->parts, npartitions * sizeof(*parts));
                int64_t *low;

                if (parts != NULL)
                        w->parts = parts;
                low = parts != NULL
                              ? realloc(w->low, npartitions * sizeof(*low))
                              : NULL;
                if (low != NULL) {
                        w->low = low;
                        w->part_cap = npartitions;
                        w->stats.allocs += 2;
                } else {
                        ok = false;
                }
        }
        if (ok)
                w->npart = npartitions;
        reset_parts(w);
        return ok;
}

void ka_windows_set_closed_through(ka_windows_t *w, size_t part, int64_t ms)
{
        if (part >= w->npart || ms < -KA_WINDOW_MAX_MS * 4 ||
            ms > KA_WINDOW_MAX_MS * 4)
                return;
        w->parts[part].replay_ms = ms;
}

/* Moves columns 1 .. ncols-1 of count rows from a stride of old rows to
 * one of cap, in a buffer already large enough; from the last column
 * down, so that none is overwritten before it has moved. */
static void spread_columns(double *vals, size_t ncols, size_t old, size_t cap,
                           size_t count)
{
        for (size_t c = ncols; c-- > 1;)
                memmove(vals + c * cap, vals + c * old, count * sizeof(*vals));
}

/* Doubles the rows win's columns hold. Every buffer is enlarged first:
 * on failure the columns are still laid out for the old row count. */
static bool grow_columns(ka_windows_t *w, ka_window_t *win)
{
        size_t nf = w->cfg.nfields, old = win->cap, a;
        size_t cap = old > 0 ? old * 2 : INITIAL_ROWS;
        double *vals;

        if (nf > 0) {
                if (cap > SIZE_MAX / sizeof(*vals) / nf)
                        return false;
                vals = realloc(win->vals, nf * cap * sizeof(*vals));
                if (vals == NULL)
                        return false;
                w->stats.allocs++;
                win->vals = vals;
        }
        for (a = 0; a < win->narrays; a++) {
                win_array_t *arr = &win->arrays[a];

                if (arr->ncols == 0)
                        continue;
                if (cap > SIZE_MAX / sizeof(*vals) / arr->ncols)
                        return false;
                vals = realloc(arr->vals, arr->ncols * cap * sizeof(*vals));
                if (vals == NULL)
                        return false;
                w->stats.allocs++;
                arr->vals = vals;
        }
        if (nf > 0)
                spread_columns(win->vals, nf, old, cap, win->count);
        for (a = 0; a < win->narrays; a++)
                if (win->arrays[a].len > 0)
                        spread_columns(win->arrays[a].vals, win->arrays[a].len,
                                       old, cap, win->count);
        win->cap = cap;
        return true;
}

/* Element columns for arrays of n elements in array field a of win, the
 * rows of the messages already there NaN in the new columns. */
static bool widen_array(ka_windows_t *w, ka_window_t *win, size_t a, size_t n)
{
        win_array_t *arr = &win->arrays[a];
        size_t i, r;

        if (n <= arr->len)
                return true;
        if (n > arr->ncols) {
                size_t ncols = arr->ncols * 2 > n ? arr->ncols * 2 : n;
                double *vals;

                if (ncols > KA_ROW_MAX_ARRAY)
                        ncols = n;
                if (ncols > SIZE_MAX / sizeof(*vals) / win->cap)
                        return false;
                vals = realloc(arr->vals, ncols * win->cap * sizeof(*vals));
                if (vals == NULL)
                        return false;
                w->stats.allocs++;
                arr->vals = vals;
                arr->ncols = ncols;
        }
        for (i = arr->len; i < n; i++)
                for (r = 0; r < win->count; r++)
                        arr->vals[i * win->cap + r] = NAN;
        arr->len = n;
        return true;
}

/* Element columns in win for every array of row. */
static bool widen_arrays(ka_windows_t *w, ka_window_t *win, const ka_row_t *row)
{
        for (size_t a = 0; a < w->cfg.narrays; a++)
                if (!widen_array(w, win, a, row->arrays[a].len))
                        return false;
        return true;
}

/* Room for one more open window in the open array and the hash table. */
static bool reserve_open(ka_windows_t *w)
{
        if (w->nopen == w->open_cap) {
                size_t cap = w->open_cap * 2;
                ka_window_t **open, **closing;

                open = realloc(w->open, cap * sizeof(*open));
                if (open == NULL)
                        return false;
                w->open = open;
                closing = realloc(w->closing, cap * sizeof(*closing));
                if (closing == NULL)
                        return false;
                w->closing = closing;
                w->open_cap = cap;
                w->stats.allocs += 2;
        }
        if ((w->nopen + 1) * 2 > w->slot_mask + 1) {
                size_t n = (w->slot_mask + 1) * 2;
                ka_window_t **slots = calloc(n, sizeof(*slots));

                if (slots == NULL)
                        return false;
                free(w->slots);
                w->slots = slots;
                w->slot_mask = n - 1;
                w->stats.allocs++;
                rebuild_slots(w);
        }
        return true;
}

/* A window object from the free list or the heap, with room for one row
 * (row's arrays included), the low offsets of every slot and the key. Not
 * yet open. */
static ka_window_t *take_window(ka_windows_t *w, const void *key, size_t keylen,
                                const ka_row_t *row)
{
        ka_window_t *win = w->free;

        if (win != NULL) {
                w->free = win->next_free;
                w->nfree--;
        } else {
                win = calloc(1, sizeof(*win));
                if (win == NULL)
                        return NULL;
                w->stats.allocs++;
        }
        win->count = 0;
        if (w->cfg.narrays > 0 && win->arrays == NULL) {
                win->arrays = calloc(w->cfg.narrays, sizeof(*win->arrays));
                if (win->arrays == NULL)
                        goto fail;
                win->narrays = w->cfg.narrays;
                w->stats.allocs++;
        }
        for (size_t a = 0; a < win->narrays; a++)
                win->arrays[a].len = 0;
        if (win->cap == 0 && !grow_columns(w, win))
                goto fail;
        if (w->cfg.narrays > 0 && !widen_arrays(w, win, row))
                goto fail;
        if (w->npart > win->low_cap) {
                int64_t *low = realloc(win->low, w->npart * sizeof(*low));

                if (low == NULL)
                        goto fail;
                win->low = low;
                win->low_cap = w->npart;
                w->stats.allocs++;
        }
        if (key != NULL && keylen > win->keycap) {
                size_t cap = win->keycap > 0 ? win->keycap : 16;
                unsigned char *k;

                while (cap < keylen)
                        cap = cap > SIZE_MAX / 2 ? keylen : cap * 2;
                k = realloc(win->key, cap);
                if (k == NULL)
                        goto fail;
                win->key = k;
                win->keycap = cap;
                w->stats.allocs++;
        }
        return win;
fail:
        cache_window(w, win);
        return NULL;
}

/* The slow path of add: the window of event_ms and key, found or opened. */
static ka_window_add_result_t find_window(ka_windows_t *w, part_t *p,
                                          int64_t event_ms, const void *key,
                                          size_t keylen, const ka_row_t *row,
                                          ka_window_t **winp)
{
        ka_window_t *win = w->last;
        int64_t start, close_ms;
        uint64_t hash;
        size_t i;

        /* Keys interleave within a time window: skip the division then. */
        if (win != NULL && event_ms >= win->start_ms && event_ms < win->end_ms)
                start = win->start_ms;
        else
                start = window_start(event_ms, w->cfg.size_ms);
        close_ms = start + w->cfg.size_ms + w->cfg.expiration_ms;
        if (close_ms <= p->replay_ms)
                return KA_WINDOW_REPLAYED;
        if (close_ms <= w->closed_through)
                return KA_WINDOW_LATE;

        hash = hash_window(start, key, keylen, key == NULL);
        for (i = (size_t)hash & w->slot_mask; (win = w->slots[i]) != NULL;
             i = (i + 1) & w->slot_mask) {
                if (win->hash == hash && win->start_ms == start &&
                    same_key(win, key, keylen)) {
                        *winp = w->last = win;
                        return KA_WINDOW_ADDED;
                }
        }

        if (!reserve_open(w))
                return KA_WINDOW_NOMEM;
        win = take_window(w, key, keylen, row);
        if (win == NULL)
                return KA_WINDOW_NOMEM;
        win->start_ms = start;
        win->end_ms = start + w->cfg.size_ms;
        win->close_ms = close_ms;
        win->hash = hash;
        win->npart = w->npart;
        win->nfields = w->cfg.nfields;
        for (i = 0; i < w->npart; i++)
                win->low[i] = NO_OFFSET;
        win->key_null = key == NULL;
        win->keylen = keylen;
        if (keylen > 0)
                memcpy(win->key, key, keylen);

        /* reserve_open() may have rehashed: probe again for a free slot. */
        for (i = (size_t)hash & w->slot_mask; w->slots[i] != NULL;
             i = (i + 1) & w->slot_mask)
                ;
        w->slots[i] = win;
        w->open[w->nopen++] = win;
        if (close_ms < w->min_close_ms)
                w->min_close_ms = close_ms;
        *winp = w->last = win;
        return KA_WINDOW_ADDED;
}

/* Writes the arrays of row into the next row of win's element columns,
 * NaN past the end of each (win has the columns and the room). */
static void store_arrays(ka_window_t *win, const ka_row_t *row)
{
        size_t cap = win->cap;

        for (size_t a = 0; a < win->narrays; a++) {
                const ka_row_array_t *src = &row->arrays[a];
                win_array_t *arr = &win->arrays[a];
                double *col;
                size_t i;

                /* No element yet: no columns, and vals NULL (NULL + n is
                 * undefined). */
                if (!arr->len)
                        continue;
                col = arr->vals + win->count;
                for (i = 0; i < src->len; i++)
                        col[i * cap] = src->vals[i];
                for (; i < arr->len; i++)
                        col[i * cap] = NAN;
        }
}

/* Appends the scalars row[0 .. nfields) to win, which has room for them,
 * and counts the message. */
static inline void store_row(ka_windows_t *w, ka_window_t *win, size_t part,
                             int64_t offset, const double *row)
{
        size_t f = 0, nf = w->cfg.nfields, cap = win->cap;
        /* Without fields (count only) vals is NULL: NULL + n is undefined. */
        double *col = nf ? win->vals + win->count : NULL;

        /* Unrolled by hand: one store per column, cap doubles apart. */
        for (; f + 4 <= nf; f += 4, col += 4 * cap) {
                col[0] = row[f];
                col[cap] = row[f + 1];
                col[2 * cap] = row[f + 2];
                col[3 * cap] = row[f + 3];
        }
        for (; f < nf; f++, col += cap)
                *col = row[f];
        win->count++;
        if (offset < win->low[part])
                win->low[part] = offset;
        if (offset < w->low[part])
                w->low[part] = offset;
}

static inline void note_event(part_t *p, int64_t event_ms)
{
        p->arrived = true;
        if (event_ms > p->max_event_ms)
                p->max_event_ms = event_ms;
}

/* Whether every array of row is within the bound. */
static bool arrays_fit(const ka_row_t *row, size_t narrays)
{
        for (size_t a = 0; a < narrays; a++)
                if (row->arrays[a].len > KA_ROW_MAX_ARRAY)
                        return false;
        return true;
}

/* Everything but a message for the previous message's window, with room
 * in it. Kept out of line so that the fast path stays small. */
__attribute__((noinline)) static ka_window_add_result_t
add_slow(ka_windows_t *w, size_t part, int64_t offset, int64_t event_ms,
         const void *key, size_t keylen, const ka_row_t *row)
{
        ka_window_add_result_t res = KA_WINDOW_ADDED;
        ka_window_t *win = w->last;
        part_t *p;

        if (part >= w->npart || offset < 0 || event_ms < -KA_WINDOW_MAX_MS ||
            event_ms > KA_WINDOW_MAX_MS || (key == NULL && keylen > 0) ||
            (w->cfg.narrays > 0 && !arrays_fit(row, w->cfg.narrays)))
                return KA_WINDOW_INVALID;
        if (!w->cfg.group_by_key) {
                key = NULL;
                keylen = 0;
        }
        p = &w->parts[part];

        /* With keys, the hash comparison of the lookup is cheaper than a
         * key comparison with the previous window first. */
        if (win == NULL || event_ms < win->start_ms ||
            event_ms >= win->end_ms || w->cfg.group_by_key) {
                res = find_window(w, p, event_ms, key, keylen, row, &win);
                if (res == KA_WINDOW_NOMEM)
                        return res;
        } else if (win->close_ms <= p->replay_ms) {
                /* The window may be open for slots with lower replay
                 * points. */
                res = KA_WINDOW_REPLAYED;
        }

        if (res == KA_WINDOW_ADDED) {
                if (win->count == win->cap && !grow_columns(w, win))
                        return KA_WINDOW_NOMEM;
                if (w->cfg.narrays > 0) {
                        if (!widen_arrays(w, win, row))
                                return KA_WINDOW_NOMEM;
                        store_arrays(win, row);
                }
                store_row(w, win, part, offset, row->vals);
        } else if (res == KA_WINDOW_LATE) {
                w->stats.late++;
        } else {
                w->stats.replayed++;
        }
        note_event(p, event_ms);
        return res;
}

ka_window_add_result_t ka_windows_add(ka_windows_t *w, size_t part,
                                      int64_t offset, int64_t event_ms,
                                      const void *key, size_t keylen,
                                      const ka_row_t *row)
{
        ka_window_t *win = w->last;
        part_t *p;

        /* The fast path: the previous message's window, not grouped by
         * key, no arrays, with room, valid arguments (one unsigned
         * comparison checks |event_ms| <= KA_WINDOW_MAX_MS). */
        if (win == NULL || w->always_slow || part >= w->npart || offset < 0 ||
            event_ms < win->start_ms || event_ms >= win->end_ms ||
            win->count == win->cap ||
            (uint64_t)event_ms + (uint64_t)KA_WINDOW_MAX_MS >
                    (uint64_t)(2 * KA_WINDOW_MAX_MS))
                return add_slow(w, part, offset, event_ms, key, keylen, row);
        p = &w->parts[part];
        if (win->close_ms <= p->replay_ms)
                return add_slow(w, part, offset, event_ms, key, keylen, row);
        store_row(w, win, part, offset, row->vals);
        note_event(p, event_ms);
        return KA_WINDOW_ADDED;
}

bool ka_windows_partition_idle(ka_windows_t *w, size_t part, bool caught_up,
                               int64_t now_ms)
{
        part_t *p;

        if (part >= w->npart)
                return false;
        p = &w->parts[part];
        if (!p->reported || p->arrived) {
                p->activity_ms = now_ms;
                p->arrived = false;
                p->reported = true;
        }
        p->caught_up = caught_up;
        return part_is_idle(w, p, now_ms);
}

int64_t ka_windows_watermark(const ka_windows_t *w, int64_t now_ms)
{
        bool all_idle;

        return watermark(w, now_ms, &all_idle);
}

static int compare_windows(const void *a, const void *b)
{
        const ka_window_t *x = *(ka_window_t *const *)a;
        const ka_window_t *y = *(ka_window_t *const *)b;
        size_t n;
        int c;

        if (x->start_ms != y->start_ms)
                return x->start_ms < y->start_ms ? -1 : 1;
        if (x->key_null || y->key_null)
                return (int)y->key_null - (int)x->key_null;
        n = x->keylen < y->keylen ? x->keylen : y->keylen;
        c = n > 0 ? memcmp(x->key, y->key, n) : 0;
        if (c != 0)
                return c;
        return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

size_t ka_windows_close(ka_windows_t *w, int64_t now_ms,
                        ka_window_close_cb_t cb, void *opaque)
{
        int64_t threshold, min_close = INT64_MAX, max_closed = INT64_MIN;
        size_t i, n = 0, keep = 0;
        bool all_idle;

        threshold = watermark(w, now_ms, &all_idle);
        if (all_idle) {
                threshold = INT64_MAX;
        } else if (threshold > w->closed_through) {
                /* Windows that never opened here are closed too: a message
                 * for one of them is late. */
                w->closed_through = threshold;
        }
        if (w->nopen == 0 || threshold < w->min_close_ms)
                return 0;

        for (i = 0; i < w->nopen; i++) {
                ka_window_t *win = w->open[i];

                if (win->close_ms <= threshold) {
                        w->closing[n++] = win;
                        if (win->close_ms > max_closed)
                                max_closed = win->close_ms;
                } else {
                        w->open[keep++] = win;
                        if (win->close_ms < min_close)
                                min_close = win->close_ms;
                }
        }
        w->nopen = keep;
        w->min_close_ms = min_close;
        if (max_closed > w->closed_through)
                w->closed_through = max_closed;
        if (w->last != NULL && w->last->close_ms <= threshold)
                w->last = NULL;
        w->low_valid = false;
        rebuild_slots(w);

        qsort(w->closing, n, sizeof(*w->closing), compare_windows);
        for (i = 0; i < n; i++) {
                ka_window_t *win = w->closing[i];

                if (cb != NULL)
                        cb(win, opaque);
                w->closed_msgs += win->count;
                cache_window(w, win);
        }
        w->stats.closed += n;
        trim_free(w, keep + n);
        return n;
}

int64_t ka_windows_low_offset(ka_windows_t *w, size_t part)
{
        size_t i, j;

        if (part >= w->npart)
                return -1;
        if (!w->low_valid) {
                for (j = 0; j < w->npart; j++)
                        w->low[j] = NO_OFFSET;
                for (i = 0; i < w->nopen; i++) {
                        const ka_window_t *win = w->open[i];

                        for (j = 0; j < w->npart; j++)
                                if (win->low[j] < w->low[j])
                                        w->low[j] = win->low[j];
                }
                w->low_valid = true;
        }
        return w->low[part] == NO_OFFSET ? -1 : w->low[part];
}

int64_t ka_windows_closed_through(const ka_windows_t *w, size_t part)
{
        int64_t replay = part < w->npart ? w->parts[part].replay_ms : INT64_MIN;

        return replay > w->closed_through ? replay : w->closed_through;
}

void ka_windows_stats(const ka_windows_t *w, ka_windows_stats_t *stats)
{
        size_t i;

        *stats = w->stats;
        stats->open = w->nopen;
        stats->cached = w->nfree;
        stats->added = w->closed_msgs;
        for (i = 0; i < w->nopen; i++)
                stats->added += w->open[i]->count;
}

int64_t ka_window_start_ms(const ka_window_t *win)
{
        return win->start_ms;
}

int64_t ka_window_end_ms(const ka_window_t *win)
{
        return win->end_ms;
}

const void *ka_window_key(const ka_window_t *win, size_t *lenp)
{
        if (win->key_null) {
                *lenp = 0;
                return NULL;
        }
        *lenp = win->keylen;
        /* An empty key is not the null key: never NULL here. */
        return win->keylen > 0 ? (const void *)win->key : (const void *)"";
}

size_t ka_window_count(const ka_window_t *win)
{
        return win->count;
}

const double *ka_window_column(const ka_window_t *win, size_t field, size_t *np)
{
        if (win->vals == NULL || field >= win->nfields) {
                *np = 0;
                return NULL;
        }
        *np = win->count;
        return win->vals + field * win->cap;
}

size_t ka_window_array_len(const ka_window_t *win, size_t a)
{
        return a < win->narrays ? win->arrays[a].len : 0;
}

const double *ka_window_array_column(const ka_window_t *win, size_t a, size_t i,
                                     size_t *np)
{
        if (a >= win->narrays || i >= win->arrays[a].len) {
                *np = 0;
                return NULL;
        }
        *np = win->count;
        return win->arrays[a].vals + i * win->cap;
}

int64_t ka_window_low_offset(const ka_window_t *win, size_t part)
{
        if (part >= win->npart || win->low[part] == NO_OFFSET)
                return -1;
        return win->low[part];
}
