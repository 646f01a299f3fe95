/*
 * librdkafka's mock cluster on ports of our choosing: the brokers get the
 * ports asked for through an interposed bind() (see mock_cluster.h).
 */
#include "mock_cluster.h"
#include "kafka.h"
#include "log.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ka_mock_cluster_s {
        rd_kafka_t *rk; /* hosts the cluster; never connects */
        rd_kafka_mock_cluster_t *mcluster;
        int nbrokers;
};

/*
 * bind() interposition. In librdkafka 2.0.2 rd_kafka_mock_cluster_new()
 * creates every broker's listener in the calling thread (broker_new ->
 * new_listener: socket, SO_REUSEADDR, bind to 127.0.0.1:0, getsockname)
 * before it starts the cluster thread. A failed bind makes it call
 * rd_kafka_mock_cluster_destroy() on the half-built cluster, whose
 * rd_assert(cluster_cnt > 0) aborts the process. So the override is armed
 * for the calling thread only, rewrites port 0 of a loopback bind to the
 * next port wanted, and when that port turns out to be taken (it was free
 * when checked a moment before) binds port 0 after all and records the
 * failure, for the caller to destroy the complete cluster cleanly.
 */
static _Thread_local const uint16_t *wanted_ports;
static _Thread_local size_t nwanted, next_wanted;
static _Thread_local uint16_t failed_port;
static _Thread_local int failed_errno;

typedef int (*bind_fn_t)(int, const struct sockaddr *, socklen_t);
static bind_fn_t libc_bind;
static pthread_once_t libc_bind_once = PTHREAD_ONCE_INIT;

static void resolve_libc_bind(void)
{
        void *sym = dlsym(RTLD_NEXT, "bind");

        /* POSIX allows converting dlsym()'s result to a function
         * pointer; memcpy says so without a cast warning. */
        memcpy(&libc_bind, &sym, sizeof(libc_bind));
}

static int real_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
        pthread_once(&libc_bind_once, resolve_libc_bind);
        if (!libc_bind) {
                errno = ENOSYS;
                return -1;
        }
        return libc_bind(fd, sa, len);
}

/* glibc declares the address as a transparent union under _GNU_SOURCE
 * (__CONST_SOCKADDR_ARG); either way it holds one pointer. */
int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
        const struct sockaddr *sa;
        struct sockaddr_in sin;
        uint16_t port;

        memcpy(&sa, &addr, sizeof(sa));
        if (next_wanted >= nwanted || !sa || sa->sa_family != AF_INET ||
            len < (socklen_t)sizeof(sin))
                return real_bind(fd, sa, len);
        memcpy(&sin, sa, sizeof(sin));
        if (sin.sin_port != 0 || sin.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
                return real_bind(fd, sa, len);
        port = wanted_ports[next_wanted++];
        sin.sin_port = htons(port);
        if (real_bind(fd, (const struct sockaddr *)&sin, sizeof(sin)) == 0)
                return 0;
        if (!failed_port) {
                failed_port = port;
                failed_errno = errno;
        }
        return real_bind(fd, sa, len);
}

static void arm_ports(const uint16_t *ports, size_t n)
{
        wanted_ports = ports;
        nwanted = n;
        next_wanted = 0;
        failed_port = 0;
        failed_errno = 0;
}

static void disarm_ports(void)
{
        wanted_ports = NULL;
        nwanted = next_wanted = 0;
}

bool ka_mock_port_free(uint16_t port, int *err)
{
        struct sockaddr_in sin = {.sin_family = AF_INET,
                                  .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd, on = 1;
        bool ok;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                *err = errno;
                return false;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        ok = real_bind(fd, (const struct sockaddr *)&sin, sizeof(sin)) == 0;
        *err = ok ? 0 : errno;
        close(fd);
        return ok;
}

static void port_error(uint16_t port, int err, char *errstr, size_t errstr_size)
{
        if (err == EADDRINUSE)
                snprintf(errstr, errstr_size, "port %u is already in use",
                         port);
        else
                snprintf(errstr, errstr_size, "cannot bind 127.0.0.1:%u: %s",
                         port, strerror(err));
}

ka_mock_cluster_t *ka_mock_cluster_new(int nbrokers, uint16_t first_port,
                                       char *errstr, size_t errstr_size)
{
        uint16_t ports[KA_MOCK_MAX_BROKERS];
        rd_kafka_conf_t *conf;
        ka_mock_cluster_t *mc;
        uint16_t failed;
        int err;

        if (nbrokers < 1 || nbrokers > KA_MOCK_MAX_BROKERS ||
            (first_port && first_port + nbrokers - 1 > 65535)) {
                snprintf(errstr, errstr_size, "bad broker count or port");
                return NULL;
        }
        for (int i = 0; first_port && i < nbrokers; i++) {
                ports[i] = (uint16_t)(first_port + i);
                /* The mock aborts on a port in use: find out before. */
                if (!ka_mock_port_free(ports[i], &err)) {
                        port_error(ports[i], err, errstr, errstr_size);
                        return NULL;
                }
        }
        if (!(mc = calloc(1, sizeof(*mc)))) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        mc->nbrokers = nbrokers;
        conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, ka_kafka_log);
        /* The handle only hosts the cluster: it never connects, so its
         * "no bootstrap.servers" notice is noise. */
        if (rd_kafka_conf_set(conf, "log_level",
                              ka_log_enabled(KA_LOG_DEBUG) ? "7" : "4", errstr,
                              errstr_size) != RD_KAFKA_CONF_OK ||
            !(mc->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
                                    errstr_size))) {
                rd_kafka_conf_destroy(conf);
                free(mc);
                return NULL;
        }
        if (first_port)
                arm_ports(ports, (size_t)nbrokers);
        mc->mcluster = rd_kafka_mock_cluster_new(mc->rk, nbrokers);
        failed = failed_port;
        err = failed_errno;
        disarm_ports();
        if (!mc->mcluster || failed) {
                if (failed)
                        port_error(failed, err, errstr, errstr_size);
                else
                        snprintf(errstr, errstr_size,
                                 "cannot start the mock cluster");
                ka_mock_cluster_destroy(mc);
                return NULL;
        }
        return mc;
}

