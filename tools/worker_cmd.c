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

static const char usage[] =
        "usage: kafkaaggregator worker [--web-port 6066] [--web-host ADDR] "
        "[--without-web]\n\n"
        "Runs every agent compiled into this binary until SIGTERM or "
        "SIGINT.\n"
        "Environment: KAFKA_BROKER_URL, KAFKA_GROUP_ID, KAFKA_CONFIG_FILE,\n"
        "SCHEMA_REGISTRY_URL, INTERNAL_SCHEMA_REGISTRY_URL.\n\n"
        "  --web-port P     serve /metrics, /health and /agents on port P\n"
        "  --web-host ADDR  address to serve on (default 127.0.0.1)\n"
        "  --without-web    no HTTP server\n";

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
                        fputs(usage, stdout);
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
