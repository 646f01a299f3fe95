/*
 * libmicrohttpd server of the worker's operational endpoints.
 */
#include "web.h"
#include "agent.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ka_web_s {
        struct MHD_Daemon *daemon;
        ka_web_health_cb health;
        void *opaque;
        uint16_t port;
};

static char *agents_json(void)
{
        json_t *list = json_array();
        char *text;

        for (size_t a = 0; a < ka_agents_count; a++) {
                const ka_agent_t *agent = ka_agents[a];
                json_t *topics = json_array();

                for (size_t s = 0; s < agent->nsources; s++)
                        json_array_append_new(
                                topics, json_string(agent->sources[s].topic));
                json_array_append_new(
                        list,
                        json_pack("{s:s, s:o, s:I, s:I}", "name", agent->name,
                                  "source_topics", topics, "window_ms",
                                  (json_int_t)agent->window_ms, "fields",
                                  (json_int_t)agent->nfields));
        }
        text = json_dumps(list, JSON_COMPACT);
        json_decref(list);
        return text;
}

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
        if (!strcmp(url, "/health")) {
                bool ok = web->health && web->health(web->opaque);

                return reply(
                        conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                        "text/plain", strdup(ok ? "ok\n" : "not consuming\n"));
        }
        if (!strcmp(url, "/agents"))
                return reply(conn, MHD_HTTP_OK, "application/json",
                             agents_json());
        return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
                     strdup("not found\n"));
}

ka_web_t *ka_web_start(const char *host, uint16_t port, ka_web_health_cb health,
                       void *opaque, char *errstr, size_t errstr_size)
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
        web->health = health;
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