const char *ka_mock_cluster_bootstraps(const ka_mock_cluster_t *mc)
{
        return rd_kafka_mock_cluster_bootstraps(mc->mcluster);
}

ka_err_t ka_mock_cluster_create_topic(ka_mock_cluster_t *mc, const char *name,
                                      int partitions, char *errstr,
                                      size_t errstr_size)
{
        int replication = mc->nbrokers < 3 ? mc->nbrokers : 3;
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
                mc->mcluster, name, partitions, replication);

        if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                return KA_ERR_CONFLICT;
        if (err) {
                snprintf(errstr, errstr_size, "cannot create topic '%s': %s",
                         name, rd_kafka_err2str(err));
                return KA_ERR_INVALID;
        }
        return KA_OK;
}

/* The broker ids of broker (-1: all) into ids; their count, 0 when
 * broker is out of range. */
static int32_t brokers_of(const ka_mock_cluster_t *mc, int32_t broker,
                          int32_t *ids)
{
        int32_t n = 0;

        for (int32_t id = 1; id <= mc->nbrokers; id++)
                if (broker == -1 || broker == id)
                        ids[n++] = id;
        return n;
}

ka_err_t ka_mock_cluster_set_up(ka_mock_cluster_t *mc, int32_t broker, bool up)
{
        int32_t ids[KA_MOCK_MAX_BROKERS], n = brokers_of(mc, broker, ids);

        for (int32_t i = 0; i < n; i++)
                if ((up ? rd_kafka_mock_broker_set_up
                        : rd_kafka_mock_broker_set_down)(mc->mcluster, ids[i]))
                        return KA_ERR_INVALID;
        if (n && broker == -1)
                ka_info("dev-stack: every broker %s", up ? "up" : "down");
        else if (n)
                ka_info("dev-stack: broker %d %s", (int)broker,
                        up ? "up" : "down");
        return n ? KA_OK : KA_ERR_NOT_FOUND;
}

ka_err_t ka_mock_cluster_set_rtt(ka_mock_cluster_t *mc, int32_t broker,
                                 int rtt_ms)
{
        int32_t ids[KA_MOCK_MAX_BROKERS], n = brokers_of(mc, broker, ids);

        for (int32_t i = 0; i < n; i++)
                if (rd_kafka_mock_broker_set_rtt(mc->mcluster, ids[i], rtt_ms))
                        return KA_ERR_INVALID;
        return n ? KA_OK : KA_ERR_NOT_FOUND;
}

ka_err_t ka_mock_cluster_fail_requests(ka_mock_cluster_t *mc, int32_t broker,
                                       int16_t api_key, size_t count, int err)
{
        rd_kafka_resp_err_t *errs;

        if (broker != -1) {
                if (broker < 1 || broker > mc->nbrokers || count > 100000)
                        return KA_ERR_NOT_FOUND;
                for (size_t i = 0; i < count; i++)
                        if (rd_kafka_mock_broker_push_request_error_rtts(
                                    mc->mcluster, broker, api_key, 1,
                                    (rd_kafka_resp_err_t)err, 0))
                                return KA_ERR_INVALID;
                ka_info("dev-stack: the next %zu requests of API %d to "
                        "broker %d fail with %s",
                        count, (int)api_key, (int)broker,
                        rd_kafka_err2name((rd_kafka_resp_err_t)err));
                return KA_OK;
        }
        if (!count) {
                rd_kafka_mock_clear_request_errors(mc->mcluster, api_key);
                return KA_OK;
        }
        if (count > 100000 || !(errs = malloc(count * sizeof(*errs))))
                return KA_ERR_INVALID;
        for (size_t i = 0; i < count; i++)
                errs[i] = (rd_kafka_resp_err_t)err;
        rd_kafka_mock_push_request_errors_array(mc->mcluster, api_key, count,
                                                errs);
        free(errs);
        ka_info("dev-stack: the next %zu requests of API %d fail with %s",
                count, (int)api_key,
                rd_kafka_err2name((rd_kafka_resp_err_t)err));
        return KA_OK;
}

ka_err_t ka_mock_cluster_set_leader(ka_mock_cluster_t *mc, const char *topic,
                                    int32_t partition, int32_t broker)
{
        if (broker < 1 || broker > mc->nbrokers)
                return KA_ERR_NOT_FOUND;
        if (rd_kafka_mock_partition_set_leader(mc->mcluster, topic, partition,
                                               broker))
                return KA_ERR_INVALID;
        ka_info("dev-stack: %s [%d] led by broker %d", topic, (int)partition,
                (int)broker);
        return KA_OK;
}

void ka_mock_cluster_destroy(ka_mock_cluster_t *mc)
{
        if (!mc)
                return;
        if (mc->mcluster)
                rd_kafka_mock_cluster_destroy(mc->mcluster);
        if (mc->rk)
                rd_kafka_destroy(mc->rk);
        free(mc);
}
