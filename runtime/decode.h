/*
 * Turning one Kafka payload of a source topic into the agent's row (SPEC
 * §9): the generated decoder for its own schema id (or any id with the same
 * canonical form), Avro schema resolution for other ids, the JSON path, and
 * decode errors by reason.
 */
#ifndef KA_DECODE_H
#define KA_DECODE_H

#include "agent.h"
#include "registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a payload was skipped; the `reason` label of
 * kafkaaggregator_decode_errors_total. */
typedef enum ka_decode_result_e {
        KA_DECODE_OK = 0,
        KA_DECODE_TRUNCATED, /* the payload ended inside a value */
        KA_DECODE_CORRUPT,   /* bad varint, union index, trailing bytes, an
                                array longer than KA_ROW_MAX_ARRAY... */
        KA_DECODE_SCHEMA,    /* a schema id that cannot be read as ours */
        KA_DECODE_REGISTRY,  /* the writer schema is not fetched yet */
        KA_DECODE_JSON,      /* malformed JSON or a non-numeric field */
        KA_DECODE_FORMAT,    /* neither Confluent Avro nor a JSON object */
        KA_DECODE_TIME,      /* an event time outside the supported range */
        KA_DECODE__COUNT
} ka_decode_result_t;

/* "truncated", "corrupt", "schema", ... */
const char *ka_decode_result_name(ka_decode_result_t res);

/* The decoding state of one agent source: its cache of schema ids. */
typedef struct ka_decoder_s ka_decoder_t;

/*
 * src is borrowed for the decoder's life. reg (borrowed, may be NULL: then
 * only the generated schema id and JSON are read) holds the writer schemas
 * of other ids in its cache; the decoder never asks it over the network.
 */
ka_decoder_t *ka_decoder_new(const ka_agent_source_t *src, ka_registry_t *reg);
void ka_decoder_destroy(ka_decoder_t *dec);

/*
 * Decodes payload into row (the agent's whole row; this source's slices
 * are written, NaN where a value is missing, an empty array where an array
 * is) and, when the source has a time_field, *event_ms; *schema_id is the
 * Confluent schema id when the payload has one. An array longer than
 * KA_ROW_MAX_ARRAY is KA_DECODE_CORRUPT. Never reads outside [payload,
 * payload + len).
 *
 * A schema id seen for the first time is looked up in reg's cache: when it
 * is not there, the result is KA_DECODE_REGISTRY and nothing is decoded;
 * the caller has the schema fetched (ka_registry_schema_by_id(), or a
 * ka_fetcher_t) and decodes the message again, or gives the id up with
 * ka_decoder_unknown_id(). What is learnt of an id is kept.
 */
ka_decode_result_t ka_decoder_decode(ka_decoder_t *dec, const uint8_t *payload,
                                     size_t len, ka_row_t *row,
                                     int64_t *event_ms, int32_t *schema_id);

/* Schema id is not known to the registry (40403): its messages are decode
 * errors (KA_DECODE_SCHEMA) from now on. */
void ka_decoder_unknown_id(ka_decoder_t *dec, int32_t id);

#endif
