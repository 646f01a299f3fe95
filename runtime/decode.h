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
        KA_DECODE_CORRUPT,   /* bad varint, union index, trailing bytes... */
        KA_DECODE_SCHEMA,    /* a schema id that cannot be read as ours */
        KA_DECODE_REGISTRY,  /* the writer schema could not be fetched */
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
 * only the generated schema id and JSON are read) fetches writer schemas
 * of other ids.
 */
ka_decoder_t *ka_decoder_new(const ka_agent_source_t *src, ka_registry_t *reg);
void ka_decoder_destroy(ka_decoder_t *dec);

/*
 * Decodes payload into row (the agent's whole row; this source's slice is
 * written, NaN where a value is missing) and, when the source has a
 * time_field, *event_ms. Never reads outside [payload, payload + len).
 * A schema id seen for the first time costs a registry round trip; its
 * outcome is cached (a registry failure is not, so a later message
 * retries).
 */
ka_decode_result_t ka_decoder_decode(ka_decoder_t *dec, const uint8_t *payload,
                                     size_t len, double *row,
                                     int64_t *event_ms);

#endif
