/*
 * The control endpoint: libmicrohttpd's thread parses a path into one
 * fault of mock_cluster.h.
 */
#include "control.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ka_control_s {
        struct MHD_Daemon *daemon;
        ka_mock_cluster_t *mc;
        uint16_t port;
};

static const struct {
        const char *name;
        int16_t key;
} apis[] = {
        {"Produce", 0},          {"Fetch", 1},        {"ListOffsets", 2},
        {"Metadata", 3},         {"OffsetCommit", 8}, {"OffsetFetch", 9},
        {"FindCoordinator", 10}, {"JoinGroup", 11},   {"Heartbeat", 12},
        {"LeaveGroup", 13},      {"SyncGroup", 14},
};

/* A whole decimal number of s within [min, max]. */
static bool number(const char *s, long min, long max, long *out)
{
        char *end;
        long v;

        if (!*s || (!isdigit((unsigned char)*s) && *s != '-'))
                return false;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return false;
        *out = v;
        return true;
}

static bool api_key(const char *s, int16_t *key)
{
        long v;

        for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++) {
                if (!strcasecmp(s, apis[i].name)) {
                        *key = apis[i].key;
                        return true;
                }
        }
        if (!number(s, 0, 100, &v))
                return false;
        *key = (int16_t)v;
        return true;
}

static bool error_code(const char *s, int *err)
{
        const struct rd_kafka_err_desc *descs;
        size_t n;
        long v;

        rd_kafka_get_err_descs(&descs, &n);
        for (size_t i = 0; i < n; i++) {
                const char *name = descs[i].name;

                if (!name)
                        continue;
                if (!strcasecmp(s, name) ||
                    (name[0] == '_' && !strcasecmp(s, name + 1))) {
                        *err = descs[i].code;
                        return true;
                }
        }
        if (!number(s, -200, 1000, &v))
                return false;
        *err = (int)v;
        return true;
}

/* Carries out the fault of path; the answer's text into msg. */
static unsigned act(ka_control_t *ctl, const char *path, char *msg, size_t size)
{
        char copy[512], *part[8], *save = NULL;
        int n = 0, err;
        long broker = -1, v, p;
        int16_t key;
        ka_err_t res;

        snprintf(copy, sizeof(copy), "%s", path);
        for (char *tok = strtok_r(copy, "/", &save); tok && n < 8;
             tok = strtok_r(NULL, "/", &save))
                part[n++] = tok;
        if (n == 7 && !strcmp(part[0], "brokers") &&
            !strcmp(part[2], "requests") && !strcmp(part[4], "fail")) {
                if (!number(part[1], 1, KA_MOCK_MAX_BROKERS, &broker) ||
                    !api_key(part[3], &key) ||
                    !number(part[5], 1, 100000, &v) ||
                    !error_code(part[6], &err))
                        goto bad;
                res = ka_mock_cluster_fail_requests(ctl->mc, (int32_t)broker,
                                                    key, (size_t)v, err);
        } else if (n == 5 && !strcmp(part[0], "topics") &&
                   !strcmp(part[3], "leader")) {
                if (!number(part[2], 0, 100000, &p) ||
                    !number(part[4], 1, KA_MOCK_MAX_BROKERS, &broker))
                        goto bad;
                res = ka_mock_cluster_set_leader(ctl->mc, part[1], (int32_t)p,
                                                 (int32_t)broker);
        } else if (n >= 3 && !strcmp(part[0], "brokers")) {
                if (strcmp(part[1], "all") &&
                    !number(part[1], 1, KA_MOCK_MAX_BROKERS, &broker))
                        goto bad;
                if (n == 3 && !strcmp(part[2], "down"))
                        res = ka_mock_cluster_set_up(ctl->mc, (int32_t)broker,
                                                     false);
                else if (n == 3 && !strcmp(part[2], "up"))
                        res = ka_mock_cluster_set_up(ctl->mc, (int32_t)broker,
                                                     true);
                else if (n == 4 && !strcmp(part[2], "rtt") &&
                         number(part[3], 0, 600000, &v))
                        res = ka_mock_cluster_set_rtt(ctl->mc, (int32_t)broker,
                                                      (int)v);
                else
                        goto bad;
        } else if (n == 5 && !strcmp(part[0], "requests") &&
                   !strcmp(part[2], "fail")) {
                if (!api_key(part[1], &key) ||
                    !number(part[3], 0, 100000, &v) ||
                    !error_code(part[4], &err))
                        goto bad;
                res = ka_mock_cluster_fail_requests(ctl->mc, -1, key, (size_t)v,
                                                    err);
        } else {
                goto bad;
        }
        if (res == KA_ERR_NOT_FOUND) {
                snprintf(msg, size, "no such broker\n");
                return MHD_HTTP_NOT_FOUND;
        }
        if (res) {
                snprintf(msg, size, "the mock cluster refused it\n");
                return MHD_HTTP_BAD_REQUEST;
        }
        snprintf(msg, size, "ok\n");
        return MHD_HTTP_OK;
bad:
        snprintf(msg, size,
                 "unknown request '%s' (see devstack/control.h: "
                 "/brokers/{id|all}/down|up|rtt/{ms}, "
                 "[/brokers/{id}]/requests/{api}/fail/{n}/{error}, "
                 "/topics/{topic}/{partition}/leader/{id})\n",
                 path);
        return MHD_HTTP_NOT_FOUND;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
        ka_control_t *ctl = cls;
        struct MHD_Response *resp;
        enum MHD_Result ret;
        char msg[512];
        unsigned status;

        (void)version;
        (void)upload_data;
        /* The first call announces the request; a body is ignored. */
        if (!*req_cls) {
                *req_cls = ctl;
                return MHD_YES;
        }
        if (*upload_data_size) {
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (strcmp(method, "POST")) {
                snprintf(msg, sizeof(msg), "POST only\n");
                status = MHD_HTTP_METHOD_NOT_ALLOWED;
        } else {
                status = act(ctl, url, msg, sizeof(msg));
        }
        resp = MHD_create_response_from_buffer(strlen(msg), msg,
                                               MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", "text/plain");
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

ka_control_t *ka_control_new(ka_mock_cluster_t *mc, uint16_t port, char *errstr,
                             size_t errstr_size)
{
        struct sockaddr_in addr = {.sin_family = AF_INET,
                                   .sin_port = htons(port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        const union MHD_DaemonInfo *info;
        ka_control_t *ctl = calloc(1, sizeof(*ctl));
        int err;

        if (!ctl) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (port && !ka_mock_port_free(port, &err)) {
                snprintf(errstr, errstr_size,
                         err == EADDRINUSE ? "port %u is already in use"
                                           : "cannot bind 127.0.0.1:%u",
                         (unsigned)port);
                free(ctl);
                return NULL;
        }
        ctl->mc = mc;
        ctl->daemon = MHD_start_daemon(
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port, NULL,
                NULL, handle, ctl, MHD_OPTION_SOCK_ADDR, &addr,
                MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
        if (!ctl->daemon) {
                snprintf(errstr, errstr_size,
                         "control endpoint: cannot listen on 127.0.0.1:%u",
                         (unsigned)port);
                free(ctl);
                return NULL;
        }
        info = MHD_get_daemon_info(ctl->daemon, MHD_DAEMON_INFO_BIND_PORT);
        ctl->port = info ? info->port : port;
        return ctl;
}

uint16_t ka_control_port(const ka_control_t *ctl)
{
        return ctl->port;
}

void ka_control_destroy(ka_control_t *ctl)
{
        if (!ctl)
                return;
        MHD_stop_daemon(ctl->daemon);
        free(ctl);
}
