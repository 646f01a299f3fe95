/*
 * Benchmark tool (not a test): the baseline of the end-to-end benchmark, a
 * plain librdkafka consumer with the worker's consumer settings
 * (ka_kafka_conf(), so KAFKA_BROKER_URL and KAFKA_CONFIG_FILE apply, and
 * the same group protocol: subscribe, then one rd_kafka_consumer_poll()
 * per message) that reads N messages of TOPIC, looks at each payload and
 * does nothing else. It times from the first message to the last, so the
 * group join (seconds on the mock cluster) is left out, as it is for the
 * worker.
 *
 *   bench_consume TOPIC N GROUP [TIMEOUT_S]
 *
 * Prints one line of key=value pairs: messages, bytes, seconds (first to
 * last message), rate (messages/s), cpu_s (CPU time of the process, every
 * thread, from the first message to the last), join_s (start to first
 * message) and hwm_kb (peak RSS, VmHWM). Exits 1 when fewer than N messages came
 * within TIMEOUT_S (default 120).
 */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* User + system CPU seconds of this process, every thread. */
static double cpu_s(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* VmHWM of this process in kB, or -1. */
static long peak_rss_kb(void)
{
        char line[256];
        long kb = -1;
        FILE *f = fopen("/proc/self/status", "r");

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
                        break;
        fclose(f);
        return kb;
}

int main(int argc, char **argv)
{
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_partition_list_t *subs;
        long n, count = 0, timeout_s = 120;
        unsigned long long bytes = 0, check = 0;
        double start, first = 0, last = 0, deadline, cpu0 = 0, cpu1 = 0;

        if (argc != 4 && argc != 5) {
                fprintf(stderr,
                        "usage: bench_consume TOPIC N GROUP [TIMEOUT_S]\n");
                return 2;
        }
        n = atol(argv[2]);
        if (argc == 5)
                timeout_s = atol(argv[4]);
        if (n < 1 || timeout_s < 1) {
                fprintf(stderr, "bench_consume: bad N or TIMEOUT_S\n");
                return 2;
        }
        if (!(conf = ka_kafka_conf(KA_KAFKA_CONSUMER, errstr,
                                   sizeof(errstr))) ||
            ka_kafka_set(conf, "group.id", argv[3], errstr, sizeof(errstr))) {
                fprintf(stderr, "bench_consume: %s\n", errstr);
                if (conf)
                        rd_kafka_conf_destroy(conf);
                return 1;
        }
        if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
                                sizeof(errstr)))) {
                fprintf(stderr, "bench_consume: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);
        subs = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(subs, argv[1], RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(rk, subs)) {
                fprintf(stderr, "bench_consume: cannot subscribe to '%s'\n",
                        argv[1]);
                rd_kafka_topic_partition_list_destroy(subs);
                rd_kafka_destroy(rk);
                return 1;
        }
        rd_kafka_topic_partition_list_destroy(subs);

        start = now_s();
        deadline = start + (double)timeout_s;
        while (count < n && now_s() < deadline) {
                /* 50 ms, as the worker polls. */
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 50);

                if (!rkm)
                        continue;
                if (!rkm->err) {
                        last = now_s();
                        if (!count) {
                                first = last;
                                cpu0 = cpu_s();
                        }
                        count++;
                        bytes += rkm->len;
                        /* Touch the payload, as any real consumer would. */
                        if (rkm->len)
                                check += ((const unsigned char *)
                                                  rkm->payload)[rkm->len - 1];
                }
                rd_kafka_message_destroy(rkm);
        }
        cpu1 = cpu_s();
        printf("messages=%ld bytes=%llu seconds=%.6f rate=%.0f cpu_s=%.3f "
               "join_s=%.3f hwm_kb=%ld check=%llu\n",
               count, bytes, last - first,
               count > 1 && last > first ? (double)(count - 1) / (last - first)
                                         : 0.0,
               cpu1 - cpu0, count ? first - start : -1.0, peak_rss_kb(), check);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        if (count < n) {
                fprintf(stderr,
                        "bench_consume: %ld of %ld messages within %ld s\n",
                        count, n, timeout_s);
                return 1;
        }
        return 0;
}
