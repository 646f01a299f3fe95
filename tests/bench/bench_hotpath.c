/*
 * Benchmark of the worker's hot path in process (SPEC §14: decode + window
 * + statistics of the example record, time plus ten doubles, at least 20 M
 * messages/s on one core). Not a test: it prints a table and exits 0 unless
 * the pipeline failed to do its work.
 *
 * It encodes POOL Confluent Avro messages of the example schema in memory
 * (93 bytes each, packed back to back as in a fetch buffer, so most values
 * are unaligned) and drives, message by message, what the worker does:
 * ka_aggregate_row(), ka_decoder_decode() (NULL registry: the generated
 * decoder of tests/golden/example/expected/aggregated_example_000.c),
 * ka_windows_add(), and every BATCH messages ka_aggregate_close(), which
 * computes the seven statistics of each closed window and encodes the
 * aggregated record. Event times advance by 20 ms or 1 ms a message: 1 s
 * windows of 50 messages (a 50 Hz topic) or 1000 (1 kHz).
 *
 * Baselines measured in the same run, so that ratios mean something on any
 * machine: the memory floor (copying each message's ten doubles into a row
 * store, the least any aggregator must do) and a naive aggregator (the same
 * copy into growable columns, then a qsort per field and window).
 *
 *   bench_hotpath [seconds per trial, default 0.2]
 *
 * Each case is the best of TRIALS trials.
 */
#include "aggregate.h"
#include "avro_wire.h"
#include "decode.h"
#include "window.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The golden example agent, compiled into this program. */
extern const ka_agent_t aggregated_example_000_agent;

#define NVALUES     10
#define MSG_LEN     (KA_AVRO_HEADER_SIZE + 8 * (NVALUES + 1))
#define POOL        (1u << 16) /* distinct messages, cycled: 6 MB */
#define BATCH       1024       /* messages between two closes */
#define TRIALS      5
#define TARGET_RATE 20e6 /* SPEC §14 */
#define BASE_MS     INT64_C(1700000000000)
/* The schema id of the messages: the golden agent, generated from a .avsc
 * file, learns ids at run time; the bench gives its source this one, as
 * generate-agents against a registry does. */
#define SCHEMA_ID 1

static uint8_t *pool;
static const ka_agent_t *agent = &aggregated_example_000_agent;

typedef enum kind_e {
        MEMCPY_FLOOR,
        BARE_DECODE,
        DECODER,
        DECODE_ADD,
        FULL,
        NAIVE,
} kind_t;

typedef struct bench_case_s {
        const char *name;
        kind_t kind;
        int64_t step_ms; /* event time between messages: 1000 / rate */
} bench_case_t;

/* Everything a case leaves behind, checked and folded into a checksum so
 * that no work can be optimised away. */
typedef struct sink_s {
        uint64_t windows;  /* emitted */
        uint64_t messages; /* in emitted windows */
        uint64_t errors;   /* decode or add failures: must stay 0 */
        double check;
} sink_t;

static sink_t sink;

/* Window allocations (ka_windows_stats) during timed trials: the steady
 * state should have none. */
static uint64_t timed_allocs;

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x853c49e6748fea9bULL;

/* Sensor-like readings: 15 + 10 U(0,1) with full-precision mantissas. */
static double reading(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return 15.0 + 10.0 * (double)(rng >> 11) * 0x1p-53;
}

static void fill_pool(void)
{
        for (size_t i = 0; i < POOL; i++) {
                uint8_t *p = pool + i * MSG_LEN;
                ka_avro_writer_t w;

                ka_avro_write_header(p, SCHEMA_ID);
                ka_avro_writer_init(&w, p + KA_AVRO_HEADER_SIZE,
                                    MSG_LEN - KA_AVRO_HEADER_SIZE);
                ka_avro_write_double(&w, 1.7e9 + (double)i * 0.001);
                for (int v = 0; v < NVALUES; v++)
                        ka_avro_write_double(&w, reading());
        }
}

/* ---- the real pipeline -------------------------------------------------- */

