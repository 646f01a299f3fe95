/*
 * Avro schemas as a whole: validation with avro-c, a resolved tree of the
 * schema (fullnames, defaults) for compatibility checks, the Parsing
 * Canonical Form of the Avro specification and its CRC-64-AVRO (Rabin)
 * fingerprint. The registry decides "same schema" by canonical form, and
 * the worker accepts writer schema ids whose canonical form equals the one
 * its decoder was generated for.
 */
#ifndef KA_AVRO_SCHEMA_H
#define KA_AVRO_SCHEMA_H

#include "avro_wire.h"
#include "ka.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A node's type: one of avro_wire.h's primitives (KA_AVRO_NULL ...
 * KA_AVRO_STRING, 0 to 7, so `type <= KA_AVRO_STRING` means primitive)
 * or one of the complex types below. An int because the two sets are two
 * enums.
 */
typedef int ka_avro_type_t;

enum ka_avro_complex_e {
        KA_AVRO_RECORD = KA_AVRO_STRING + 1,
        KA_AVRO_ENUM,
        KA_AVRO_ARRAY,
        KA_AVRO_MAP,
        KA_AVRO_UNION,
        KA_AVRO_FIXED,
};

typedef struct ka_avro_node_s ka_avro_node_t;

typedef struct ka_avro_field_s {
        const char *name;
        const ka_avro_node_t *type;
        const json_t *def; /* the "default" value, or NULL when absent */
        size_t naliases;
        const char *const *aliases;
        const json_t *json; /* the field's object */
} ka_avro_field_t;

/*
 * One type of a resolved schema. A reference to a named type is the node
 * of its definition, so a recursive schema is a cyclic graph: walk it with
 * a visited set. Everything belongs to the ka_avro_schema_t it came from.
 */
struct ka_avro_node_s {
        ka_avro_type_t type;
        const char *fullname;     /* record, enum, fixed; else NULL */
        const char *name;         /* the part of fullname after the last dot */
        const char *logical_type; /* "logicalType" or NULL */
        size_t naliases;          /* fullnames of the named type's aliases */
        const char *const *aliases;
        /* record */
        size_t nfields;
        const ka_avro_field_t *fields;
        /* enum */
        size_t nsymbols;
        const char *const *symbols;
        const char *enum_default; /* NULL when absent */
        /* array items, map values */
        const ka_avro_node_t *items;
        /* union */
        size_t nbranches;
        const ka_avro_node_t *const *branches;
        /* fixed */
        size_t size;
        /* The object the type was defined by; NULL for a name string. */
        const json_t *json;
};

typedef struct ka_avro_schema_s ka_avro_schema_t;

/*
 * Resolves json into a tree, then validates it with avro-c as well.
 * Beyond avro-c it checks what resolution depends on: names
 * ([A-Za-z_][A-Za-z0-9_]* per dotted part), no redefined or unknown names,
 * unions without nested unions or two branches of one unnamed type or one
 * name, defaults that match their field's type (a union default may match
 * any branch), and an enum default among the symbols. Returns NULL with
 * the reason in errstr (avro-c's avro_strerror() text when avro-c refuses
 * what the resolution accepted).
 */
ka_avro_schema_t *ka_avro_schema_parse(const char *json, char *errstr,
                                       size_t errstr_size);

/* Frees schema and every node; NULL is a no-op. */
void ka_avro_schema_destroy(ka_avro_schema_t *schema);

/* The top-level type; valid while schema lives. */
const ka_avro_node_t *ka_avro_schema_root(const ka_avro_schema_t *schema);

/*
 * The Parsing Canonical Form of schema (Avro specification): primitives
 * in their simple form, fullnames without namespace attributes, only the
 * attributes type, name, fields, symbols, items, values and size, in that
 * order, a named type spelled out at its first occurrence and referred to
 * by fullname after that, no whitespace. Returns a malloc'd string the
 * caller frees, or NULL when out of memory.
 */
char *ka_avro_schema_canonical_of(const ka_avro_schema_t *schema);

/*
 * The normalized form: the canonical form plus every other attribute of
 * types and fields except "doc" (defaults, aliases, logicalType,
 * precision, order, custom properties), each extra attribute after the
 * canonical ones in key order, values as compact JSON with sorted keys.
 * Two texts with equal normalized forms decode and resolve alike;
 * whitespace, key order, doc and how names are spelled do not count. The
 * registry's notion of "the same schema". malloc'd; NULL when out of
 * memory.
 */
char *ka_avro_schema_normalized_of(const ka_avro_schema_t *schema);

/*
 * ka_avro_schema_parse() and ka_avro_schema_canonical_of() in one: the
 * canonical form of the schema text json (malloc'd), or NULL with the
 * reason in errstr.
 */
char *ka_avro_schema_canonical(const char *json, char *errstr,
                               size_t errstr_size);

/*
 * The 64-bit Rabin fingerprint (CRC-64-AVRO) of len bytes; applied to a
 * canonical form it is the schema's fingerprint of the Avro
 * specification.
 */
uint64_t ka_avro_fingerprint64(const void *buf, size_t len);

/* "null", "int", "record", ... */
const char *ka_avro_type_name(ka_avro_type_t type);

#endif
