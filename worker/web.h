/*
 * The worker's HTTP endpoints (SPEC §11), served by libmicrohttpd's own
 * thread from the start, before any schema lookup: /metrics (Prometheus
 * text), /health (liveness), /ready (readiness) and /agents (JSON).
 */
#ifndef KA_WEB_H
#define KA_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ka_web_s ka_web_t;

/*
 * What the endpoints ask the worker, from the server's thread. health and
 * ready answer true for 200, false for 503 with a one-line reason in why;
 * agents returns malloc'd JSON (NULL: 500).
 */
typedef struct ka_web_handlers_s {
        bool (*health)(void *opaque, char *why, size_t why_size);
        bool (*ready)(void *opaque, char *why, size_t why_size);
        char *(*agents)(void *opaque);
} ka_web_handlers_t;

/*
 * Starts serving on host:port (host "127.0.0.1" by default, port 0 picks
 * a free one); handlers is copied. Returns NULL with the reason in errstr
 * (port in use, ...).
 */
ka_web_t *ka_web_start(const char *host, uint16_t port,
                       const ka_web_handlers_t *handlers, void *opaque,
                       char *errstr, size_t errstr_size);

/* The port actually bound. */
uint16_t ka_web_port(const ka_web_t *web);

/* Stops the server and frees it; NULL is a no-op. */
void ka_web_stop(ka_web_t *web);

#endif
