/*
 * Tumbling event-time windows of one agent (SPEC §6) and the bookkeeping
 * that makes at-least-once delivery safe (SPEC §10): which Kafka offsets are
 * still held by open windows, and which windows were already closed.
 * This module only stores rows and closes windows; statistics are computed
 * by the caller from the columns of each closed window. A scalar field is
 * one column; an array field is one column per element index, as many as
 * the window's longest array, a message without element i holding NaN
 * there (so that element i's statistics are over the messages that have
 * one, and its first-value rule counts the window's messages).
 *
 * Invariants:
 * - A window is [start, start + size) with start = floor(t / size) * size
 *   in integer milliseconds, aligned to the Unix epoch. Its close point is
 *   end + expiration.
 * - A window exists only once a message was added to it (no empty windows).
 * - Every open window's close point is > the closed-through watermark, and
 *   every window whose close point is <= it has been closed (or never had a
 *   message added here): a message for such a window is LATE.
 * - Not thread-safe: one worker thread owns a ka_windows_t.
 */
#ifndef KA_WINDOW_H
#define KA_WINDOW_H

#include "row.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Event times, sizes and timeouts must lie within +-KA_WINDOW_MAX_MS (about
 * 285 000 years around 1970, exact in a double): sums of them never
 * overflow. */
#define KA_WINDOW_MAX_MS (INT64_C(1) << 53)

/* Partitions per ka_windows_t, at most. */
#define KA_WINDOW_MAX_PARTITIONS ((size_t)1 << 20)

typedef struct ka_window_config_s {
        int64_t size_ms;       /* > 0 */
        int64_t expiration_ms; /* >= 0: grace for out-of-order data */
        /* Wall-clock time a caught-up partition must stay quiet to become
         * idle; < 0 means the SPEC §6 default, size + expiration + 1 s. */
        int64_t idle_timeout_ms;
        bool group_by_key; /* one window per (start, message key) */
        size_t nfields;    /* scalars per row; 0 is allowed (count only) */
        size_t narrays;    /* arrays per row; 0 is allowed */
} ka_window_config_t;

/* One window; valid only inside a ka_window_close_cb_t. */
typedef struct ka_window_s ka_window_t;

/* All open windows of one agent, over the partitions a worker owns. */
typedef struct ka_windows_s ka_windows_t;

typedef enum ka_window_add_result_e {
        KA_WINDOW_ADDED = 0,
        KA_WINDOW_LATE,     /* its window already closed here: counted */
        KA_WINDOW_REPLAYED, /* emitted before a restart: counted apart */
        KA_WINDOW_INVALID,  /* bad partition, offset, time or key */
        KA_WINDOW_NOMEM,    /* the message was not stored */
} ka_window_add_result_t;

typedef struct ka_windows_stats_s {
        uint64_t added;    /* messages stored in a window (O(open) to read) */
        uint64_t late;     /* kafkaaggregator_late_messages_total */
        uint64_t replayed; /* dropped: window emitted by a previous worker */
        uint64_t closed;   /* windows passed to a close callback */
        size_t open;       /* windows open now */
        /* Allocations so far: window objects, column, array column, key
         * and hash table growth. Constant in steady state, since closed
         * windows are recycled with their buffers. */
        uint64_t allocs;
        /* Closed windows kept for reuse, and windows freed so far: the
         * cache shrinks back after a burst (RSS follows). */
        size_t cached;
        uint64_t freed;
} ka_windows_stats_t;

/*
 * Creates the windows of one agent for npartitions partition slots (the
 * worker maps its owned (topic, partition) pairs of the agent to dense
 * slots 0..npartitions-1). cfg is copied. Returns NULL when cfg is out of
 * range (see ka_window_config_t and KA_WINDOW_MAX_MS), npartitions exceeds
 * KA_WINDOW_MAX_PARTITIONS, or memory runs out.
 */
ka_windows_t *ka_windows_new(const ka_window_config_t *cfg, size_t npartitions);

/* Frees w and every window; NULL is a no-op. */
void ka_windows_destroy(ka_windows_t *w);

/*
 * After a rebalance: drops every open window (unemitted) and all partition
 * state (event-time watermarks, idleness, replay points) and the
 * closed-through watermark, for a new set of npartitions slots. Windows are
 * rebuilt from the committed offsets; call ka_windows_set_closed_through()
 * again for each partition. Buffers are kept for reuse. Returns false (and
 * leaves w with no windows and its previous slots) when npartitions is too
 * large or memory runs out.
 */
bool ka_windows_reset(ka_windows_t *w, size_t npartitions);

/*
 * After a restart or rebalance, before any message of slot part is added:
 * the closed-through value recovered from that partition's offset commit
 * metadata. Messages of part whose window's close point is <= ms were
 * already emitted by a previous worker: they are dropped as REPLAYED (not
 * LATE). Out-of-range part or ms are ignored.
 */
void ka_windows_set_closed_through(ka_windows_t *w, size_t part, int64_t ms);

