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

struct ka_aggregate_s {
        const ka_agent_t *agent;
        ka_windows_t *windows;
        ka_stats_t *stats;
        int32_t schema_id;
        double *row;
        double *values; /* nfields * nops */
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
        };

        if (!agg)
                return NULL;
        agg->agent = agent;
        agg->schema_id = out_schema_id;
        agg->windows = ka_windows_new(&cfg, npartitions);
        agg->stats = ka_stats_new();
        agg->row = calloc(agent->nfields + 1, sizeof(*agg->row));
        agg->values =
                calloc(agent->nfields * agent->nops + 1, sizeof(*agg->values));
        /* header + time, window_size, count + 8 bytes a statistic */
        agg->cap = KA_AVRO_HEADER_SIZE + 8 + 8 + 10 +
                   8 * agent->nfields * agent->nops;
        agg->buf = malloc(agg->cap);
        if (!agg->windows || !agg->stats || !agg->row || !agg->values ||
            !agg->buf) {
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
        free(agg->row);
        free(agg->values);
        free(agg->buf);
        free(agg);
}

ka_windows_t *ka_aggregate_windows(ka_aggregate_t *agg)
{
        return agg->windows;
}

double *ka_aggregate_row(ka_aggregate_t *agg, bool clear)
{
        /* Once a message: locals, so that the stores cannot be taken to
         * change agg and the loop stays a run of stores. */
        double *row = agg->row;
        size_t n = agg->agent->nfields;

        if (clear) {
                for (size_t i = 0; i < n; i++)
                        row[i] = NAN;
        }
        return row;
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
        };
        ka_aggregate_out_t out = {.win = win, .values = agg->values};
        size_t len;

        for (size_t f = 0; f < agent->nfields; f++) {
                size_t n;
                const double *col = ka_window_column(win, f, &n);

                if (ka_stats_compute(agg->stats, col, n, agent->min_sample_size,
                                     agent->ops, agent->nops,
                                     agg->values + f * agent->nops)) {
                        /* Out of memory: the window still goes out, with
                         * NaN where statistics could not be computed. */
                        ka_error("%s: out of memory computing statistics",
                                 agent->name);
                        for (size_t o = 0; o < agent->nops; o++)
                                agg->values[f * agent->nops + o] = NAN;
                }
        }

        ka_avro_write_header(agg->buf, agg->schema_id);
        len = agent->encode(&res, agg->buf + KA_AVRO_HEADER_SIZE,
                            agg->cap - KA_AVRO_HEADER_SIZE);
        if (!len) {
                /* Sized for the record in ka_aggregate_new(): not reached
                 * unless a generated encoder disagrees with its agent. */
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
