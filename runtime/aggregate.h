/*
 * One agent's aggregation, without Kafka: rows go into its windows; closed
 * windows come out as encoded aggregated records (SPEC §7, §8). The worker
 * feeds it from the consumer and produces what it emits; the benchmark and
 * the tests drive it directly.
 */
#ifndef KA_AGGREGATE_H
#define KA_AGGREGATE_H

#include "agent.h"
#include "window.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ka_aggregate_s ka_aggregate_t;

/* A closed window, encoded. Valid only during the emit callback. */
typedef struct ka_aggregate_out_s {
        const ka_window_t *win; /* for offsets, start, end, count */
        const uint8_t *value;   /* Confluent header + Avro record */
        size_t len;
        const void *key; /* the group key, or NULL */
        size_t keylen;
        /* the statistics of the scalar fields, field-major (§8 order), and
         * of the array fields (agent->narrays) */
        const double *values;
        const ka_agent_array_t *arrays;
} ka_aggregate_out_t;

typedef void (*ka_aggregate_emit_cb)(const ka_aggregate_out_t *out,
                                     void *opaque);

/*
 * A new aggregation for agent (borrowed, static) over npartitions partition
 * slots; out_schema_id is the registry id of the aggregated schema, written
 * into each record's Confluent header.
 */
ka_aggregate_t *ka_aggregate_new(const ka_agent_t *agent, size_t npartitions,
                                 int32_t out_schema_id);
void ka_aggregate_destroy(ka_aggregate_t *agg);

/* The agent's windows: add rows, report partitions, offsets, reset. */
ka_windows_t *ka_aggregate_windows(ka_aggregate_t *agg);

/*
 * The row of agent->nfields scalars and agent->narrays arrays (owned by
 * agg, reused, its array buffers kept at their largest): cleared (NaN,
 * empty arrays) when clear, for the decoder to fill; as the decoder left it
 * otherwise, for ka_windows_add().
 */
ka_row_t *ka_aggregate_row(ka_aggregate_t *agg, bool clear);

/*
 * Closes what is due at wall-clock now_ms (see ka_windows_close()),
 * computes the statistics of each closed window (of an array field, per
 * element index over the messages that have one), encodes the aggregated
 * record and passes it to cb. Returns the number of windows emitted.
 * Statistics and output buffers grow to the largest window and are kept.
 */
size_t ka_aggregate_close(ka_aggregate_t *agg, int64_t now_ms,
                          ka_aggregate_emit_cb cb, void *opaque);

#endif