static void on_emit(const ka_aggregate_out_t *out, void *opaque)
{
        (void)opaque;
        sink.windows++;
        sink.messages += ka_window_count(out->win);
        /* mean_value0 and the encoded length */
        sink.check += out->values[2] + (double)out->len;
}

static void on_close(const ka_window_t *win, void *opaque)
{
        (void)opaque;
        sink.windows++;
        sink.messages += ka_window_count(win);
}

/* State that lives across the trials of one case: event time and offsets
 * only grow, as on a real partition. */
typedef struct run_s {
        ka_aggregate_t *agg;
        ka_decoder_t *dec;
        uint64_t seq;  /* messages so far */
        double *store; /* MEMCPY_FLOOR: a window's rows */
} run_t;

static void run_pipeline(run_t *r, kind_t kind, int64_t step_ms, size_t n)
{
        ka_windows_t *w = ka_aggregate_windows(r->agg);
        const ka_agent_source_t *src = &agent->sources[0];
        size_t i = (size_t)(r->seq % POOL);

        for (size_t k = 0; k < n; k++) {
                const uint8_t *p = pool + i * MSG_LEN;
                int64_t event_ms = BASE_MS + (int64_t)r->seq * step_ms;
                ka_row_t *row = ka_aggregate_row(r->agg, true);
                int32_t id;
                ka_err_t err;

                switch (kind) {
                case BARE_DECODE:
                        err = src->decode(p + KA_AVRO_HEADER_SIZE,
                                          MSG_LEN - KA_AVRO_HEADER_SIZE, row,
                                          &event_ms);
                        sink.errors += err != KA_OK;
                        break;
                case DECODER:
                        sink.errors += ka_decoder_decode(r->dec, p, MSG_LEN,
                                                         row, &event_ms,
                                                         &id) != KA_DECODE_OK;
                        break;
                default:
                        if (ka_decoder_decode(r->dec, p, MSG_LEN, row,
                                              &event_ms, &id) != KA_DECODE_OK ||
                            ka_windows_add(w, 0, (int64_t)r->seq, event_ms,
                                           NULL, 0, row) != KA_WINDOW_ADDED)
                                sink.errors++;
                        break;
                }
                r->seq++;
                if (++i == POOL)
                        i = 0;
                if ((r->seq & (BATCH - 1)) != 0)
                        continue;
                if (kind == FULL)
                        ka_aggregate_close(r->agg, 0, on_emit, NULL);
                else if (kind == DECODE_ADD)
                        ka_windows_close(w, 0, on_close, NULL);
        }
        if (kind == BARE_DECODE || kind == DECODER)
                sink.check += ka_aggregate_row(r->agg, false)->vals[0];
}

/* The memory floor: the ten doubles of each message into a row store of
 * one window, nothing validated, nothing computed. */
static void run_memcpy(run_t *r, int64_t step_ms, size_t n)
{
        size_t per_window = (size_t)(1000 / step_ms), j = 0;
        size_t i = (size_t)(r->seq % POOL);

        for (size_t k = 0; k < n; k++) {
                memcpy(r->store + j * NVALUES,
                       pool + i * MSG_LEN + KA_AVRO_HEADER_SIZE + 8,
                       8 * NVALUES);
                if (++j == per_window) {
                        sink.check += r->store[(k % per_window) * NVALUES];
                        j = 0;
                }
                if (++i == POOL)
                        i = 0;
        }
        r->seq += n;
}

/* ---- the naive aggregator ----------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* min q1 mean median stdev q3 max of v[0..n), the textbook way: sort,
 * read ranks, sum in order. */
static void naive_stats(double *v, size_t n, double *out)
{
        double sum = 0, ss = 0, mean, pos, lo;
        size_t m = n + 1;

        qsort(v, n, sizeof(double), cmp_double);
        for (size_t i = 0; i < n; i++)
                sum += v[i];
        mean = sum / (double)n;
        for (size_t i = 0; i < n; i++)
                ss += (v[i] - mean) * (v[i] - mean);
        out[0] = v[0];
        pos = (double)m / 4.0;
        lo = floor(pos);
        out[1] = v[(size_t)lo - 1] +
                 (pos - lo) * (v[(size_t)lo] - v[(size_t)lo - 1]);
        out[2] = mean;
        out[3] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        out[4] = sqrt(ss / (double)(n - 1));
        pos = 3.0 * (double)m / 4.0;
        lo = floor(pos);
        out[5] = v[(size_t)lo - 1] +
                 (pos - lo) * (v[(size_t)lo] - v[(size_t)lo - 1]);
        out[6] = v[n - 1];
}

