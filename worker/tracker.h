/*
 * Commit tracking (SPEC §10), apart from Kafka: which progress may be
 * committed, given the aggregated records emitted and acknowledged so far.
 *
 * The worker numbers each record it hands to the producer
 * (ka_tracker_emitted), reports each acknowledgement (ka_tracker_acked, in
 * any order), and after each round of closing windows takes a snapshot of
 * its progress (resume offsets, closed-through watermarks: an opaque
 * object here). A snapshot may be committed once every record emitted
 * before it was acknowledged; ka_tracker_committable() hands out the
 * newest such snapshot.
 *
 * Invariants: a snapshot is never handed out while a record emitted before
 * it is unacknowledged; snapshots come out in the order taken; at most
 * KA_TRACKER_MAX_SNAPSHOTS are held (past that the newest is superseded,
 * which only delays a commit). Not thread-safe.
 */
#ifndef KA_TRACKER_H
#define KA_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Snapshots held at most while records stay unacknowledged. */
#define KA_TRACKER_MAX_SNAPSHOTS 64

typedef struct ka_tracker_s ka_tracker_t;

/* Frees a snapshot's progress object. */
typedef void (*ka_tracker_free_cb)(void *progress);

/* A new tracker whose snapshots free_progress frees (NULL: not freed). */
ka_tracker_t *ka_tracker_new(ka_tracker_free_cb free_progress);

/* Frees t and every snapshot it holds; NULL is a no-op. */
void ka_tracker_destroy(ka_tracker_t *t);

/*
 * A record was handed to the producer: returns its sequence number, for
 * ka_tracker_acked(). Out of memory the record cannot be tracked: the
 * tracker then hands out no snapshot ever again (nothing is committed past
 * a record that may be lost) and UINT64_MAX is returned.
 */
uint64_t ka_tracker_emitted(ka_tracker_t *t);

/* Record seq was acknowledged. Unknown or repeated seqs are ignored. */
void ka_tracker_acked(ka_tracker_t *t, uint64_t seq);

/* Records emitted and not yet acknowledged. */
size_t ka_tracker_unacked(const ka_tracker_t *t);

/*
 * Takes ownership of progress, committable once every record emitted so
 * far is acknowledged. When no record was emitted since the previous
 * snapshot (or KA_TRACKER_MAX_SNAPSHOTS are held), progress supersedes
 * the newest snapshot.
 */
void ka_tracker_snapshot(ka_tracker_t *t, void *progress);

/*
 * The newest snapshot whose records are all acknowledged, or NULL; the
 * caller owns it. Older snapshots are freed: they are superseded.
 */
void *ka_tracker_committable(ka_tracker_t *t);

/* Snapshots held. */
size_t ka_tracker_snapshots(const ka_tracker_t *t);

/* Frees every snapshot (after a rebalance); records stay tracked. */
void ka_tracker_clear(ka_tracker_t *t);

#endif
