/*
 * A client of the Confluent Schema Registry REST API (SPEC §5, §8, §9):
 * schemas by subject and version or by id, registration, lookup and
 * compatibility levels. The worker, the generator and the example commands
 * share it. Transient failures (connection errors, timeouts, HTTP 5xx) are
 * retried with exponential backoff; schemas by id are cached.
 */
#ifndef KA_REGISTRY_H
#define KA_REGISTRY_H

#include "ka.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ka_registry_s ka_registry_t;

/*
 * Stands in for HTTP (tests, fuzzing): answers METHOD url (payload is the
 * JSON body or NULL) with *status and a body of *len bytes at *body, which
 * stays the callback's (the client copies it at once). Returns KA_OK, or
 * KA_ERR_TRANSPORT for a failure to connect (retried like one).
 */
typedef ka_err_t (*ka_registry_transport_t)(void *opaque, const char *method,
                                            const char *url,
                                            const char *payload, long *status,
                                            const char **body, size_t *len);

/*
 * Client settings. A field that is zero (or negative) takes its default,
 * so that `(ka_registry_opts_t){.max_attempts = 1}` changes one thing.
 */
typedef struct ka_registry_opts_s {
        long connect_timeout_ms; /* per attempt; default 2000 */
        long request_timeout_ms; /* per attempt, whole exchange; 10000 */
        int max_attempts;        /* 1 = no retry; default 5 */
        /*
         * Wait before attempt 2: backoff_initial_ms (default 100), doubling
         * up to backoff_max_ms (default 2000). Each wait is drawn uniformly
         * from [d/2, d] so that many workers do not retry in step.
         */
        long backoff_initial_ms;
        long backoff_max_ms;
        /*
         * When non-NULL and *cancel becomes non-zero (a signal handler may
         * set it), a call in progress or waiting to retry gives up with
         * KA_ERR_TRANSPORT ("interrupted") within about 50 ms.
         */
        const volatile sig_atomic_t *cancel;
        /* When set, every request goes to transport(transport_opaque, ...)
         * instead of the network. */
        ka_registry_transport_t transport;
        void *transport_opaque;
} ka_registry_opts_t;

/*
 * A registered schema. Every string is owned by the struct; release it
 * with ka_schema_info_release().
 */
typedef struct ka_schema_info_s {
        int32_t id;      /* global schema id */
        int32_t version; /* version under subject */
        char *subject;
        char *schema; /* the schema JSON as the registry stores it */
} ka_schema_info_t;

/* Frees the strings of info and zeroes it; NULL-safe, idempotent. */
void ka_schema_info_release(ka_schema_info_t *info);

/*
 * A client of the registry at url: `http[s]://[user[:password]@]host[:port]
 * [/prefix]`. User info (percent-decoded) becomes HTTP basic auth and is
 * removed from every URL the client prints. Nothing is sent before the
 * first call. opts is copied; NULL means defaults. Returns NULL with errstr
 * on a malformed URL (any scheme but http and https, no host, a query or a
 * fragment); errstr never holds the password.
 */
ka_registry_t *ka_registry_new(const char *url, const ka_registry_opts_t *opts,
                               char *errstr, size_t errstr_size);

/* Frees reg and every cached schema; NULL is a no-op. */
void ka_registry_destroy(ka_registry_t *reg);

/* The base URL without user info or trailing '/', for messages. */
const char *ka_registry_url(const ka_registry_t *reg);

/* HTTP attempts made so far (each retry counts), for metrics and tests. */
uint64_t ka_registry_request_count(const ka_registry_t *reg);

/*
 * Every call below is thread safe: one connection per registry (kept
 * alive), used by one call at a time. Results:
 *   KA_OK
 *   KA_ERR_NOT_FOUND  HTTP 404 with the registry's error body: no such
 *                     subject (40401), version (40402) or schema (40403)
 *   KA_ERR_CONFLICT   HTTP 409: the schema is incompatible with the subject
 *   KA_ERR_AUTH       HTTP 401 or 403: the credentials were refused
 *   KA_ERR_INVALID    any other 4xx (422 invalid schema, ...), a bad
 *                     argument, or a response that is not the JSON the API
 *                     promises
 *   KA_ERR_TRANSPORT  connection failure, timeout, HTTP 5xx or a 404
 *                     without the registry's error body, on every attempt,
 *                     or cancelled
 *   KA_ERR_NOMEM
 * On error errstr reads `schema registry URL: METHOD PATH: REASON`, REASON
 * naming the HTTP status and the registry's error_code and message, e.g.
 * `HTTP 409 (error_code 409): Schema being registered is incompatible with
 * an earlier schema`; it never holds the password. 4xx answers are never
 * retried; each retry is logged at warn. A call holds the connection for
 * all its attempts: other calls (not cache hits) wait for it.
 */

