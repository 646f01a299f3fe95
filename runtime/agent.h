/*
 * The contract between generated agents and the runtime. Each generated
 * agents/<topic>.c defines one const ka_agent_t; the generated
 * agents/agents_table.c lists them in ka_agents[]. Everything here is
 * immutable, static data owned by the generated code.
 *
 * A message's values travel as a "row": one double per aggregated field of
 * the agent, in the order of the aggregated record (config source order,
 * then schema order). NaN marks a missing value (Avro null, a field the
 * writer schema lacks, a NaN payload); statistics skip it.
 */
#ifndef KA_AGENT_H
#define KA_AGENT_H

#include "ka.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Summary statistics an agent may compute (SPEC §7), in no fixed order. */
typedef enum ka_op_e {
        KA_OP_MIN,
        KA_OP_Q1,
        KA_OP_MEAN,
        KA_OP_MEDIAN,
        KA_OP_STDEV,
        KA_OP_Q3,
        KA_OP_MAX,
        KA_OP_SUM,
        KA_OP__COUNT
} ka_op_t;

/* Config name of op ("min", "q1", ...); NULL for an invalid op. */
const char *ka_op_name(ka_op_t op);

/* Avro type of an aggregated (numeric) source field. */
typedef enum ka_num_type_e {
        KA_NUM_INT,
        KA_NUM_LONG,
        KA_NUM_FLOAT,
        KA_NUM_DOUBLE,
} ka_num_type_t;

/* Avro name of num ("int", "long", "float", "double"); "?" for an invalid
 * num, so that it can go straight into a message. */
const char *ka_num_type_name(ka_num_type_t num);

typedef struct ka_agent_field_s {
        const char *name;     /* field name in the source schema */
        const char *out_name; /* `<op>_<out_name>` in the output (map) */
        ka_num_type_t type;
        bool nullable; /* a union of null and type */
} ka_agent_field_t;

typedef struct ka_agent_source_s {
        const char *topic;
        /* Writer schema the decoder was generated for: its registry id and
         * subject version (0 when generated from a .avsc file: the worker
         * then learns the ids from the messages), and its JSON in Parsing
         * Canonical Form (for comparison with other ids' schemas). */
        int32_t schema_id;
        int32_t schema_version;
        const char *schema;
        /* This source's fields occupy row[first_field .. + nfields). */
        size_t first_field;
        size_t nfields;
        const ka_agent_field_t *fields;
        /* Payload field holding the event time (SPEC §6), or NULL for the
         * Kafka message timestamp. */
        const char *time_field;
        /*
         * Decodes one Avro body (after the 5-byte Confluent header) written
         * with exactly `schema`. Stores this source's values into its slice
         * of row, and the event time in *event_ms when time_field is set.
         * Never reads outside [buf, buf + len). Returns KA_OK,
         * KA_ERR_TRUNCATED, KA_ERR_OVERFLOW or KA_ERR_INVALID.
         */
        ka_err_t (*decode)(const uint8_t *buf, size_t len, double *row,
                           int64_t *event_ms);
} ka_agent_source_t;

/* Results of one closed window, as the encoder takes them. */
typedef struct ka_agent_result_s {
        double time;          /* window midpoint, Unix seconds */
        double window_size;   /* seconds */
        int64_t count;        /* messages in the window */
        const double *values; /* nfields * nops, field-major (§8 order) */
} ka_agent_result_t;

typedef struct ka_agent_s {
        const char *name;        /* the aggregated topic */
        const char *config_file; /* the config it was generated from */

        /* Aggregated record schema JSON, registered as `<name>-value`. */
        const char *record_schema;

        /* Window settings (SPEC §4, §6), times in milliseconds. */
        int64_t window_ms;
        int64_t expiration_ms;
        int64_t idle_timeout_ms;
        int32_t min_sample_size;
        bool group_by_key;

        size_t nops;
        const ka_op_t *ops;

        size_t nfields; /* row length: fields of every source */
        size_t nsources;
        const ka_agent_source_t *sources;

        /*
         * Writes the Avro body (no Confluent header) of the aggregated
         * record into buf. Returns the length, or 0 when cap is too small
         * (the caller grows buf and calls again).
         */
        size_t (*encode)(const ka_agent_result_t *res, uint8_t *buf,
                         size_t cap);
} ka_agent_t;

/*
 * The agents compiled into this binary: defined by the generated
 * agents/agents_table.c; without generated agents, the empty table of
 * agents_none.c stands in.
 */
extern const ka_agent_t *const ka_agents[];
extern const size_t ka_agents_count;

#endif
