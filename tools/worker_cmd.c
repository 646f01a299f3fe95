/*
 * `kafkaaggregator worker`: options and environment in, ka_worker_run(),
 * an exit status out. SIGINT and SIGTERM stop the worker cleanly.
 */
#include "cli.h"
#include "commands.h"
#include "worker.h"

#include <signal.h>
#include <stdio.h>

#define CMD "worker"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
        (void)sig;
        stop_flag = 1;
}

static void usage(void)
{
        static const ka_cli_item_t options[] = {
                {"--web-port P",
                 "serve /metrics, /health, /ready and /agents on port P, 0 "
                 "for any free one",
                 "6066"},
                {"--web-host ADDR", "the address to serve on", "127.0.0.1"},
                {"--without-web", "serve no HTTP at all", NULL},
                {NULL, NULL, NULL},
        };
        static const ka_cli_item_t *const environment[] = {
                &ka_cli_env_brokers,
                &ka_cli_env_kafka_config,
                &ka_cli_env_group,
                &ka_cli_env_registry,
                &ka_cli_env_internal_registry,
                NULL,
        };
        static const ka_cli_help_t help = {
                .usage = CMD " [--web-port P] [--web-host ADDR] "
                             "[--without-web]",
                .description =
                        "Runs every agent compiled into this binary (see "
                        "'kafkaaggregator agents') until SIGTERM or SIGINT: "
                        "consumes the source topics, aggregates their "
                        "messages in tumbling windows and produces one "
                        "record per closed window to the aggregated topic. "
                        "Workers that share KAFKA_GROUP_ID share the agents.",
                .options = options,
                .environment = environment,
        };

        ka_cli_help_print(stdout, &help);
}

int ka_worker_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"web-port", required_argument, 0, 'p'},
                {"web-host", required_argument, 0, 'H'},
                {"without-web", no_argument, 0, 'n'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        struct sigaction sa = {.sa_handler = on_signal};
        const char *web_host = "127.0.0.1";
        ka_worker_opts_t o = {0};
        long web_port = 6066;
        bool with_web = true;
        char errstr[1024];
        ka_err_t err;
        int c;

        while ((c = ka_cli_getopt(argc, argv, ":h", opts)) != -1) {
                switch (c) {
                case 'p':
                        if (!ka_cli_parse_long(CMD, "--web-port", optarg, 0,
                                               65535, &web_port))
                                return KA_EXIT_USAGE;
                        break;
                case 'H':
                        web_host = optarg;
                        break;
                case 'n':
                        with_web = false;
                        break;
                case 'h':
                        usage();
                        return KA_EXIT_OK;
                default:
                        return KA_EXIT_USAGE;
                }
        }
        o.group_id = ka_env("KAFKA_GROUP_ID", "kafkaaggregator");
        o.registry_url = ka_env("SCHEMA_REGISTRY_URL", "http://localhost:8081");
        o.internal_registry_url =
                ka_env("INTERNAL_SCHEMA_REGISTRY_URL", o.registry_url);
        o.web_host = with_web ? web_host : NULL;
        o.web_port = (uint16_t)web_port;
        o.stop = &stop_flag;

        stop_flag = 0;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        err = ka_worker_run(&o, errstr, sizeof(errstr));
        if (err == KA_ERR_INVALID)
                return ka_cli_usage_error(CMD, "%s", errstr);
        if (err)
                return ka_cli_fail(CMD, "%s", errstr);
        return KA_EXIT_OK;
}
