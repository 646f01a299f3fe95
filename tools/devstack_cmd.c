/*
 * `kafkaaggregator dev-stack` (SPEC §13): the mock cluster
 * (devstack/mock_cluster.h) and the in-memory Schema Registry
 * (devstack/registry_server.h) on 127.0.0.1, until SIGINT or SIGTERM.
 */
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "control.h"
#include "ka.h"
#include "log.h"
#include "mock_cluster.h"
#include "registry_server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "dev-stack"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
        stop_signal = sig;
}

/* --topic options, at most. */
#define MAX_TOPICS 64

typedef struct opts_s {
        long brokers, kafka_port, registry_port, partitions;
        long control_port; /* -1: no control endpoint */
        const char *config_file;
        const char *env_file;
        /* --topic NAME[:PARTITIONS]: names as typed (argv), cut */
        char topics[MAX_TOPICS][256];
        long topic_partitions[MAX_TOPICS];
        size_t ntopics;
} opts_t;

static void usage(void)
{
        printf("usage: kafkaaggregator dev-stack [--brokers N] "
               "[--kafka-port P] [--registry-port P]\n"
               "                                 [--config-file F] "
               "[--partitions P] [--env-file F]\n"
               "                                 [--topic NAME[:PARTITIONS]]..."
               "\n\n"
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
               "                     on first use with 4; with a config, "
               "the workers' lease\n"
               "                     topic $KAFKA_GROUP_ID.agents "
               "(kafkaaggregator.agents) is\n"
               "                     created too, one partition per "
               "aggregated topic\n"
               "  --topic N[:P]      create topic N with P partitions "
               "(--partitions); repeatable\n"
               "  --control-port P   serve the fault controls of "
               "devstack/control.h (brokers\n"
               "                     down and up, failing requests) on P "
               "(0 = any free port)\n"
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
                {"topic", required_argument, NULL, 't'},
                {"control-port", required_argument, NULL, 'C'},
                {"env-file", required_argument, NULL, 'e'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        int c;

        *o = (opts_t){.brokers = 1,
                      .kafka_port = 9092,
                      .registry_port = 8081,
                      .control_port = -1,
                      .partitions = 4};
        while ((c = ka_cli_getopt(argc, argv, ":h", longopts)) != -1) {
                switch (c) {
                case 'h':
                        usage();
                        return KA_EXIT_OK;
                case 'b':
                        if (!ka_cli_parse_long(CMD, "--brokers", optarg, 1,
                                               KA_MOCK_MAX_BROKERS,
                                               &o->brokers))
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
                case 'C':
                        if (!ka_cli_parse_long(CMD, "--control-port", optarg, 0,
                                               65535, &o->control_port))
                                return KA_EXIT_USAGE;
                        break;
                case 't': {
                        const char *colon = strrchr(optarg, ':');
                        char *name;
                        long n = 0;

                        if (o->ntopics == MAX_TOPICS)
                                return ka_cli_usage_error(
                                        CMD, "--topic: at most %d", MAX_TOPICS);
                        name = o->topics[o->ntopics];
                        if (colon &&
                            !ka_cli_parse_long(CMD, "--topic", colon + 1, 1,
                                               10000, &n))
                                return KA_EXIT_USAGE;
                        snprintf(name, sizeof(o->topics[0]), "%.*s",
                                 colon ? (int)(colon - optarg) : 255, optarg);
                        if (!ka_config_valid_topic(name))
                                return ka_cli_usage_error(
                                        CMD,
                                        "--topic: '%s' is not a Kafka "
                                        "topic name",
                                        optarg);
                        o->topic_partitions[o->ntopics++] = n;
                        break;
                }
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

/* Creates topic name once (a source shared by two aggregated topics is
 * named twice); 0 or an exit status. */
static int create_topic(ka_mock_cluster_t *mc, const char *name,
                        long partitions, size_t *n)
{
        char errstr[512];
        ka_err_t err = ka_mock_cluster_create_topic(mc, name, (int)partitions,
                                                    errstr, sizeof(errstr));

        if (err == KA_ERR_CONFLICT)
                return 0;
        if (err)
                return ka_cli_fail(CMD, "%s", errstr);
        (*n)++;
        return 0;
}

/*
 * Creates every topic of cfg, and the lease topic of the workers of
 * KAFKA_GROUP_ID with one partition per aggregated topic (it must exist
 * before the first worker asks for it: the mock would create it with 4),
 * then the --topic ones; 0 or an exit status.
 *
 * A topic pattern's topics are only known once their schemas are
 * registered, after the dev stack starts: its entries are skipped, with a
 * note, and the mock creates those topics when a producer first writes to
 * them. Its agents count for KA_MOCK_DEFAULT_PARTITIONS leases (any count
 * works: agents share leases); `--topic GROUP.agents:N` sets another.
 */
static int create_topics(ka_mock_cluster_t *mc, const ka_config_t *cfg,
                         const opts_t *o, size_t *n)
{
        char lease[300];
        int rc;

        *n = 0;
        for (size_t i = 0; i < o->ntopics; i++)
                if ((rc = create_topic(mc, o->topics[i],
                                       o->topic_partitions[i]
                                               ? o->topic_partitions[i]
                                               : o->partitions,
                                       n)))
                        return rc;
        if (!cfg)
                return 0;
        snprintf(lease, sizeof(lease), "%s.agents",
                 ka_env("KAFKA_GROUP_ID", "kafkaaggregator"));
        if (cfg->ntopics &&
            (rc = create_topic(
                     mc, lease,
                     (long)(cfg->ntopics - cfg->npatterns +
                            cfg->npatterns * KA_MOCK_DEFAULT_PARTITIONS),
                     n)))
                return rc;
        for (size_t t = 0; t < cfg->ntopics; t++) {
                if (cfg->topics[t].pattern) {
                        printf("dev-stack: %s:%d:%d: a topic pattern: its "
                               "topics are created when first produced to "
                               "(%d partitions)\n",
                               cfg->path, cfg->topics[t].sources[0].pos.line,
                               cfg->topics[t].sources[0].pos.col,
                               KA_MOCK_DEFAULT_PARTITIONS);
                        continue;
                }
                for (size_t s = 0; s <= cfg->topics[t].nsources; s++) {
                        const char *name =
                                s < cfg->topics[t].nsources
                                        ? cfg->topics[t].sources[s].name
                                        : cfg->topics[t].name;

                        if ((rc = create_topic(mc, name, o->partitions, n)))
                                return rc;
                }
        }
        return 0;
}

/* Writes the env file through a temporary file and rename(), so that a
 * reader never sees half of it. */
static int write_env_file(const char *path, const char *brokers,
                          uint16_t registry_port, const ka_control_t *ctl)
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
        if (ctl)
                fprintf(f, "KA_DEVSTACK_CONTROL_URL=http://127.0.0.1:%u\n",
                        ka_control_port(ctl));
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

int ka_devstack_main(int argc, char **argv)
{
        ka_registry_server_t *srv = NULL;
        ka_mock_cluster_t *mc = NULL;
        ka_control_t *ctl = NULL;
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
        /* Every port is checked before anything starts. */
        for (long i = 0; i <= o.brokers; i++) {
                uint16_t port = (uint16_t)(i == o.brokers ? o.registry_port
                                           : o.kafka_port ? o.kafka_port + i
                                                          : 0);

                if (port && !ka_mock_port_free(port, &err)) {
                        ka_config_destroy(cfg);
                        if (err == EADDRINUSE)
                                return ka_cli_fail(
                                        CMD, "port %u is already in use", port);
                        return ka_cli_fail(CMD, "cannot bind 127.0.0.1:%u: %s",
                                           port, strerror(err));
                }
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
        mc = ka_mock_cluster_new((int)o.brokers, (uint16_t)o.kafka_port, errstr,
                                 sizeof(errstr));
        if (!mc) {
                ka_cli_fail(CMD, "%s", errstr);
                goto out;
        }
        if ((status = create_topics(mc, cfg, &o, &ntopics)))
                goto out;
        status = KA_EXIT_FAIL;
        if (o.control_port >= 0 &&
            !(ctl = ka_control_new(mc, (uint16_t)o.control_port, errstr,
                                   sizeof(errstr)))) {
                ka_cli_fail(CMD, "%s", errstr);
                goto out;
        }

        printf("dev-stack: Kafka at %s (%ld broker%s)\n",
               ka_mock_cluster_bootstraps(mc), o.brokers,
               o.brokers == 1 ? "" : "s");
        printf("dev-stack: Schema Registry at http://127.0.0.1:%u\n",
               ka_registry_server_port(srv));
        if (ntopics)
                printf("dev-stack: created %zu topics%s%s\n", ntopics,
                       cfg ? " from " : "", cfg ? o.config_file : "");
        if (ctl)
                printf("dev-stack: fault controls at http://127.0.0.1:%u\n",
                       ka_control_port(ctl));
        fflush(stdout);
        if (o.env_file) {
                if (write_env_file(o.env_file, ka_mock_cluster_bootstraps(mc),
                                   ka_registry_server_port(srv), ctl))
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
        ka_control_destroy(ctl);
        ka_registry_server_destroy(srv);
        ka_mock_cluster_destroy(mc);
        ka_config_destroy(cfg);
        /* Unblocked while our handler is still in place, so that a signal
         * that came during start-up does not kill us now. */
        pthread_sigmask(SIG_UNBLOCK, &block, NULL);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        return status;
}
