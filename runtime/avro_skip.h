/*
 * Skip programs: how a generated decoder reads past a field of a complex
 * type (records, arrays, maps, unions, enums, fixed) without per-type code.
 * The generator compiles the field's schema into a short int32_t array; the
 * runtime interprets it here, once for all agents, bounds-checked.
 *
 * Encoding, one node after another in prefix order:
 *   KA_SKIP_NULL .. KA_SKIP_STRING      a primitive
 *   KA_SKIP_FIXED, size                 `size` bytes
 *   KA_SKIP_ENUM, nsymbols              an index in [0, nsymbols)
 *   KA_SKIP_ARRAY, <items>              blocks of items
 *   KA_SKIP_MAP, <values>               blocks of (string, value)
 *   KA_SKIP_UNION, n, <b0> .. <bn-1>    a branch index, then that branch
 *   KA_SKIP_RECORD, n, <f0> .. <fn-1>   the fields in order
 *   KA_SKIP_REF, pos                    the node at prog[pos] (a named type
 *                                       used again, possibly recursively)
 */
#ifndef KA_AVRO_SKIP_H
#define KA_AVRO_SKIP_H

#include "avro_wire.h"
#include "ka.h"

#include <stdint.h>

enum {
        KA_SKIP_NULL = 1,
        KA_SKIP_BOOLEAN,
        KA_SKIP_INT,
        KA_SKIP_LONG,
        KA_SKIP_FLOAT,
        KA_SKIP_DOUBLE,
        KA_SKIP_BYTES,
        KA_SKIP_STRING,
        KA_SKIP_FIXED,
        KA_SKIP_ENUM,
        KA_SKIP_ARRAY,
        KA_SKIP_MAP,
        KA_SKIP_UNION,
        KA_SKIP_RECORD,
        KA_SKIP_REF,
};

/* Nesting deeper than this (recursive data) is an error, not a crash. */
#define KA_SKIP_MAX_DEPTH 64

/*
 * Reads past one value described by prog[0..] (prog_len entries) and
 * advances r. Returns KA_OK, KA_ERR_TRUNCATED, KA_ERR_OVERFLOW or
 * KA_ERR_INVALID (bad union or enum index, a malformed program, data nested
 * deeper than KA_SKIP_MAX_DEPTH).
 */
ka_err_t ka_avro_skip_program(ka_avro_reader_t *r, const int32_t *prog,
                              size_t prog_len);

#endif
