/*
 * Plausible random records for any Avro record schema, for `produce`
 * (SPEC §3): what a telemetry producer would write, so that the worker
 * has realistic input for the example and for the SAL topics alike.
 *
 * Values, by type (a field's name decides first):
 *   - the event time: a double or float field named `time`, `timestamp`
 *     or ending in `Stamp` (SAL's private_sndStamp, ...) is now, in Unix
 *     seconds; a long with logicalType timestamp-millis or -micros is now
 *     in those units; an int or long named `seqNum` or ending in `SeqNum`
 *     or `_seqNum` is the message's sequence number;
 *   - double and float: uniform in [0, 1); int: uniform in [0, 100);
 *     long: uniform in [0, 1000000); int with logicalType date: today;
 *   - boolean: either; string: 8 lowercase letters; bytes: 8 random bytes;
 *     fixed: its size of random bytes; enum: any symbol;
 *   - array: array_length elements, or when array_length is 0 as many as
 *     the field's default array has (SAL's fixed sizes), else
 *     KA_PLAUSIBLE_ARRAY_LENGTH; map: two entries;
 *   - union: one of its branches other than null, at random; record: each
 *     field. Below KA_PLAUSIBLE_MAX_DEPTH levels unions take null when they
 *     can and arrays and maps are empty, so that recursive types end.
 */
#ifndef KA_PLAUSIBLE_H
#define KA_PLAUSIBLE_H

#include "ka.h"

#include <stddef.h>
#include <stdint.h>

/* Array length when neither the option nor a default gives one. */
#define KA_PLAUSIBLE_ARRAY_LENGTH 10
/* Longest array a record gets (--array-length at most). */
#define KA_PLAUSIBLE_MAX_ARRAY 65536
#define KA_PLAUSIBLE_MAX_DEPTH 8

typedef struct ka_plausible_s ka_plausible_t;

/*
 * A generator for records of schema_json (a record schema). array_length
 * as above (0: defaults). NULL with the reason in errstr when the schema
 * is invalid or not a record.
 */
ka_plausible_t *ka_plausible_new(const char *schema_json, size_t array_length,
                                 char *errstr, size_t errstr_size);

void ka_plausible_destroy(ka_plausible_t *p);

/*
 * Encodes one random record (Avro binary) after the first `offset` bytes
 * of *buf (kept as they are, e.g. a Confluent header), growing *buf
 * (*cap bytes, malloc'd, may start NULL) as needed. now is the Unix time
 * in seconds, seq the message's sequence number, rng a splitmix64 state.
 * Sets *len to offset + the record's length. KA_ERR_NOMEM.
 */
ka_err_t ka_plausible_record(const ka_plausible_t *p, double now, int64_t seq,
                             uint64_t *rng, uint8_t **buf, size_t *cap,
                             size_t offset, size_t *len);

#endif
