/*
 * The worker's HTTP endpoint (SPEC §11): /metrics (Prometheus text),
 * /health (200 while consuming, else 503) and /agents (JSON). Served by
 * libmicrohttpd's own thread.
 */
#ifndef KA_WEB_H
#define KA_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ka_web_s ka_web_t;

/* Whether the worker is healthy; called from the server thread. */
typedef bool (*ka_web_health_cb)(void *opaque);

/*
 * Starts serving on host:port (host "127.0.0.1" by default, port 0 picks
 * a free one). Returns NULL with the reason in errstr (port in use, ...).
 */
ka_web_t *ka_web_start(const char *host, uint16_t port, ka_web_health_cb health,
                       void *opaque, char *errstr, size_t errstr_size);

/* The port actually bound. */
uint16_t ka_web_port(const ka_web_t *web);

/* Stops the server and frees it; NULL is a no-op. */
void ka_web_stop(ka_web_t *web);

#endif
