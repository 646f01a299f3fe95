/*
 * Windows -> statistics -> encoded record. All buffers (row, statistics,
 * output) are allocated once and grown geometrically, never per message.
 */
#include "aggregate.h"
#include "avro_wire.h"
#include "log.h"
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The statistics of one array field, grown to its longest window. */
typedef struct array_out_s {
        double *values; /* nops * len, op-major */
        size_t cap;     /* doubles values can hold */
} array_out_t;

struct ka_aggregate_s {
        const ka_agent_t *agent;
        ka_windows_t *windows;
        ka_stats_t *stats;
        int32_t schema_id;
        ka_row_t row;
        double *values;           /* nfields * nops */
        array_out_t *outs;        /* narrays */
        ka_agent_array_t *arrays; /* narrays, pointing into outs */
        uint8_t *buf;
        size_t cap;
        /* for the close callback */
        ka_aggregate_emit_cb cb;
        void *opaque;
        size_t emitted;
};

ka_aggregate_t *ka_aggregate_new(const ka_agent_t *agent, size_t npartitions,
                                 int32_t out_schema_id)
{
        ka_aggregate_t *agg = calloc(1, sizeof(*agg));
        ka_window_config_t cfg = {
                .size_ms = agent->window_ms,
                .expiration_ms = agent->expiration_ms,
                .idle_timeout_ms = agent->idle_timeout_ms,
                .group_by_key = agent->group_by_key,
                .nfields = agent->nfields,
                .narrays = agent->narrays,
        };

        if (!agg)
                return NULL;
        agg->agent = agent;
        agg->schema_id = out_schema_id;
        agg->windows = ka_windows_new(&cfg, npartitions);
        agg->stats = ka_stats_new();
        agg->values =
                calloc(agent->nfields * agent->nops + 1, sizeof(*agg->values));
        agg->outs = calloc(agent->narrays + 1, sizeof(*agg->outs));
        agg->arrays = calloc(agent->narrays + 1, sizeof(*agg->arrays));
        /* header + time, window_size, count + 8 bytes a statistic, and an
         * empty array (one byte) a statistic of an array field; grown in
         * on_close() for longer arrays */
        agg->cap = KA_AVRO_HEADER_SIZE + 8 + 8 + 10 +
                   8 * agent->nfields * agent->nops +
                   agent->narrays * agent->nops;
        agg->buf = malloc(agg->cap);
        if (!agg->windows || !agg->stats || !agg->values || !agg->outs ||
            !agg->arrays || !agg->buf ||
            !ka_row_init(&agg->row, agent->nfields, agent->narrays)) {
                ka_aggregate_destroy(agg);
                return NULL;
        }
        return agg;
}

void ka_aggregate_destroy(ka_aggregate_t *agg)
{
        if (!agg)
                return;
        ka_windows_destroy(agg->windows);
        ka_stats_destroy(agg->stats);
        ka_row_release(&agg->row);
        for (size_t a = 0; agg->outs && a < agg->agent->narrays; a++)
                free(agg->outs[a].values);
        free(agg->outs);
        free(agg->arrays);
        free(agg->values);
        free(agg->buf);
        free(agg);
}

ka_windows_t *ka_aggregate_windows(ka_aggregate_t *agg)
{
        return agg->windows;
}

ka_row_t *ka_aggregate_row(ka_aggregate_t *agg, bool clear)
{
        if (clear)
                ka_row_clear(&agg->row);
        return &agg->row;
}

/* Statistics of one column into out[0 .. nops); NaN on failure. */
static void column_stats(ka_aggregate_t *agg, const double *col, size_t n,
                         double *out)
{
        const ka_agent_t *agent = agg->agent;

        if (ka_stats_compute(agg->stats, col, n, agent->min_sample_size,
                             agent->ops, agent->nops, out)) {
                /* Out of memory: the window still goes out, with NaN
                 * where statistics could not be computed. */
                ka_error("%s: out of memory computing statistics", agent->name);
                for (size_t o = 0; o < agent->nops; o++)
                        out[o] = NAN;
        }
}

/* The element-wise statistics of array field a of win into agg->arrays[a];
 * false when out of memory. */