typedef struct naive_s {
        double *cols[NVALUES];
        size_t n, cap;
        int64_t start; /* of the open window, or INT64_MIN */
} naive_t;

static void naive_close(naive_t *nv)
{
        double out[7];

        if (nv->n < 2)
                return;
        for (int f = 0; f < NVALUES; f++) {
                naive_stats(nv->cols[f], nv->n, out);
                sink.check += out[2];
        }
        sink.windows++;
        sink.messages += nv->n;
}

static void run_naive(naive_t *nv, run_t *r, int64_t step_ms, size_t n)
{
        size_t i = (size_t)(r->seq % POOL);

        for (size_t k = 0; k < n; k++) {
                const uint8_t *p = pool + i * MSG_LEN + KA_AVRO_HEADER_SIZE + 8;
                int64_t t = BASE_MS + (int64_t)r->seq * step_ms;
                int64_t start = t - t % 1000;

                if (start != nv->start) {
                        naive_close(nv);
                        nv->n = 0;
                        nv->start = start;
                }
                if (nv->n == nv->cap) {
                        nv->cap = nv->cap ? nv->cap * 2 : 64;
                        for (int f = 0; f < NVALUES; f++) {
                                nv->cols[f] =
                                        realloc(nv->cols[f],
                                                nv->cap * sizeof(*nv->cols[f]));
                                if (!nv->cols[f]) {
                                        fprintf(stderr, "bench_hotpath: out "
                                                        "of memory\n");
                                        exit(1);
                                }
                        }
                }
                for (int f = 0; f < NVALUES; f++)
                        memcpy(&nv->cols[f][nv->n], p + 8 * f, 8);
                nv->n++;
                r->seq++;
                if (++i == POOL)
                        i = 0;
        }
}

/* ---- driver ------------------------------------------------------------ */

typedef struct result_s {
        double ns;   /* best ns per message */
        double rate; /* messages/s at that */
} result_t;

static void run_case(const bench_case_t *c, double secs, result_t *res)
{
        run_t r = {0};
        naive_t nv = {.start = INT64_MIN};
        size_t n = 1u << 16;
        double best = INFINITY;
        ka_windows_stats_t before, after;
        sink_t start = sink;

        static ka_agent_source_t source;

        source = agent->sources[0];
        source.schema_id = SCHEMA_ID;
        r.agg = ka_aggregate_new(agent, 1, 1);
        r.dec = ka_decoder_new(&source, NULL);
        r.store = calloc(1000 * NVALUES, sizeof(double));
        if (!r.agg || !r.dec || !r.store) {
                fprintf(stderr, "bench_hotpath: out of memory\n");
                exit(1);
        }

        /* Warm up and size the trials to about secs each; the windows'
         * buffers reach their steady size here. */
        for (int trial = -2; trial < TRIALS; trial++) {
                double t0, t;

                if (trial == 0)
                        ka_windows_stats(ka_aggregate_windows(r.agg), &before);
                t0 = now_s();
                if (c->kind == MEMCPY_FLOOR)
                        run_memcpy(&r, c->step_ms, n);
                else if (c->kind == NAIVE)
                        run_naive(&nv, &r, c->step_ms, n);
                else
                        run_pipeline(&r, c->kind, c->step_ms, n);
                t = now_s() - t0;
                if (trial >= 0 && t * 1e9 / (double)n < best)
                        best = t * 1e9 / (double)n;
                if (trial < 0 && t > 0)
                        n = (size_t)((double)n * secs / t) + BATCH;
        }
        ka_windows_stats(ka_aggregate_windows(r.agg), &after);

        res->ns = best;
        res->rate = 1e9 / best;
        if (sink.errors != start.errors) {
                fprintf(stderr, "bench_hotpath: %s: %llu messages failed\n",
                        c->name,
                        (unsigned long long)(sink.errors - start.errors));
                exit(1);
        }
        if ((c->kind == FULL || c->kind == NAIVE || c->kind == DECODE_ADD) &&
            sink.messages - start.messages + 4096 < r.seq) {
                fprintf(stderr,
                        "bench_hotpath: %s: only %llu of %llu messages "
                        "reached a closed window\n",
                        c->name,
                        (unsigned long long)(sink.messages - start.messages),
                        (unsigned long long)r.seq);
                exit(1);
        }
        timed_allocs += after.allocs - before.allocs;
        for (int f = 0; f < NVALUES; f++)
                free(nv.cols[f]);
        free(r.store);
        ka_decoder_destroy(r.dec);
        ka_aggregate_destroy(r.agg);
}

