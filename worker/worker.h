/*
 * The worker (SPEC §9-§11): runs every agent compiled into the binary
 * over Kafka until told to stop. The `worker` command of tools/ parses the
 * command line and the environment into ka_worker_opts_t.
 */
#ifndef KA_WORKER_H
#define KA_WORKER_H

#include "ka.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ka_worker_opts_s {
        const char *group_id;              /* KAFKA_GROUP_ID */
        const char *registry_url;          /* source schemas */
        const char *internal_registry_url; /* aggregated schemas */
        const char *web_host;              /* NULL: no HTTP server */
        uint16_t web_port;                 /* 0: any free port */
        /* Set (by a signal handler) to stop; read every round. */
        volatile sig_atomic_t *stop;
} ka_worker_opts_t;

/*
 * Runs until *opts->stop is set, then delivers what was emitted, commits
 * and leaves the group. Broker and registry outages are retried, never
 * fatal. Returns KA_OK after a clean stop; otherwise errstr says why:
 * KA_ERR_INVALID for a malformed registry URL, KA_ERR_NOT_FOUND when no
 * agent is compiled in, another error for a failure (a Kafka setting
 * librdkafka refuses, the web port in use, an aggregated schema the
 * registry refuses, records left undelivered at the stop).
 */
ka_err_t ka_worker_run(const ka_worker_opts_t *opts, char *errstr,
                       size_t errstr_size);

#endif