static bool array_stats(ka_aggregate_t *agg, const ka_window_t *win, size_t a)
{
        size_t nops = agg->agent->nops, len = ka_window_array_len(win, a);
        array_out_t *out = &agg->outs[a];
        double tmp[KA_OP__COUNT];

        if (len * nops > out->cap) {
                size_t cap = out->cap ? out->cap : 64;
                double *v;

                while (cap < len * nops)
                        cap *= 2;
                if (!(v = realloc(out->values, cap * sizeof(*v))))
                        return false;
                out->values = v;
                out->cap = cap;
        }
        for (size_t i = 0; i < len; i++) {
                size_t n;
                const double *col = ka_window_array_column(win, a, i, &n);

                column_stats(agg, col, n, tmp);
                for (size_t o = 0; o < nops; o++)
                        out->values[o * len + i] = tmp[o];
        }
        agg->arrays[a] = (ka_agent_array_t){.len = len, .values = out->values};
        return true;
}

/* Room in agg->buf for the record of the statistics just computed. */
static bool reserve_record(ka_aggregate_t *agg)
{
        const ka_agent_t *agent = agg->agent;
        size_t need = KA_AVRO_HEADER_SIZE + 8 + 8 + 10 +
                      8 * agent->nfields * agent->nops;
        uint8_t *buf;

        /* Per array and op: a count of up to 10 bytes, the doubles and
         * the end block. */
        for (size_t a = 0; a < agent->narrays; a++)
                need += agent->nops * (10 + 8 * agg->arrays[a].len + 1);
        if (need <= agg->cap)
                return true;
        if (!(buf = realloc(agg->buf, need)))
                return false;
        agg->buf = buf;
        agg->cap = need;
        return true;
}

static void on_close(const ka_window_t *win, void *opaque)
{
        ka_aggregate_t *agg = opaque;
        const ka_agent_t *agent = agg->agent;
        int64_t start = ka_window_start_ms(win), end = ka_window_end_ms(win);
        ka_agent_result_t res = {
                .time = (double)(start + end) / 2000.0,
                .window_size = (double)agent->window_ms / 1000.0,
                .count = (int64_t)ka_window_count(win),
                .values = agg->values,
                .arrays = agg->arrays,
        };
        ka_aggregate_out_t out = {
                .win = win, .values = agg->values, .arrays = agg->arrays};
        size_t len;

        for (size_t f = 0; f < agent->nfields; f++) {
                size_t n;
                const double *col = ka_window_column(win, f, &n);

                column_stats(agg, col, n, agg->values + f * agent->nops);
        }
        for (size_t a = 0; a < agent->narrays; a++) {
                if (!array_stats(agg, win, a)) {
                        ka_crit("%s: out of memory: window (%.3f, %.3f) not "
                                "produced",
                                agent->name, (double)start / 1000,
                                (double)end / 1000);
                        return;
                }
        }
        if (!reserve_record(agg)) {
                ka_crit("%s: out of memory: window (%.3f, %.3f) not produced",
                        agent->name, (double)start / 1000, (double)end / 1000);
                return;
        }

        ka_avro_write_header(agg->buf, agg->schema_id);
        len = agent->encode(&res, agg->buf + KA_AVRO_HEADER_SIZE,
                            agg->cap - KA_AVRO_HEADER_SIZE);
        if (!len) {
                /* Sized for the record above: not reached unless a
                 * generated encoder disagrees with its agent. */
                ka_error("%s: aggregated record larger than %zu bytes",
                         agent->name, agg->cap);
                return;
        }
        out.value = agg->buf;
        out.len = KA_AVRO_HEADER_SIZE + len;
        if (agent->group_by_key)
                out.key = ka_window_key(win, &out.keylen);
        agg->cb(&out, agg->opaque);
        agg->emitted++;
}

size_t ka_aggregate_close(ka_aggregate_t *agg, int64_t now_ms,
                          ka_aggregate_emit_cb cb, void *opaque)
{
        agg->cb = cb;
        agg->opaque = opaque;
        agg->emitted = 0;
        ka_windows_close(agg->windows, now_ms, on_close, agg);
        return agg->emitted;
}
