/*
 * An agent's progress (SPEC §10) and its place in Kafka: per source
 * partition the offset to resume from, and the closed-through watermark.
 * Workers share agents through leases (SPEC §11): the partitions of the
 * topic `<group>.agents`, agent i of the sorted agent names on lease
 * i mod nleases. The progress of every agent of a lease travels as the
 * metadata of that lease partition's committed offset, so that a commit
 * from a worker that lost the lease is fenced by the group generation.
 *
 * This module is the bookkeeping apart from Kafka: the lease of an agent,
 * and progress to and from commit metadata.
 *
 * Metadata is compact JSON, at most KA_PROGRESS_MAX_METADATA bytes by
 * default (Kafka's offset.metadata.max.bytes):
 *   {"v":1,"a":{"<agent>":{"t":<ms>,"c":<closed-through ms>,
 *                          "o":{"<topic>":[<offset of partition 0>,...]}}}}
 * with t the wall-clock time the progress was taken, c absent when no
 * window was closed yet, and -1 for a partition with no offset yet.
 */
#ifndef KA_PROGRESS_H
#define KA_PROGRESS_H

#include "ka.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka's default offset.metadata.max.bytes. */
#define KA_PROGRESS_MAX_METADATA 4096

/* Partitions of one source topic, at most, in progress and leases. */
#define KA_PROGRESS_MAX_PARTITIONS 100000

typedef struct ka_progress_source_s {
        char *topic;
        int32_t npartitions;
        int64_t *offsets; /* resume offset per partition; -1: none */
} ka_progress_source_t;

typedef struct ka_progress_s {
        int64_t time_ms;        /* when it was taken (wall clock) */
        int64_t closed_through; /* INT64_MIN: no window closed yet */
        size_t nsources;
        ka_progress_source_t *sources;
} ka_progress_t;

/*
 * A new progress with no source; NULL when out of memory. Free with
 * ka_progress_destroy() (NULL-safe).
 */
ka_progress_t *ka_progress_new(int64_t time_ms, int64_t closed_through);
void ka_progress_destroy(ka_progress_t *p);

/*
 * Adds source topic with npartitions partitions (offsets all -1); returns
 * its offsets array, or NULL when out of memory or npartitions is out of
 * [0, KA_PROGRESS_MAX_PARTITIONS].
 */
int64_t *ka_progress_add_source(ka_progress_t *p, const char *topic,
                                int32_t npartitions);

/* The offsets of topic in p and their count, or NULL when p has none. */
const int64_t *ka_progress_offsets(const ka_progress_t *p, const char *topic,
                                   int32_t *npartitions);

/* A deep copy; NULL when out of memory. */
ka_progress_t *ka_progress_copy(const ka_progress_t *p);

/*
 * The lease of agent (< nagents) given every agent name (in any order):
 * its index among the names sorted by strcmp, modulo nleases (>= 1). All
 * workers built with the same agents agree on it.
 */
int32_t ka_progress_lease_of(const char *const *names, size_t nagents,
                             size_t agent, int32_t nleases);

/*
 * The commit metadata of one lease: the progress of each of its agents
 * (names[i] with progs[i]; a NULL progs[i] is left out). Returns a
 * malloc'd NUL-terminated string, or NULL when out of memory.
 */
char *ka_progress_encode(const char *const *names,
                         const ka_progress_t *const *progs, size_t n);

/*
 * The progress of agent in metadata md[0..len) (from any worker; never
 * trusted): KA_OK with a new *out, KA_ERR_NOT_FOUND when md holds no
 * progress of agent (empty metadata included), KA_ERR_INVALID when md is
 * not metadata of this format, KA_ERR_NOMEM.
 */
ka_err_t ka_progress_decode(const void *md, size_t len, const char *agent,
                            ka_progress_t **out);

/*
 * The closed-through watermark of agent in the commit metadata of a source
 * partition as version 0.1 committed it ({"ka":1,"closed_through":{...}}),
 * for a worker upgraded from it; INT64_MIN when there is none.
 */
int64_t ka_progress_legacy_closed_through(const void *md, size_t len,
                                          const char *agent);

#endif