/*
 * Adds one message read from slot part at Kafka offset offset, with event
 * time event_ms (Unix ms). key/keylen is the message key (key NULL: the
 * null key, distinct from an empty key); it is ignored without
 * group_by_key, and copied once per window with it. row holds cfg.nfields
 * scalars (NaN = missing) and cfg.narrays arrays of at most
 * KA_ROW_MAX_ARRAY elements, and is copied; its vals are not read when
 * cfg.nfields is 0.
 *
 * Every valid message, stored or not, counts for its partition's event-time
 * watermark and activity. Returns KA_WINDOW_ADDED, KA_WINDOW_LATE (the
 * window's close point is <= the closed-through watermark: counted, the
 * caller logs at debug), KA_WINDOW_REPLAYED (see
 * ka_windows_set_closed_through), KA_WINDOW_INVALID (part >= the number of
 * slots, offset < 0, |event_ms| > KA_WINDOW_MAX_MS, NULL key with keylen >
 * 0: nothing changes) or KA_WINDOW_NOMEM (nothing changes either: the
 * message is lost unless the caller reads it again).
 *
 * Without group_by_key and arrays, cheap when the message falls into the
 * window of the previous message: no division, no hashing, no allocation.
 * With a key, one hash lookup per message; with arrays, one strided store
 * per element (columns grow when a window's rows or longest array do).
 */
ka_window_add_result_t ka_windows_add(ka_windows_t *w, size_t part,
                                      int64_t offset, int64_t event_ms,
                                      const void *key, size_t keylen,
                                      const ka_row_t *row);

/*
 * The worker's report on slot part at wall-clock time now_ms (ms): whether
 * it has no unread messages (its position reached the high watermark).
 * Arrivals are observed through these reports: when messages were added
 * to part since the previous report (or this is the first one), now_ms
 * counts as the partition's last activity. A partition is idle when its
 * last report said caught up, no message was added since, and now_ms -
 * last activity >= the idle timeout. Call it for every slot each time
 * round the poll loop. Returns whether part is idle at now_ms (false for
 * an out-of-range part).
 */
bool ka_windows_partition_idle(ka_windows_t *w, size_t part, bool caught_up,
                               int64_t now_ms);

/*
 * The agent's event-time watermark at wall-clock now_ms: the minimum over
 * slots that are not idle of the largest event time seen; INT64_MIN when a
 * slot that is not idle has seen no message yet (it holds the watermark
 * back); INT64_MAX when every slot is idle.
 */
int64_t ka_windows_watermark(const ka_windows_t *w, int64_t now_ms);

/*
 * Called once per closed window. win and everything read through it are
 * valid only during the call: win is then recycled. The callback must not
 * call ka_windows_* functions on the same ka_windows_t.
 */
typedef void (*ka_window_close_cb_t)(const ka_window_t *win, void *opaque);

/*
 * Closes every open window whose close point (end + expiration) is <= the
 * watermark at now_ms, or every open window when all slots are idle, and
 * passes each to cb in (start, key) order: start ascending, then the null
 * key, then keys by bytes (a prefix first). Raises the closed-through
 * watermark to the watermark (to the largest close point closed, on an
 * idle flush). Returns the number of windows closed. Cheap when nothing
 * is due.
 */
size_t ka_windows_close(ka_windows_t *w, int64_t now_ms,
                        ka_window_close_cb_t cb, void *opaque);

/*
 * The lowest offset of slot part still held by an open window, or -1 when
 * none is (or part is out of range). Nothing at or after it may be
 * committed on the windows' behalf: the worker commits min(this, the
 * ka_window_low_offset() of emitted windows not yet acknowledged, the next
 * offset to read).
 */
int64_t ka_windows_low_offset(ka_windows_t *w, size_t part);

/*
 * For the commit metadata of slot part: the largest close point C such
 * that every window of part with close point <= C was closed here or
 * emitted by a previous worker (max of the closed-through watermark and
 * the value given to ka_windows_set_closed_through). INT64_MIN when none.
 * Take it right after a ka_windows_close() and commit it only once every
 * window emitted by that call and earlier ones was acknowledged.
 */
int64_t ka_windows_closed_through(const ka_windows_t *w, size_t part);

void ka_windows_stats(const ka_windows_t *w, ka_windows_stats_t *stats);

/* Accessors for a window passed to a ka_window_close_cb_t. */
int64_t ka_window_start_ms(const ka_window_t *win);
int64_t ka_window_end_ms(const ka_window_t *win); /* start + size */

/* The group key (with group_by_key) and its length in *lenp; NULL with
 * *lenp = 0 for the null key or without group_by_key (an empty key is a
 * non-NULL pointer with *lenp = 0). */
const void *ka_window_key(const ka_window_t *win, size_t *lenp);

/* Messages in the window (>= 1). */
size_t ka_window_count(const ka_window_t *win);

/* The values of field (< cfg.nfields) in arrival order, NaN kept;
 * *np = ka_window_count(). NULL with *np = 0 for an out-of-range field. */
const double *ka_window_column(const ka_window_t *win, size_t field,
                               size_t *np);

/* The longest array of array field a (< cfg.narrays) in the window: the
 * number of its element columns (0 for an out-of-range a). */
size_t ka_window_array_len(const ka_window_t *win, size_t a);

/* Element i (< ka_window_array_len()) of array field a over the window's
 * messages in arrival order, NaN where a message had no element i;
 * *np = ka_window_count(). NULL with *np = 0 when out of range. */
const double *ka_window_array_column(const ka_window_t *win, size_t a, size_t i,
                                     size_t *np);

/* The lowest offset of slot part held in the window, or -1 when none. */
int64_t ka_window_low_offset(const ka_window_t *win, size_t part);

#endif
