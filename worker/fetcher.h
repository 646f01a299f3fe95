/*
 * Writer schemas fetched by id in a thread of its own (SPEC §9, §11): a
 * slow, failing or hostile Schema Registry stalls only the partitions
 * whose messages wait for a schema, never the worker's loop.
 *
 * The worker requests an id when a message needs it; the thread fetches it
 * with ka_registry_schema_by_id(), whose cache then answers the decoders
 * (ka_registry_schema_cached()). Failures are kept with their error for
 * the worker to decide: retry later (after its backoff) or give up.
 */
#ifndef KA_FETCHER_H
#define KA_FETCHER_H

#include "ka.h"
#include "registry.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ka_fetcher_s ka_fetcher_t;

typedef enum ka_fetch_state_e {
        KA_FETCH_UNKNOWN = 0, /* never requested (or forgotten) */
        KA_FETCH_PENDING,     /* requested, not answered yet */
        KA_FETCH_DONE,        /* fetched: cached in the registry client */
        KA_FETCH_FAILED,      /* the last attempt failed; see err */
} ka_fetch_state_t;

/*
 * Starts the thread over reg (borrowed: it must outlive the fetcher; its
 * cancel flag interrupts a fetch in progress). NULL when out of memory.
 */
ka_fetcher_t *ka_fetcher_new(ka_registry_t *reg);

/* Stops the thread (after the fetch in progress) and frees f; NULL-safe. */
void ka_fetcher_destroy(ka_fetcher_t *f);

/* Asks for id; a no-op while it is pending or done. A failed id is asked
 * again. */
void ka_fetcher_request(ka_fetcher_t *f, int32_t id);

/*
 * The state of id; for KA_FETCH_FAILED the error (KA_ERR_NOT_FOUND for the
 * registry's 40403, KA_ERR_AUTH, KA_ERR_TRANSPORT, ...) and its message.
 */
ka_fetch_state_t ka_fetcher_state(ka_fetcher_t *f, int32_t id, ka_err_t *err,
                                  char *errstr, size_t errstr_size);

#endif
