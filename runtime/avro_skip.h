/*
 * Skip programs: the one way the runtime reads past an Avro value it does
 * not decode (records, arrays, maps, unions, enums, fixed, primitives)
 * without per-type code. A type of a resolved schema (avro_schema.h)
 * compiles into a short int32_t array, once: by the generator for the
 * fields a generated decoder skips, at run time for the writer schemas
 * schema resolution and `consume` meet. The runtime interprets it here,
 * once for all of them, bounds-checked.
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

#include <stdbool.h>
#include <stddef.h>
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

/*
 * Nesting deeper than this is an error, not a crash: a type more than
 * KA_SKIP_MAX_DEPTH levels below the one compiled (each record field,
 * union branch, array item and map value one level down) does not
 * compile, and data nested deeper through a recursive type does not skip.
 */
#define KA_SKIP_MAX_DEPTH 64

/*
 * A named type is spelled out at each use (but inside itself), so a small
 * schema can describe a huge program (a record of two fields of a record
 * of two fields of ...): a program longer than KA_SKIP_MAX_PROG entries
 * does not compile, and a caller compiling many of one schema (schema
 * resolution, the generator) stops at KA_SKIP_MAX_TOTAL entries in all.
 * Real schemas stay far below both.
 */
#define KA_SKIP_MAX_PROG  ((size_t)1 << 18)
#define KA_SKIP_MAX_TOTAL ((size_t)1 << 20)

/* A type of a resolved schema (avro_schema.h); generated decoders, which
 * only run programs, need not see its definition. */
typedef struct ka_avro_node_s ka_avro_node_t;

/*
 * Compiles the skip program of one value of type into *prog (malloc'd,
 * *len entries; the caller frees it). A record used inside itself becomes
 * a KA_SKIP_REF to the enclosing definition, so a recursive type compiles
 * to a finite program; any other repeated use of a named type is spelled
 * out again. type is borrowed. Returns KA_OK, KA_ERR_NOMEM, or
 * KA_ERR_INVALID when types nest deeper than KA_SKIP_MAX_DEPTH, the
 * program would be longer than KA_SKIP_MAX_PROG, or a count or size does
 * not fit an int32_t; on error *prog is NULL.
 */
ka_err_t ka_avro_skip_compile(const ka_avro_node_t *type, int32_t **prog,
                              size_t *len);

/*
 * Whether every value prog describes encodes to the same number of bytes
 * (null, float, double, fixed, records of those) and, when it does, that
 * number in *width: a reader may then jump over such values, or a run of
 * them, without looking at them (their bytes have no invalid encodings).
 * false for a malformed program.
 */
bool ka_avro_skip_width(const int32_t *prog, size_t prog_len, size_t *width);

/*
 * Reads past one value described by prog[0..] (prog_len entries) and
 * advances r. Returns KA_OK, KA_ERR_TRUNCATED, KA_ERR_OVERFLOW or
 * KA_ERR_INVALID (bad union or enum index, a malformed program, data nested
 * deeper than KA_SKIP_MAX_DEPTH).
 */
ka_err_t ka_avro_skip_program(ka_avro_reader_t *r, const int32_t *prog,
                              size_t prog_len);

#endif
