/*
 * Micro-benchmark of the windows hot path (SPEC §14): nanoseconds per
 * ka_windows_add() of a 10-double row, closes included, for a few message
 * patterns. Not run by `make check`. Build and run (CASE: one pattern):
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Iruntime tests/bench/bench_window.c \
 *      runtime/window.c -o /tmp/bench_window && /tmp/bench_window [N [CASE]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "window.h"

#define NFIELDS 10
#define NROWS   1024 /* distinct prepared rows, cycled */

typedef struct sink_s {
        size_t windows;
        size_t messages;
        double checksum;
} sink_t;

static void consume(const ka_window_t *win, void *opaque)
{
        sink_t *sink = opaque;
        size_t n;
        const double *col = ka_window_column(win, NFIELDS - 1, &n);

        sink->windows++;
        sink->messages += ka_window_count(win);
        sink->checksum += col[n - 1];
}

static double now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * n messages; message i has event time base + i * num / den ms, partition
 * i % nparts, key i % nkeys (no key when nkeys is 0). close() runs every
 * 1024 messages, as a worker would after each consumed batch.
 */
static void run(const char *name, long n, long num, long den, size_t nparts,
                int nkeys)
{
        static double rows[NROWS][NFIELDS];
        static ka_row_t row_of[NROWS];
        static const char keys[16][8] = {
                "k00", "k01", "k02", "k03", "k04", "k05", "k06", "k07",
                "k08", "k09", "k10", "k11", "k12", "k13", "k14", "k15"};
        const int64_t base = INT64_C(1700000000000);
        ka_window_config_t cfg = {.size_ms = 1000,
                                  .expiration_ms = 0,
                                  .idle_timeout_ms = 1000,
                                  .group_by_key = nkeys > 0,
                                  .nfields = NFIELDS};
        ka_windows_t *w = ka_windows_new(&cfg, nparts);
        int64_t offsets[64] = {0};
        sink_t sink = {0};
        ka_windows_stats_t st;
        int64_t t = base;
        double t0, t1;
        long i, tick = 0;
        size_t f, part = 0;
        int k = 0;

        if (w == NULL || nparts > 64) {
                fprintf(stderr, "bench_window: cannot create windows\n");
                exit(1);
        }
        for (i = 0; i < NROWS; i++) {
                for (f = 0; f < NFIELDS; f++)
                        rows[i][f] = (double)(i * NFIELDS + (long)f) * 0.25;
                row_of[i] = (ka_row_t){.vals = rows[i], .nvals = NFIELDS};
        }

        /* Counters instead of divisions: the loop measures the windows,
         * not itself. */
        t0 = now_ns();
        for (i = 0; i < n; i++) {
                const char *key = nkeys > 0 ? keys[k] : NULL;

                ka_windows_add(w, part, offsets[part]++, t, key,
                               key != NULL ? 3 : 0, &row_of[i & (NROWS - 1)]);
                if (++part == nparts)
                        part = 0;
                if (nkeys > 0 && ++k == nkeys)
                        k = 0;
                if (++tick == den) {
                        tick = 0;
                        t += num;
                }
                if ((i & 1023) == 1023)
                        ka_windows_close(w, 0, consume, &sink);
        }
        for (f = 0; f < nparts; f++)
                ka_windows_partition_idle(w, f, true, 0);
        ka_windows_close(w, 1000, consume, &sink);
        t1 = now_ns();

        ka_windows_stats(w, &st);
        printf("%-34s %7.2f ns/add  %6.1f M adds/s  (%zu windows, "
               "%zu msgs, %llu allocs, checksum %g)\n",
               name, (t1 - t0) / (double)n, (double)n / (t1 - t0) * 1e3,
               sink.windows, sink.messages, (unsigned long long)st.allocs,
               sink.checksum);
        ka_windows_destroy(w);
}

int main(int argc, char **argv)
{
        long n = argc > 1 ? atol(argv[1]) : 50000000L;
        int only = argc > 2 ? atoi(argv[2]) : 0;

        if (n < 1024 || only < 0 || only > 4) {
                fprintf(stderr, "usage: bench_window [N >= 1024 [CASE 1-4]]\n");
                return 2;
        }
        printf("ka_windows_add, %d doubles per row, 1 s windows, %ld "
               "messages\n",
               NFIELDS, n);
        if (only == 0 || only == 1)
                run("1 partition, 20000 msgs/window", n, 1, 20, 1, 0);
        if (only == 0 || only == 2)
                run("1 partition, 50 msgs/window", n, 20, 1, 1, 0);
        if (only == 0 || only == 3)
                run("4 partitions, 20000 msgs/window", n, 1, 20, 4, 0);
        if (only == 0 || only == 4)
                run("group_by_key, 16 keys", n, 1, 20, 1, 16);
        return 0;
}
