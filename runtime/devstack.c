/*
 * `kafkaaggregator dev-stack`: librdkafka's mock cluster plus the
 * in-memory Schema Registry, on 127.0.0.1, until SIGINT or SIGTERM. The
 * brokers get the ports asked for through an interposed bind() (see
 * devstack.h).
 */
#include "devstack.h"

#include "cli.h"
#include "config.h"
#include "ka.h"
#include "log.h"
#include "registry_server.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CMD         "dev-stack"
#define MAX_BROKERS 32

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

/* Whether 127.0.0.1:port can be bound now (as the mock would bind it). */
static bool port_free(uint16_t port, int *err)
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

static int port_error(uint16_t port, int err)
{
        if (err == EADDRINUSE)
                return ka_cli_fail(CMD, "port %u is already in use", port);
        return ka_cli_fail(CMD, "cannot bind 127.0.0.1:%u: %s", port,
                           strerror(err));
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
        stop_signal = sig;
}

static void on_rdkafka_log(const rd_kafka_t *rk, int level, const char *fac,
                           const char *buf)
{
        ka_log_level_t lvl = level <= 2   ? KA_LOG_CRIT
                             : level == 3 ? KA_LOG_ERROR
                             : level == 4 ? KA_LOG_WARN
                             : level <= 6 ? KA_LOG_INFO
                                          : KA_LOG_DEBUG;

        (void)rk;
        ka_log(lvl, "kafka: %s: %s", fac, buf);
}

typedef struct opts_s {
        long brokers, kafka_port, registry_port, partitions;
        const char *config_file;
        const char *env_file;
} opts_t;

static void usage(void)
{
        printf("usage: kafkaaggregator dev-stack [--brokers N] "
               "[--kafka-port P] [--registry-port P]\n"
               "                                 [--config-file F] "
               "[--partitions P] [--env-file F]\n\n"
               "Runs librdkafka's mock Kafka cluster and a Confluent-"
               "compatible Schema Registry\n"
               "on 127.0.0.1 until SIGINT or SIGTERM. For development and "
               "tests only.\n\n"
               "options:\n"
               "  --brokers N        mock brokers (1)\n"
               "  --kafka-port P     port of the first broker, the next "
               "ones follow (9092;\n"
               "                     0 = any free ports)\n"
               "  --registry-port P  Schema Registry port (8081; 0 = any "
               "free port)\n"
               "  --config-file F    create every source and aggregated "
               "topic of this config\n"
               "  --partitions P     partitions of those topics (4); other "
               "topics are created\n"
               "                     on first use with 4\n"
               "  --env-file F       once ready, write KAFKA_BROKER_URL and "
               "SCHEMA_REGISTRY_URL\n"
               "                     lines to F (removed again at exit)\n"
               "  --help             this text\n");
}