/* The latest version of subject (GET /subjects/{subject}/versions/latest).
 * On KA_OK *info is filled and must be released; on error it is zeroed. */
ka_err_t ka_registry_latest(ka_registry_t *reg, const char *subject,
                            ka_schema_info_t *info, char *errstr,
                            size_t errstr_size);

/* Version (>= 1) of subject (GET /subjects/{subject}/versions/{version}). */
ka_err_t ka_registry_version(ka_registry_t *reg, const char *subject,
                             int32_t version, ka_schema_info_t *info,
                             char *errstr, size_t errstr_size);

/*
 * The schema JSON with global id (GET /schemas/ids/{id}). *schema belongs
 * to reg's cache and stays valid and unchanged until ka_registry_destroy():
 * once an id has been fetched, later calls answer from the cache without a
 * request. Failures are not cached.
 */
ka_err_t ka_registry_schema_by_id(ka_registry_t *reg, int32_t id,
                                  const char **schema, char *errstr,
                                  size_t errstr_size);

/* The cached schema of id (as ka_registry_schema_by_id() left it), or
 * NULL when id was never fetched: never a request. */
const char *ka_registry_schema_cached(ka_registry_t *reg, int32_t id);

/*
 * Registers the Avro schema_json under subject (POST
 * /subjects/{subject}/versions) and stores its global id in *id. A schema
 * the subject already has keeps its id and version.
 */
ka_err_t ka_registry_register(ka_registry_t *reg, const char *subject,
                              const char *schema_json, int32_t *id,
                              char *errstr, size_t errstr_size);

/*
 * Whether schema_json could be registered under subject at its
 * compatibility level as it stands (POST
 * /compatibility/subjects/{subject}/versions/latest?verbose=true), without
 * registering it: KA_OK when it is compatible with the latest version or
 * subject has no version; KA_ERR_CONFLICT when it is not, errstr then
 * holding the registry's reasons (or only "incompatible" from a registry
 * that gives none).
 */
ka_err_t ka_registry_test_compatibility(ka_registry_t *reg, const char *subject,
                                        const char *schema_json, char *errstr,
                                        size_t errstr_size);

/*
 * Whether subject holds schema_json (POST /subjects/{subject}): on KA_OK
 * *info holds its id and version; KA_ERR_NOT_FOUND when it does not.
 */
ka_err_t ka_registry_lookup(ka_registry_t *reg, const char *subject,
                            const char *schema_json, ka_schema_info_t *info,
                            char *errstr, size_t errstr_size);

/*
 * Every subject of the registry (GET /subjects), in the registry's order:
 * *subjects is a malloc'd array of *n malloc'd strings, to be released
 * with ka_registry_subjects_free(); on error it is NULL and *n 0. Topic
 * patterns (SPEC §4) match the topics of the `<topic>-value` subjects.
 */
ka_err_t ka_registry_subjects(ka_registry_t *reg, char ***subjects, size_t *n,
                              char *errstr, size_t errstr_size);

/* Frees what ka_registry_subjects() gave; NULL is a no-op. */
void ka_registry_subjects_free(char **subjects, size_t n);

/*
 * Parses the body of a GET /subjects answer (len bytes, a JSON array of
 * strings) as ka_registry_subjects() does. KA_ERR_INVALID for anything
 * else, KA_ERR_NOMEM. Used by the client; exposed for its tests.
 */
ka_err_t ka_registry_parse_subjects(const char *body, size_t len,
                                    char ***subjects, size_t *n);

/*
 * The compatibility level ("BACKWARD", "NONE", ...) of subject, falling
 * back to the global level, or the global level when subject is NULL
 * (GET /config[/{subject}]). *level is the caller's to free().
 */
ka_err_t ka_registry_get_compatibility(ka_registry_t *reg, const char *subject,
                                       char **level, char *errstr,
                                       size_t errstr_size);

/* Sets the compatibility level of subject, or the global one when subject
 * is NULL (PUT /config[/{subject}]). */
ka_err_t ka_registry_set_compatibility(ka_registry_t *reg, const char *subject,
                                       const char *level, char *errstr,
                                       size_t errstr_size);

/*
 * Maps a registry answer with a non-2xx HTTP status and its body (may be
 * NULL) to a result as listed above, and writes REASON into msg: `HTTP
 * STATUS (error_code N): MESSAGE` for a Confluent error body, else `HTTP
 * STATUS: ` and the start of the body. Control characters are replaced.
 * Used by the client; exposed for its tests.
 */
ka_err_t ka_registry_status_error(long status, const char *body, size_t len,
                                  char *msg, size_t msg_size);

/*
 * Copies url into out with the password of its user info replaced by
 * "***" ("http://user:***@host"), or the whole user info when it has no
 * ':' (it may be a token), so that a URL may be logged. Always
 * NUL-terminates (truncating) when out_size > 0.
 */
void ka_registry_redact_url(const char *url, char *out, size_t out_size);

#endif
