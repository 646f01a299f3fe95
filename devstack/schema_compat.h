/*
 * Schema compatibility as the Confluent Schema Registry decides it: whether
 * a reader with one Avro schema can read data written with another, by the
 * schema resolution rules of the Avro specification, and the registry's
 * compatibility levels built on that. Reader defaults count (avro-c's own
 * resolver ignores them, so this is a walk of our own).
 */
#ifndef KA_SCHEMA_COMPAT_H
#define KA_SCHEMA_COMPAT_H

#include "avro_schema.h"
#include "ka.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Can a reader using reader decode every datum written with writer?
 *   - same primitive, or a promotion: int to long, float or double; long
 *     to float or double; float to double; string to bytes and back;
 *   - records, enums and fixed: same unqualified name (or a reader alias
 *     naming the writer's fullname); records resolve field by field by
 *     name (or reader field alias): a writer field the reader lacks is
 *     skipped, a reader field the writer lacks needs a default; enums: every
 *     writer symbol is a reader symbol unless the reader enum has a
 *     default; fixed: same size;
 *   - arrays and maps: their items and values, recursively;
 *   - a writer union: every branch must be readable; a reader union (the
 *     writer not a union): some branch must read the writer's type.
 * Recursive types are handled (a pair under check counts as compatible).
 * Returns KA_OK, or KA_ERR_CONFLICT with the first reason in why, e.g.
 * `/fields/b: reader field 'b' has no default and the writer lacks it`.
 */
ka_err_t ka_schema_compat_nodes(const ka_avro_node_t *reader,
                                const ka_avro_node_t *writer, char *why,
                                size_t why_size);

/*
 * ka_schema_compat_nodes() on two schema texts. KA_ERR_INVALID (reason in
 * why, naming "reader" or "writer") when one does not parse.
 */
ka_err_t ka_schema_compat_check(const char *reader_json,
                                const char *writer_json, char *why,
                                size_t why_size);

/* The registry's compatibility levels. */
typedef enum ka_compat_level_e {
        KA_COMPAT_NONE,
        KA_COMPAT_BACKWARD,            /* new reads latest */
        KA_COMPAT_BACKWARD_TRANSITIVE, /* new reads every earlier one */
        KA_COMPAT_FORWARD,             /* latest reads new */
        KA_COMPAT_FORWARD_TRANSITIVE,  /* every earlier one reads new */
        KA_COMPAT_FULL,                /* both, with latest */
        KA_COMPAT_FULL_TRANSITIVE,     /* both, with every earlier one */
} ka_compat_level_t;

/* "NONE", "BACKWARD", ... */
const char *ka_compat_level_name(ka_compat_level_t level);

/* Parses a level name, case-insensitively as Confluent does. */
bool ka_compat_level_parse(const char *name, ka_compat_level_t *level);

/*
 * Whether schema candidate may follow the existing versions of a subject
 * (existing[0] oldest, existing[n - 1] latest; n may be 0) at level. The
 * non-transitive levels look at the latest only. versions[i] is the
 * version number of existing[i], for messages; NULL means 1..n. Returns
 * KA_OK or KA_ERR_CONFLICT with why naming the direction and the version,
 * e.g. `the new schema cannot read version 2: /fields/b: ...`.
 */
ka_err_t ka_schema_compat_level(ka_compat_level_t level,
                                const ka_avro_node_t *candidate,
                                const ka_avro_node_t *const *existing,
                                const int *versions, size_t n, char *why,
                                size_t why_size);

#endif