/* Returns -1 to go on, or an exit status. */
static int parse_opts(int argc, char **argv, opts_t *o)
{
        static const struct option longopts[] = {
                {"brokers", required_argument, NULL, 'b'},
                {"kafka-port", required_argument, NULL, 'k'},
                {"registry-port", required_argument, NULL, 'r'},
                {"config-file", required_argument, NULL, 'c'},
                {"partitions", required_argument, NULL, 'p'},
                {"env-file", required_argument, NULL, 'e'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        int c;

        *o = (opts_t){.brokers = 1,
                      .kafka_port = 9092,
                      .registry_port = 8081,
                      .partitions = 4};
        while ((c = ka_cli_getopt(argc, argv, ":h", longopts)) != -1) {
                switch (c) {
                case 'h':
                        usage();
                        return KA_EXIT_OK;
                case 'b':
                        if (!ka_cli_parse_long(CMD, "--brokers", optarg, 1,
                                               MAX_BROKERS, &o->brokers))
                                return KA_EXIT_USAGE;
                        break;
                case 'k':
                        if (!ka_cli_parse_long(CMD, "--kafka-port", optarg, 0,
                                               65535, &o->kafka_port))
                                return KA_EXIT_USAGE;
                        break;
                case 'r':
                        if (!ka_cli_parse_long(CMD, "--registry-port", optarg,
                                               0, 65535, &o->registry_port))
                                return KA_EXIT_USAGE;
                        break;
                case 'p':
                        if (!ka_cli_parse_long(CMD, "--partitions", optarg, 1,
                                               10000, &o->partitions))
                                return KA_EXIT_USAGE;
                        break;
                case 'c':
                        o->config_file = optarg;
                        break;
                case 'e':
                        if (!*optarg)
                                return ka_cli_usage_error(
                                        CMD, "--env-file: empty file name");
                        o->env_file = optarg;
                        break;
                default:
                        return KA_EXIT_USAGE;
                }
        }
        if (o->kafka_port && o->kafka_port + o->brokers - 1 > 65535)
                return ka_cli_usage_error(CMD,
                                          "--kafka-port %ld: %ld brokers "
                                          "need ports up to %ld",
                                          o->kafka_port, o->brokers,
                                          o->kafka_port + o->brokers - 1);
        if (o->kafka_port && o->registry_port >= o->kafka_port &&
            o->registry_port < o->kafka_port + o->brokers)
                return ka_cli_usage_error(CMD,
                                          "--registry-port %ld is one of the "
                                          "Kafka ports",
                                          o->registry_port);
        return -1;
}

/* Creates every topic of cfg once; 0 or an exit status. */
static int create_topics(rd_kafka_mock_cluster_t *mcluster,
                         const ka_config_t *cfg, const opts_t *o, size_t *n)
{
        int replication = o->brokers < 3 ? (int)o->brokers : 3;
        rd_kafka_resp_err_t err;
        const char *name;

        *n = 0;
        for (size_t t = 0; t < cfg->ntopics; t++) {
                for (size_t s = 0; s <= cfg->topics[t].nsources; s++) {
                        name = s < cfg->topics[t].nsources
                                       ? cfg->topics[t].sources[s].name
                                       : cfg->topics[t].name;
                        err = rd_kafka_mock_topic_create(mcluster, name,
                                                         (int)o->partitions,
                                                         replication);
                        /* A source shared by two aggregated topics. */
                        if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                                continue;
                        if (err)
                                return ka_cli_fail(
                                        CMD, "cannot create topic '%s': %s",
                                        name, rd_kafka_err2str(err));
                        (*n)++;
                }
        }
        return 0;
}

/* Writes the env file through a temporary file and rename(), so that a
 * reader never sees half of it. */
static int write_env_file(const char *path, const char *brokers,
                          uint16_t registry_port)
{
        char tmp[4096];
        FILE *f;
        int n;

        n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
        if (n < 0 || (size_t)n >= sizeof(tmp))
                return ka_cli_fail(CMD, "--env-file: '%s': name too long",
                                   path);
        f = fopen(tmp, "w");
        if (!f)
                return ka_cli_fail(CMD, "cannot write '%s': %s", tmp,
                                   strerror(errno));
        fprintf(f,
                "KAFKA_BROKER_URL=%s\nSCHEMA_REGISTRY_URL=http://"
                "127.0.0.1:%u\n",
                brokers, registry_port);
        if (fclose(f) != 0 || rename(tmp, path) != 0) {
                n = errno;
                unlink(tmp);
                return ka_cli_fail(CMD, "cannot write '%s': %s", path,
                                   strerror(n));
        }
        return 0;
}

/* Blocks until SIGINT or SIGTERM; the handler only sets stop_signal. */
static void wait_for_signal(const sigset_t *waitmask)
{
        while (!stop_signal)
                sigsuspend(waitmask);
}

/* Starts the mock cluster on the ports of o; NULL after printing why. */
static rd_kafka_mock_cluster_t *start_kafka(const opts_t *o, rd_kafka_t **rkp,
                                            int *status)
{
        uint16_t ports[MAX_BROKERS];
        rd_kafka_mock_cluster_t *mcluster;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512];
        rd_kafka_t *rk;
        uint16_t failed;
        int err;

        *status = KA_EXIT_FAIL;
        rd_kafka_conf_set_log_cb(conf, on_rdkafka_log);
        /* The handle only hosts the cluster: it never connects, so its
         * "no bootstrap.servers" notice is noise. */
        if (rd_kafka_conf_set(conf, "log_level",
                              ka_log_enabled(KA_LOG_DEBUG) ? "7" : "4", errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                ka_cli_fail(CMD, "%s", errstr);
                return NULL;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                ka_cli_fail(CMD, "cannot create the Kafka handle: %s", errstr);
                return NULL;
        }
        for (long i = 0; i < o->brokers; i++)
                ports[i] = (uint16_t)(o->kafka_port + i);
        if (o->kafka_port)
                arm_ports(ports, (size_t)o->brokers);
        mcluster = rd_kafka_mock_cluster_new(rk, (int)o->brokers);
        failed = failed_port;
        err = failed_errno;
        disarm_ports();
        if (!mcluster || failed) {
                if (mcluster)
                        rd_kafka_mock_cluster_destroy(mcluster);
                rd_kafka_destroy(rk);
                if (failed)
                        port_error(failed, err);
                else
                        ka_cli_fail(CMD, "cannot start the mock cluster");
                return NULL;
        }
        *rkp = rk;
        return mcluster;
}

int ka_devstack_main(int argc, char **argv)
{
        ka_registry_server_t *srv = NULL;
        rd_kafka_mock_cluster_t *mcluster = NULL;
        rd_kafka_t *rk = NULL;
        ka_config_t *cfg = NULL;
        struct sigaction sa = {0}, old_int, old_term;
        sigset_t block, waitmask;
        char errstr[1024];
        size_t ntopics = 0;
        int status, err;
        bool env_written = false;
        opts_t o;

        status = parse_opts(argc, argv, &o);
        if (status >= 0)
                return status;
        if (o.config_file) {
                cfg = ka_config_load(o.config_file, errstr, sizeof(errstr));
                if (!cfg) {
                        fprintf(stderr, "%s\n", errstr);
                        return KA_EXIT_USAGE;
                }
        }
        /* The mock crashes on a port in use: find out before. */
        for (long i = 0; o.kafka_port && i < o.brokers; i++) {
                if (!port_free((uint16_t)(o.kafka_port + i), &err)) {
                        ka_config_destroy(cfg);
                        return port_error((uint16_t)(o.kafka_port + i), err);
                }
        }
        if (o.registry_port && !port_free((uint16_t)o.registry_port, &err)) {
                ka_config_destroy(cfg);
                return port_error((uint16_t)o.registry_port, err);
        }
        if (o.env_file)
                unlink(o.env_file); /* a stale one must not look ready */

        /* Handlers first, then block: a signal during start-up waits for
         * sigsuspend, and every thread started below inherits the mask,
         * so the signal is taken by this thread. */
        stop_signal = 0;
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &block, &waitmask);
        sigdelset(&waitmask, SIGINT);
        sigdelset(&waitmask, SIGTERM);

        status = KA_EXIT_FAIL;
        srv = ka_registry_server_new((uint16_t)o.registry_port, errstr,
                                     sizeof(errstr));
        if (!srv) {
                ka_cli_fail(CMD, "%s", errstr);
                goto out;
        }
        mcluster = start_kafka(&o, &rk, &status);
        if (!mcluster)
                goto out;
        if (cfg && (status = create_topics(mcluster, cfg, &o, &ntopics)))
                goto out;
        status = KA_EXIT_FAIL;

        printf("dev-stack: Kafka at %s (%ld broker%s)\n",
               rd_kafka_mock_cluster_bootstraps(mcluster), o.brokers,
               o.brokers == 1 ? "" : "s");
        printf("dev-stack: Schema Registry at http://127.0.0.1:%u\n",
               ka_registry_server_port(srv));
        if (cfg)
                printf("dev-stack: created %zu topics with %ld partitions "
                       "from %s\n",
                       ntopics, o.partitions, o.config_file);
        fflush(stdout);
        if (o.env_file) {
                if (write_env_file(o.env_file,
                                   rd_kafka_mock_cluster_bootstraps(mcluster),
                                   ka_registry_server_port(srv)))
                        goto out;
                env_written = true;
        }

        wait_for_signal(&waitmask);
        ka_info("dev-stack: %s received, stopping",
                stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
        status = KA_EXIT_OK;
out:
        if (env_written)
                unlink(o.env_file);
        ka_registry_server_destroy(srv);
        if (mcluster)
                rd_kafka_mock_cluster_destroy(mcluster);
        if (rk)
                rd_kafka_destroy(rk);
        ka_config_destroy(cfg);
        /* Unblocked while our handler is still in place, so that a signal
         * that came during start-up does not kill us now. */
        pthread_sigmask(SIG_UNBLOCK, &block, NULL);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return status;
}
