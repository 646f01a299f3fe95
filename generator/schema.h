/*
 * The generator's view of a source schema: the top-level record's fields,
 * each either numeric (a number read into the agent's typed struct, or an
 * array of numbers read into the row) or something to decode past (a
 * primitive skip or a skip program, see runtime/avro_skip.h).
 */
#ifndef KA_SCHEMA_H
#define KA_SCHEMA_H

#include "agent.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ka_schema_field_s {
        char *name;  /* as in the schema */
        char *ident; /* C identifier, see names.h */
        bool numeric;
        /* numeric fields */
        bool array;           /* an array of num (SPEC §5: element-wise) */
        ka_num_type_t num;    /* the number, or the array's items */
        bool nullable;        /* a union of null and the number or array */
        int32_t value_branch; /* union index of that branch when nullable */
        char *logical_type;   /* "timestamp-millis", ... or NULL */
        /* how to read past the field when the agent does not read it: a
         * primitive ("string", "double", ...) or NULL and a skip program */
        const char *skip_prim;
        int32_t *skip_prog;
        size_t skip_prog_len;
        char *type_desc; /* short description for comments and logs */
} ka_schema_field_t;

typedef struct ka_schema_s {
        char *fullname; /* of the top-level record */
        size_t nfields;
        ka_schema_field_t *fields;
} ka_schema_t;

/*
 * Parses an Avro schema JSON (validated with avro-c first) whose top level
 * must be a record. Returns NULL with a reason in errstr on any error,
 * including two field names that map to one C identifier.
 */
ka_schema_t *ka_schema_parse(const char *json, char *errstr,
                             size_t errstr_size);
void ka_schema_destroy(ka_schema_t *schema);

/* The field called name, or NULL. */
const ka_schema_field_t *ka_schema_field(const ka_schema_t *schema,
                                         const char *name);

#endif
