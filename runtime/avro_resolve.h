/*
 * Avro schema resolution into an agent's row (SPEC §9): a message written
 * with a schema other than the one the agent was generated for is read
 * through a small program built once per (writer schema, source), which
 * reads the fields the agent aggregates and skips everything else.
 *
 * Rules (Avro's, with the SPEC's treatment of null):
 *  - writer fields match the source's fields by name (aliases are not
 *    used: the agent's field table carries none); record names are not
 *    compared, so a renamed record still resolves;
 *  - a writer field the agent does not aggregate is skipped, whatever its
 *    type;
 *  - a matched field's writer type may be any numeric type, whatever the
 *    agent's type: Avro's promotions (int -> long -> float -> double) and
 *    also the other way (a field widened from int to long after the agent
 *    was generated), since every value lands in the row as a double,
 *    converted straight from the writer's value. A non-numeric writer type
 *    makes the resolver fail;
 *  - likewise an array field of the agent reads a writer array of any
 *    numeric items; a scalar where the agent has an array, or an array
 *    where it has a scalar, makes the resolver fail;
 *  - null, from a null type or a union branch, gives NaN (an empty array
 *    for an array field), whether or not the agent's field is nullable; a writer union resolves when every one
 *    of its branches does (Avro's compatibility rule);
 *  - a source field the writer lacks gives NaN or an empty array (SPEC:
 *    counts as null);
 *  - the source's time_field, when set, must be in the writer schema as a
 *    double or float (seconds), or a long with logicalType
 *    timestamp-millis or timestamp-micros, possibly in a union with null;
 *    a null time at decode is KA_ERR_INVALID.
 */
#ifndef KA_AVRO_RESOLVE_H
#define KA_AVRO_RESOLVE_H

#include "agent.h"
#include "ka.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ka_avro_resolver_s ka_avro_resolver_t;

/*
 * Builds the resolution of writer_schema_json (an Avro schema JSON whose top
 * level must be a record) into src's fields. src is borrowed for the call
 * only. Returns NULL with the reason in errstr when the schema is invalid
 * or cannot be resolved (e.g. "writer field 'x' of type 'string' cannot be
 * read as 'double'").
 */
ka_avro_resolver_t *ka_avro_resolver_new(const char *writer_schema_json,
                                         const ka_agent_source_t *src,
                                         char *errstr, size_t errstr_size);

/*
 * Decodes one Avro body (after the 5-byte Confluent header) written with
 * the resolver's writer schema, like a generated decoder: row is the agent's
 * whole row and the source's slices (row->vals[first_field .. + nfields),
 * row->arrays[first_array .. + narrays)) are overwritten (NaN for nulls and
 * fields the writer lacks, empty arrays); *event_ms gets
 * the event time when the source has a time_field and event_ms is not
 * NULL. Bytes left after the record are KA_ERR_INVALID (the payload does
 * not match its schema). Returns KA_OK, KA_ERR_TRUNCATED, KA_ERR_OVERFLOW,
 * KA_ERR_INVALID (also an array longer than KA_ROW_MAX_ARRAY) or
 * KA_ERR_NOMEM; on error the slices hold unspecified values. Never reads
 * outside [buf, buf + len). Thread-safe: res is not modified (the row's
 * array buffers grow).
 */
ka_err_t ka_avro_resolver_decode(const ka_avro_resolver_t *res,
                                 const uint8_t *buf, size_t len, ka_row_t *row,
                                 int64_t *event_ms);

/* ka_avro_resolver_new() of a writer schema parsed already (borrowed for
 * the call only), so that a caller that also needs its canonical form
 * parses it once. */
typedef struct ka_avro_schema_s ka_avro_schema_t;
ka_avro_resolver_t *ka_avro_resolver_new_parsed(const ka_avro_schema_t *writer,
                                                const ka_agent_source_t *src,
                                                char *errstr,
                                                size_t errstr_size);

/* Frees res; NULL is a no-op. */
void ka_avro_resolver_destroy(ka_avro_resolver_t *res);

#endif