int main(int argc, char **argv)
{
        static const bench_case_t cases[] = {
                {"baseline: memcpy 10 doubles to a row store", MEMCPY_FLOOR, 1},
                {"generated decode only (source0_decode)", BARE_DECODE, 1},
                {"ka_decoder_decode (header + generated)", DECODER, 1},
                {"decode + ka_windows_add, 1000 msgs/window", DECODE_ADD, 1},
                {"full pipeline, 50 msgs/window (50 Hz)", FULL, 20},
                {"full pipeline, 1000 msgs/window (1 kHz)", FULL, 1},
                {"naive: memcpy + qsort stats, 50 msgs/window", NAIVE, 20},
                {"naive: memcpy + qsort stats, 1000 msgs/window", NAIVE, 1},
        };
        result_t res[KA_ARRAY_SIZE(cases)];
        double secs = argc > 1 ? atof(argv[1]) : 0.2;
        struct rusage ru;

        if (!(secs > 0) || secs > 10)
                secs = 0.2;
        if (!(pool = malloc((size_t)POOL * MSG_LEN))) {
                fprintf(stderr, "bench_hotpath: out of memory\n");
                return 1;
        }
        fill_pool();

        printf("Hot path in process: %s (%zu doubles a row), %u distinct "
               "%d-byte payloads,\none core, best of %d trials of %.2f s; "
               "statistics: %zu ops per field\n\n",
               agent->name, agent->nfields, POOL, MSG_LEN, TRIALS, secs,
               agent->nops);
        printf("%-46s %8s %10s %9s %9s\n", "case", "ns/msg", "M msgs/s",
               "x memcpy", "x target");
        for (size_t i = 0; i < KA_ARRAY_SIZE(cases); i++) {
                run_case(&cases[i], secs, &res[i]);
                printf("%-46s %8.2f %10.2f %9.2f %9.2f\n", cases[i].name,
                       res[i].ns, res[i].rate / 1e6, res[i].ns / res[0].ns,
                       res[i].rate / TARGET_RATE);
                fflush(stdout);
        }
        getrusage(RUSAGE_SELF, &ru);
        printf("\nx memcpy: time per message relative to the memcpy floor; "
               "x target: rate / 20 M msgs/s.\n");
        printf("full pipeline vs naive qsort aggregator: %.1fx faster at 50 "
               "msgs/window, %.1fx at 1000\n",
               res[6].ns / res[4].ns, res[7].ns / res[5].ns);
        printf("window allocations during the timed trials: %llu; peak RSS "
               "of this process: %ld MB\n(the %u-message pool is %u MB); "
               "checksum %g\n",
               (unsigned long long)timed_allocs, ru.ru_maxrss / 1024, POOL,
               POOL * MSG_LEN >> 20, sink.check);
        for (size_t i = 4; i <= 5; i++)
                printf("SUMMARY|hot path: %s|%.1f M msgs/s (%.1f ns/msg)|"
                       ">= 20 M msgs/s|%s\n",
                       cases[i].name, res[i].rate / 1e6, res[i].ns,
                       res[i].rate >= TARGET_RATE ? "PASS" : "below target");
        free(pool);
        return 0;
}
