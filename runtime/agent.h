/*
 * The contract between generated agents and the runtime. Each generated
 * agents/<topic>.c defines one const ka_agent_t; the generated
 * agents/agents_table.c lists them in ka_agents[]. Everything here is
 * immutable, static data owned by the generated code.
 *
 * A message's values travel as a row (row.h): one double per aggregated
 * scalar field of the agent, and one array per aggregated array field
 * (SPEC §5: an Avro array of int, long, float or double, or a union of null
 * and one, aggregated element-wise). Scalar and array fields are numbered
 * apart, each in the order of the aggregated record (config source order,
 * then schema order): a source's scalars are row->vals[first_field ..
 * + nfields), its arrays row->arrays[first_array .. + narrays). NaN marks a
 * missing value (Avro null, a field the writer schema lacks, a NaN
 * payload), an empty array a missing array; statistics skip both.
 */
#ifndef KA_AGENT_H
#define KA_AGENT_H

#include "avro_wire.h"
#include "ka.h"
#include "row.h"

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

/* One aggregated field: a scalar, or an array of type (source arrays). */
typedef struct ka_agent_field_s {
        const char *name;     /* field name in the source schema */
        const char *out_name; /* `<op>_<out_name>` in the output (map) */
        ka_num_type_t type;   /* of the value, or of an array's items */
        bool nullable;        /* a union of null and the value or array */
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
        /* This source's scalar fields occupy row->vals[first_field ..
         * + nfields), described by fields[]; its array fields
         * row->arrays[first_array .. + narrays), described by arrays[]. */
        size_t first_field;
        size_t nfields;
        const ka_agent_field_t *fields;
        size_t first_array;
        size_t narrays;
        const ka_agent_field_t *arrays;
        /* Payload field holding the event time (SPEC §6), or NULL for the
         * Kafka message timestamp. */
        const char *time_field;
        /*
         * Decodes one Avro body (after the 5-byte Confluent header) written
         * with exactly `schema`. Stores this source's values into its
         * slices of row (arrays straight into the row's buffers, grown when
         * too small), and the event time in *event_ms when time_field is
         * set. Never reads outside [buf, buf + len). Returns KA_OK,
         * KA_ERR_TRUNCATED, KA_ERR_OVERFLOW, KA_ERR_INVALID (also an array
         * longer than KA_ROW_MAX_ARRAY) or KA_ERR_NOMEM.
         */
        ka_err_t (*decode)(const uint8_t *buf, size_t len, ka_row_t *row,
                           int64_t *event_ms);
} ka_agent_source_t;

/*
 * The statistics of one array field over a window: len is the longest
 * array of the window, and values holds nops arrays of len doubles one
 * after the other, op-major: element i of op o at values[o * len + i].
 */
typedef struct ka_agent_array_s {
        size_t len;
        const double *values;
} ka_agent_array_t;

/* Results of one closed window, as the encoder takes them. */
typedef struct ka_agent_result_s {
        double time;        /* window midpoint, Unix seconds */
        double window_size; /* seconds */
        int64_t count;      /* messages in the window */
        /* nfields * nops statistics of the scalar fields, field-major (in
         * the order of the record) */
        const double *values;
        const ka_agent_array_t *arrays; /* narrays, in record order */
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
        /* Event times after the wall clock plus this are skipped. */
        int64_t max_future_ms;
        int32_t min_sample_size;
        bool group_by_key;

        size_t nops;
        const ka_op_t *ops;

        size_t nfields; /* scalar fields of every source: row->nvals */
        size_t narrays; /* array fields of every source: row->narrays */
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
 * Writes the nops statistics of an array field as nops Avro arrays of
 * double (the encoder's part for each `<op>_<name>` of an array field).
 * Errors as the writer's: sticky overflow.
 */
ka_err_t ka_agent_write_array_stats(ka_avro_writer_t *w,
                                    const ka_agent_array_t *arr, size_t nops);

/*
 * The agents compiled into this binary: defined by the generated
 * agents/agents_table.c; without generated agents, the empty table of
 * agents_none.c stands in.
 */
extern const ka_agent_t *const ka_agents[];
extern const size_t ka_agents_count;

#endif
