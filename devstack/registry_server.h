/*
 * An in-memory Schema Registry speaking the Confluent REST API (SPEC §13),
 * for the dev stack and the tests: Avro schemas only, no references, no
 * persistence. Schema identity is the normalized form of avro_schema.h
 * (the Parsing Canonical Form plus defaults, aliases, logical types and
 * other attributes but doc: the canonical form alone would make a field
 * with and without a default one schema, and compatibility depends on
 * that difference). The same schema keeps one global id across subjects,
 * and registering it again under a subject returns the existing id and
 * version. New versions are checked against the subject's compatibility
 * level (falling back to the global level, BACKWARD by default).
 *
 * Endpoints (responses `application/vnd.schemaregistry.v1+json`; any
 * request content type is accepted; subject names are percent-decoded):
 *   GET    /subjects
 *   POST   /subjects/{s}                       lookup
 *   DELETE /subjects/{s}                       the deleted versions
 *   GET    /subjects/{s}/versions
 *   POST   /subjects/{s}/versions              register: {"id":N}
 *   GET    /subjects/{s}/versions/{v|latest}   {subject,version,id,schema}
 *   GET    /subjects/{s}/versions/{v}/schema   the schema text alone
 *   DELETE /subjects/{s}/versions/{v}          the deleted version
 *   GET    /schemas/ids/{id}                   {"schema": ...}
 *   GET    /schemas/ids/{id}/versions          [{subject,version}, ...]
 *   GET    /schemas/ids/{id}/subjects, /schemas/types, /mode
 *   POST   /compatibility/subjects/{s}/versions/{v}   {"is_compatible":b}
 *   GET|PUT /config, GET|PUT|DELETE /config/{s}
 * GET /config/{s} falls back to the global level when the subject has
 * none (newer Confluent versions answer 40408 unless ?defaultToGlobal).
 * Deleting a subject forgets its versions (schemas keep their ids, version
 * numbers are not reused) and keeps its compatibility level.
 *
 * Errors carry Confluent bodies {"error_code":N,"message":"..."}: 40401
 * subject not found, 40402 version not found, 40403 schema not found,
 * 42201 invalid schema (the reason included), 42202 invalid version,
 * 42203 invalid compatibility level, 409 incompatible schema (the reason
 * included), 400 malformed JSON, 404 and 405 for unknown paths and
 * methods, 413 for a body over 16 MiB, 500 when out of memory.
 */
#ifndef KA_REGISTRY_SERVER_H
#define KA_REGISTRY_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct ka_registry_server_s ka_registry_server_t;

/*
 * Starts a registry on 127.0.0.1:port (0 = an ephemeral port) served by a
 * thread of its own; every request is handled under one lock. Returns
 * NULL with errstr, which reads `port 8081 is already in use` when the
 * port is taken.
 */
ka_registry_server_t *ka_registry_server_new(uint16_t port, char *errstr,
                                             size_t errstr_size);

/*
 * A registry that listens nowhere: requests reach it through
 * ka_registry_server_handle() only (tests, fuzzing). Free it with
 * ka_registry_server_destroy(). NULL when out of memory.
 */
ka_registry_server_t *ka_registry_server_new_detached(void);

/*
 * Answers one request as the HTTP server does: method ("GET", "POST",
 * ...), path the URL path as it arrives (still percent-escaped, without
 * the query), and the body, len bytes (NUL not needed). Returns the HTTP
 * status and stores the response body (malloc'd, the caller frees it) in
 * *reply; NULL only when out of memory. Takes the server's lock.
 */
unsigned ka_registry_server_handle(ka_registry_server_t *srv,
                                   const char *method, const char *path,
                                   const char *body, size_t len, char **reply);

/* The port it listens on (the ephemeral one when started with 0). */
uint16_t ka_registry_server_port(const ka_registry_server_t *srv);

/* Stops serving (waits for the server thread) and frees every schema;
 * NULL is a no-op. */
void ka_registry_server_destroy(ka_registry_server_t *srv);

#endif
