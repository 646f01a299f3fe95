/*
 * Commit tracking: a ring of acknowledgement flags over the records in
 * flight, and a short queue of snapshots ordered by sequence number.
 */
#include "tracker.h"

#include <stdlib.h>
#include <string.h>

typedef struct snap_s {
        uint64_t seq; /* records before seq must be acknowledged */
        void *progress;
} snap_t;

struct ka_tracker_s {
        ka_tracker_free_cb free_progress;
        uint64_t next;  /* sequence number of the next record */
        uint64_t base;  /* every record before base is acknowledged */
        uint8_t *acked; /* acked[seq & (cap - 1)] for seq in [base, next) */
        size_t cap;     /* a power of two, or 0 */
        size_t unacked;
        bool broken; /* a record could not be tracked */
        snap_t snaps[KA_TRACKER_MAX_SNAPSHOTS];
        size_t head, nsnaps;
};

ka_tracker_t *ka_tracker_new(ka_tracker_free_cb free_progress)
{
        ka_tracker_t *t = calloc(1, sizeof(*t));

        if (t)
                t->free_progress = free_progress;
        return t;
}

static void free_progress(ka_tracker_t *t, void *progress)
{
        if (progress && t->free_progress)
                t->free_progress(progress);
}

void ka_tracker_clear(ka_tracker_t *t)
{
        for (size_t i = 0; i < t->nsnaps; i++)
                free_progress(t,
                              t->snaps[(t->head + i) % KA_TRACKER_MAX_SNAPSHOTS]
                                      .progress);
        t->head = t->nsnaps = 0;
}

void ka_tracker_destroy(ka_tracker_t *t)
{
        if (!t)
                return;
        ka_tracker_clear(t);
        free(t->acked);
        free(t);
}

/* Doubles the ring, keeping the flags of [base, next) at their seqs. */
static bool grow(ka_tracker_t *t)
{
        size_t cap = t->cap ? t->cap * 2 : 64;
        uint8_t *acked = calloc(cap, 1);

        if (!acked)
                return false;
        for (uint64_t s = t->base; s < t->next; s++)
                acked[s & (cap - 1)] = t->acked[s & (t->cap - 1)];
        free(t->acked);
        t->acked = acked;
        t->cap = cap;
        return true;
}

uint64_t ka_tracker_emitted(ka_tracker_t *t)
{
        if (t->next - t->base == t->cap && !grow(t)) {
                t->broken = true;
                ka_tracker_clear(t);
                return UINT64_MAX;
        }
        t->acked[t->next & (t->cap - 1)] = 0;
        t->unacked++;
        return t->next++;
}

void ka_tracker_acked(ka_tracker_t *t, uint64_t seq)
{
        if (seq < t->base || seq >= t->next || t->acked[seq & (t->cap - 1)])
                return;
        t->acked[seq & (t->cap - 1)] = 1;
        t->unacked--;
        while (t->base < t->next && t->acked[t->base & (t->cap - 1)])
                t->base++;
}

size_t ka_tracker_unacked(const ka_tracker_t *t)
{
        return t->unacked;
}

void ka_tracker_snapshot(ka_tracker_t *t, void *progress)
{
        snap_t *tail;

        if (t->broken) {
                free_progress(t, progress);
                return;
        }
        tail = t->nsnaps ? &t->snaps[(t->head + t->nsnaps - 1) %
                                     KA_TRACKER_MAX_SNAPSHOTS]
                         : NULL;
        if (tail &&
            (tail->seq == t->next || t->nsnaps == KA_TRACKER_MAX_SNAPSHOTS)) {
                /* Superseding only moves the snapshot later: its commit
                 * waits for more acknowledgements, never for fewer. */
                free_progress(t, tail->progress);
                *tail = (snap_t){t->next, progress};
                return;
        }
        t->snaps[(t->head + t->nsnaps++) % KA_TRACKER_MAX_SNAPSHOTS] =
                (snap_t){t->next, progress};
}

void *ka_tracker_committable(ka_tracker_t *t)
{
        void *best = NULL;

        while (t->nsnaps && t->snaps[t->head].seq <= t->base) {
                free_progress(t, best);
                best = t->snaps[t->head].progress;
                t->head = (t->head + 1) % KA_TRACKER_MAX_SNAPSHOTS;
                t->nsnaps--;
        }
        return best;
}

size_t ka_tracker_snapshots(const ka_tracker_t *t)
{
        return t->nsnaps;
}
