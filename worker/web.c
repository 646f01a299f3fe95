/*
 * libmicrohttpd server of the worker's operational endpoints; what they
 * say comes from the worker's handlers.
 */
#include "web.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ka_web_s {
        struct MHD_Daemon *daemon;
        ka_web_handlers_t handlers;
        void *opaque;
        uint16_t port;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *type, char *body)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        if (!body)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(body), body,
                                               MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", type);
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
        ka_web_t *web = cls;

        (void)version;
        (void)upload_data;
        (void)upload_data_size;
        (void)req_cls;
        if (strcmp(method, "GET") && strcmp(method, "HEAD"))
                return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                             strdup("method not allowed\n"));
        if (!strcmp(url, "/metrics"))
                return reply(conn, MHD_HTTP_OK,
                             "text/plain; version=0.0.4; charset=utf-8",
                             ka_metrics_render());
        if (!strcmp(url, "/health") || !strcmp(url, "/ready")) {
                bool (*check)(void *, char *, size_t) =
                        url[1] == 'h' ? web->handlers.health
                                      : web->handlers.ready;
                char why[256] = "ok", *body;
                bool ok = check && check(web->opaque, why, sizeof(why));

                if (asprintf(&body, "%s\n", ok ? "ok" : why) < 0)
                        return MHD_NO;
                return reply(conn,
                             ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                             "text/plain", body);
        }
        if (!strcmp(url, "/agents")) {
                char *body = web->handlers.agents
                                     ? web->handlers.agents(web->opaque)
                                     : NULL;

                if (!body)
                        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                     "text/plain", strdup("out of memory\n"));
                return reply(conn, MHD_HTTP_OK, "application/json", body);
        }
        return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
                     strdup("not found\n"));
}

ka_web_t *ka_web_start(const char *host, uint16_t port,
                       const ka_web_handlers_t *handlers, void *opaque,
                       char *errstr, size_t errstr_size)
{
        struct sockaddr_in addr = {.sin_family = AF_INET,
                                   .sin_port = htons(port)};
        const union MHD_DaemonInfo *info;
        ka_web_t *web;

        if (inet_pton(AF_INET, host ? host : "127.0.0.1", &addr.sin_addr) !=
            1) {
                snprintf(errstr, errstr_size, "web: bad address '%s'", host);
                return NULL;
        }
        if (!(web = calloc(1, sizeof(*web)))) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        web->handlers = *handlers;
        web->opaque = opaque;
        web->daemon = MHD_start_daemon(
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port, NULL,
                NULL, handle, web, MHD_OPTION_SOCK_ADDR, &addr,
                MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
        if (!web->daemon) {
                snprintf(errstr, errstr_size,
                         "web: cannot listen on %s:%u (port in use?)",
                         host ? host : "127.0.0.1", (unsigned)port);
                free(web);
                return NULL;
        }
        info = MHD_get_daemon_info(web->daemon, MHD_DAEMON_INFO_BIND_PORT);
        web->port = info ? info->port : port;
        return web;
}

uint16_t ka_web_port(const ka_web_t *web)
{
        return web->port;
}

void ka_web_stop(ka_web_t *web)
{
        if (!web)
                return;
        MHD_stop_daemon(web->daemon);
        free(web);
}
