/*
 * The worker (SPEC §9-§11): one consumer group over every compiled agent's
 * source topics, each message decoded into its agents' windows, closed
 * windows produced as aggregated records, and offsets committed only once
 * everything they cover was produced and acknowledged (at least once, no
 * loss: SPEC §10).
 *
 * Commits work from snapshots. After each round of closing windows the
 * worker notes, per assigned partition, the offset it could resume from
 * (the lowest offset still held by an open window, else the next offset to
 * read) and each agent's closed-through watermark, together with how many
 * aggregated records had been produced by then. A snapshot is committed
 * once every record produced before it was acknowledged; its watermarks
 * travel in the commit metadata so that a restarted worker drops, as
 * replayed, the messages of windows already emitted.
 */
#include "worker.h"
#include "aggregate.h"
#include "decode.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "registry.h"
#include "tracker.h"
#include "web.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Windows are closed, partitions reported and deliveries served this
 * often; commits are sent at most once per COMMIT_MS. */
#define TICK_MS 50
/* Messages taken from the consumer queue at once, at most. */
#define BATCH_MAX 256
#define COMMIT_MS 1000
/* Decode errors are logged once per topic and reason per minute. */
#define ERROR_LOG_MS 60000
/* SIGTERM: stop within 10 s (SPEC §10), of which deliveries may take 6. */
#define FLUSH_MS 6000

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct topic_rt_s;

/* One agent at run time. */
typedef struct agent_rt_s {
        const ka_agent_t *agent;
        ka_aggregate_t *agg;
        ka_decoder_t **decoders; /* per source */
        int32_t out_id;
        /* partition slots of its windows: topic and partition of each */
        struct topic_rt_s **slot_topic;
        int32_t *slot_partition;
        size_t nslots, slot_cap;
        ka_windows_stats_t last; /* for metric deltas */
        ka_metric_t *late, *replayed, *open, *emitted, *latency_sum,
                *latency_count, *produce_errors;
} agent_rt_t;

/* An agent reading a topic, as its source number `source`. */
typedef struct binding_s {
        agent_rt_t *art;
        size_t source;
} binding_t;

/* One source topic at run time. */
typedef struct topic_rt_s {
        const char *name;
        const rd_kafka_topic_t *rkt; /* learnt from the first message */
        binding_t *bindings;
        size_t nbindings;
        /* per binding, for the message being handled */
        ka_decode_result_t *res;
        int64_t *event_ms;
        /* per partition: next offset to read (-1 unknown) and, per binding,
         * its agent's slot (SIZE_MAX when not assigned) */
        int64_t *next;
        size_t *slots;
        int32_t npartitions; /* capacity of next[] and slots[] */
        uint64_t nmsgs, nbytes;
        ka_metric_t *messages, *bytes;
        ka_metric_t *decode_errors[KA_DECODE__COUNT];
        int64_t logged_ms[KA_DECODE__COUNT];
} topic_rt_t;

/* An aggregated record produced and not yet acknowledged. */
typedef struct inflight_s {
        struct inflight_s *prev, *next;
        uint64_t seq; /* the tracker's */
        agent_rt_t *art;
        int64_t end_ms;
        void *value, *key;
        size_t len, keylen;
} inflight_t;

typedef struct worker_s {
        rd_kafka_t *consumer, *producer;
        ka_registry_t *reg, *int_reg;
        agent_rt_t *agents;
        size_t nagents;
        topic_rt_t *topics;
        size_t ntopics;
        bool assigned;
        bool closing;
        volatile sig_atomic_t *stop;
        /* snapshots: rd_kafka_topic_partition_list_t of offsets to commit */
        ka_tracker_t *tracker;
        inflight_t *inflight_head, *inflight_tail;
        int64_t last_tick, last_commit;
        double *scratch_row;
        _Atomic int64_t last_poll;
        _Atomic bool brokers_down;
} worker_t;

/* ---- topics and slots ---- */

static topic_rt_t *topic_by_name(worker_t *w, const char *name)
{
        for (size_t i = 0; i < w->ntopics; i++)
                if (!strcmp(w->topics[i].name, name))
                        return &w->topics[i];
        return NULL;
}

static topic_rt_t *topic_of(worker_t *w, const rd_kafka_message_t *rkm)
{
        topic_rt_t *t;

        for (size_t i = 0; i < w->ntopics; i++)
                if (w->topics[i].rkt == rkm->rkt)
                        return &w->topics[i];
        t = topic_by_name(w, rd_kafka_topic_name(rkm->rkt));
        if (t)
                t->rkt = rkm->rkt;
        return t;
}

/* Makes room for partition p in t's per-partition arrays. */
static bool topic_grow(topic_rt_t *t, int32_t p)
{
        int32_t n = t->npartitions;
        int64_t *next;
        size_t *slots;

        if (p < n)
                return true;
        while (n <= p)
                n = n ? n * 2 : 8;
        next = realloc(t->next, (size_t)n * sizeof(*next));
        if (!next)
                return false;
        t->next = next;
        slots = realloc(t->slots, (size_t)n * t->nbindings * sizeof(*slots));
        if (!slots)
                return false;
        t->slots = slots;
        for (int32_t i = t->npartitions; i < n; i++) {
                t->next[i] = -1;
                for (size_t b = 0; b < t->nbindings; b++)
                        t->slots[(size_t)i * t->nbindings + b] = SIZE_MAX;
        }
        t->npartitions = n;
        return true;
}

static bool agent_add_slot(agent_rt_t *art, topic_rt_t *t, int32_t p,
                           size_t *slot)
{
        if (art->nslots == art->slot_cap) {
                size_t cap = art->slot_cap ? art->slot_cap * 2 : 8;
                topic_rt_t **st = realloc(art->slot_topic, cap * sizeof(*st));
                int32_t *sp;

                if (!st)
                        return false;
                art->slot_topic = st;
                sp = realloc(art->slot_partition, cap * sizeof(*sp));
                if (!sp)
                        return false;
                art->slot_partition = sp;
                art->slot_cap = cap;
        }
        art->slot_topic[art->nslots] = t;
        art->slot_partition[art->nslots] = p;
        *slot = art->nslots++;
        return true;
}

/* ---- commit metadata ---- */

/* {"ka":1,"closed_through":{"<agent>":<ms>,...}} for partition p of t. */
static char *metadata_of(const topic_rt_t *t, int32_t p)
{
        json_t *ct = json_object(), *root;
        char *text;

        for (size_t b = 0; b < t->nbindings; b++) {
                size_t slot = t->slots[(size_t)p * t->nbindings + b];
                int64_t v;

                if (slot == SIZE_MAX)
                        continue;
                v = ka_windows_closed_through(
                        ka_aggregate_windows(t->bindings[b].art->agg), slot);
                if (v != INT64_MIN)
                        json_object_set_new(ct, t->bindings[b].art->agent->name,
                                            json_integer((json_int_t)v));
        }
        root = json_pack("{s:i, s:o}", "ka", 1, "closed_through", ct);
        text = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        return text;
}

/* The closed-through watermark of agent in commit metadata, or INT64_MIN. */
static int64_t metadata_closed_through(const void *md, size_t len,
                                       const char *agent)
{
        json_t *root = md && len ? json_loadb(md, len, 0, NULL) : NULL;
        json_t *v =
                json_object_get(json_object_get(root, "closed_through"), agent);
        int64_t ct =
                json_is_integer(v) ? (int64_t)json_integer_value(v) : INT64_MIN;

        json_decref(root);
        return ct;
}

/* ---- snapshots and commits ---- */

static void snapshot_take(worker_t *w)
{
        rd_kafka_topic_partition_list_t *list;

        if (!w->assigned)
                return;
        list = rd_kafka_topic_partition_list_new(16);
        for (size_t i = 0; i < w->ntopics; i++) {
                topic_rt_t *t = &w->topics[i];

                for (int32_t p = 0; p < t->npartitions; p++) {
                        int64_t off = t->next[p];
                        rd_kafka_topic_partition_t *tp;
                        bool mine = false;
                        char *md;

                        for (size_t b = 0; b < t->nbindings; b++) {
                                size_t slot =
                                        t->slots[(size_t)p * t->nbindings + b];
                                int64_t low;

                                if (slot == SIZE_MAX)
                                        continue;
                                mine = true;
                                low = ka_windows_low_offset(
                                        ka_aggregate_windows(
                                                t->bindings[b].art->agg),
                                        slot);
                                if (low >= 0 && (off < 0 || low < off))
                                        off = low;
                        }
                        if (!mine || off < 0)
                                continue;
                        tp = rd_kafka_topic_partition_list_add(list, t->name,
                                                               p);
                        tp->offset = off;
                        if ((md = metadata_of(t, p))) {
                                tp->metadata = md;
                                tp->metadata_size = strlen(md);
                        }
                }
        }

        ka_tracker_snapshot(w->tracker, list);
}

static void free_offsets(void *list)
{
        rd_kafka_topic_partition_list_destroy(list);
}

/* Commits the newest snapshot whose records are all acknowledged. */
static void commit_safe(worker_t *w, bool sync)
{
        rd_kafka_topic_partition_list_t *offsets =
                ka_tracker_committable(w->tracker);
        rd_kafka_resp_err_t err;

        if (!offsets)
                return;
        if (offsets->cnt) {
                err = rd_kafka_commit(w->consumer, offsets, !sync);
                if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                        ka_warn("commit failed: %s", rd_kafka_err2str(err));
        }
        rd_kafka_topic_partition_list_destroy(offsets);
}

/* ---- producing ---- */

static void inflight_unlink(worker_t *w, inflight_t *f)
{
        if (f->prev)
                f->prev->next = f->next;
        else
                w->inflight_head = f->next;
        if (f->next)
                f->next->prev = f->prev;
        else
                w->inflight_tail = f->prev;
        free(f->value);
        free(f->key);
        free(f);
}

/* Hands f to the producer, waiting while its queue is full. */
static void produce(worker_t *w, inflight_t *f)
{
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_producev(
                        w->producer, RD_KAFKA_V_TOPIC(f->art->agent->name),
                        RD_KAFKA_V_VALUE(f->value, f->len),
                        RD_KAFKA_V_KEY(f->key, f->keylen),
                        RD_KAFKA_V_TIMESTAMP(f->end_ms),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_OPAQUE(f), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(w->producer, 100);
        }
        if (err) {
                /* Kept in flight: retried from the delivery path below. */
                ka_error("%s: produce failed: %s", f->art->agent->name,
                         rd_kafka_err2str(err));
                ka_metric_add(f->art->produce_errors, 1);
        }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
        worker_t *w = opaque;
        inflight_t *f = rkm->_private;

        (void)rk;
        if (!f)
                return;
        if (rkm->err) {
                /* librdkafka retried already; try again rather than lose the
                 * window: offsets stay uncommitted meanwhile. */
                ka_error("%s: delivery failed, producing again: %s",
                         f->art->agent->name, rd_kafka_err2str(rkm->err));
                ka_metric_add(f->art->produce_errors, 1);
                produce(w, f);
                return;
        }
        ka_tracker_acked(w->tracker, f->seq);
        inflight_unlink(w, f);
}

typedef struct emit_ctx_s {
        worker_t *w;
        agent_rt_t *art;
        int64_t now;
} emit_ctx_t;

static void on_emit(const ka_aggregate_out_t *out, void *opaque)
{
        emit_ctx_t *ctx = opaque;
        worker_t *w = ctx->w;
        inflight_t *f = calloc(1, sizeof(*f));
        int64_t start = ka_window_start_ms(out->win);
        int64_t end = ka_window_end_ms(out->win);

        if (!f || !(f->value = malloc(out->len)) ||
            (out->key && !(f->key = malloc(out->keylen ? out->keylen : 1)))) {
                /* Without memory the window cannot be kept: the process is
                 * about to fail anyway; say what is lost. */
                ka_crit("%s: out of memory: window (%.3f, %.3f) not produced",
                        ctx->art->agent->name, (double)start / 1000,
                        (double)end / 1000);
                if (f)
                        free(f->value);
                free(f);
                return;
        }
        memcpy(f->value, out->value, out->len);
        f->len = out->len;
        if (out->key) {
                memcpy(f->key, out->key, out->keylen);
                f->keylen = out->keylen;
        }
        f->seq = ka_tracker_emitted(w->tracker);
        f->art = ctx->art;
        f->end_ms = end;
        f->prev = w->inflight_tail;
        if (w->inflight_tail)
                w->inflight_tail->next = f;
        else
                w->inflight_head = f;
        w->inflight_tail = f;

        ka_info("%5zu messages aggregated on %s (%.3f, %.3f).",
                ka_window_count(out->win), ctx->art->agent->name,
                (double)start / 1000, (double)end / 1000);
        ka_metric_add(ctx->art->emitted, 1);
        ka_metric_add(ctx->art->latency_sum, (double)(ctx->now - end) / 1000);
        ka_metric_add(ctx->art->latency_count, 1);
        produce(w, f);
}

/* ---- the periodic round ---- */

static void report_partitions(worker_t *w, agent_rt_t *art, int64_t now)
{
        ka_windows_t *win = ka_aggregate_windows(art->agg);

        for (size_t s = 0; s < art->nslots; s++) {
                topic_rt_t *t = art->slot_topic[s];
                int32_t p = art->slot_partition[s];
                int64_t lo = -1, hi = -1, next = t->next[p];
                bool caught_up;

                rd_kafka_get_watermark_offsets(w->consumer, t->name, p, &lo,
                                               &hi);
                caught_up = hi >= 0 && (next >= 0 ? next >= hi : lo == hi);
                ka_windows_partition_idle(win, s, caught_up, now);
        }
}

static void update_metrics(worker_t *w)
{
        for (size_t i = 0; i < w->ntopics; i++) {
                topic_rt_t *t = &w->topics[i];

                ka_metric_set(t->messages, (double)t->nmsgs);
                ka_metric_set(t->bytes, (double)t->nbytes);
        }
        for (size_t a = 0; a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];
                ka_windows_stats_t st;

                ka_windows_stats(ka_aggregate_windows(art->agg), &st);
                ka_metric_add(art->late, (double)(st.late - art->last.late));
                ka_metric_add(art->replayed,
                              (double)(st.replayed - art->last.replayed));
                ka_metric_set(art->open, (double)st.open);
                art->last = st;
        }
}

static void lag_metrics(worker_t *w)
{
        char labels[512], lt[300], lp[64];

        for (size_t i = 0; i < w->ntopics; i++) {
                topic_rt_t *t = &w->topics[i];

                for (int32_t p = 0; p < t->npartitions; p++) {
                        int64_t lo, hi;
                        bool mine = false;

                        for (size_t b = 0; b < t->nbindings; b++)
                                mine |= t->slots[(size_t)p * t->nbindings +
                                                 b] != SIZE_MAX;
                        if (!mine || t->next[p] < 0 ||
                            rd_kafka_get_watermark_offsets(w->consumer, t->name,
                                                           p, &lo, &hi) ||
                            hi < 0)
                                continue;
                        ka_metrics_label(lt, sizeof(lt), "topic", t->name);
                        snprintf(lp, sizeof(lp), "partition=\"%d\"", (int)p);
                        snprintf(labels, sizeof(labels), "%s,%s", lt, lp);
                        ka_metric_set(
                                ka_metrics_get("kafkaaggregator_consumer_lag",
                                               "Messages not yet read, per "
                                               "partition",
                                               KA_METRIC_GAUGE, labels),
                                (double)(hi > t->next[p] ? hi - t->next[p]
                                                         : 0));
                }
        }
}

static void tick(worker_t *w, int64_t now)
{
        rd_kafka_poll(w->producer, 0);
        for (size_t a = 0; a < w->nagents; a++) {
                emit_ctx_t ctx = {w, &w->agents[a], now};

                report_partitions(w, &w->agents[a], now);
                ka_aggregate_close(w->agents[a].agg, now, on_emit, &ctx);
        }
        snapshot_take(w);
        if (now - w->last_commit >= COMMIT_MS) {
                commit_safe(w, false);
                lag_metrics(w);
                w->last_commit = now;
        }
        update_metrics(w);
        w->last_tick = now;
}

/* ---- messages ---- */

static void decode_error(topic_rt_t *t, const rd_kafka_message_t *rkm,
                         ka_decode_result_t res, int64_t now)
{
        ka_metric_add(t->decode_errors[res], 1);
        if (t->logged_ms[res] && now - t->logged_ms[res] < ERROR_LOG_MS)
                return;
        t->logged_ms[res] = now;
        ka_warn("topic %s: skipped the message at partition %d offset "
                "%" PRId64 ": %s (logged once a minute per topic and reason; "
                "see kafkaaggregator_decode_errors_total)",
                t->name, (int)rkm->partition, (int64_t)rkm->offset,
                ka_decode_result_name(res));
}

/* Re-reads rkm later: its writer schema could not be fetched, and a message
 * is never dropped for a transient failure. */
static void retry_later(worker_t *w, topic_rt_t *t,
                        const rd_kafka_message_t *rkm)
{
        rd_kafka_topic_partition_list_t *list =
                rd_kafka_topic_partition_list_new(1);
        rd_kafka_error_t *error;

        rd_kafka_topic_partition_list_add(list, t->name, rkm->partition)
                ->offset = rkm->offset;
        error = rd_kafka_seek_partitions(w->consumer, list, 5000);
        if (error) {
                ka_error("topic %s [%d]: cannot seek back to offset %" PRId64
                         ": %s",
                         t->name, (int)rkm->partition, (int64_t)rkm->offset,
                         rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        } else {
                ka_warn("topic %s [%d]: the schema registry is unreachable; "
                        "offset %" PRId64 " will be read again",
                        t->name, (int)rkm->partition, (int64_t)rkm->offset);
                t->next[rkm->partition] = rkm->offset;
        }
        rd_kafka_topic_partition_list_destroy(list);
}

static void add(topic_rt_t *t, size_t b, const rd_kafka_message_t *rkm,
                int64_t now)
{
        agent_rt_t *art = t->bindings[b].art;
        size_t slot = t->slots[(size_t)rkm->partition * t->nbindings + b];
        int64_t event_ms = t->event_ms[b];

        switch (ka_windows_add(ka_aggregate_windows(art->agg), slot,
                               rkm->offset, event_ms, rkm->key, rkm->key_len,
                               ka_aggregate_row(art->agg, false))) {
        case KA_WINDOW_LATE:
                ka_debug("%s: late message from %s [%d] at offset %" PRId64
                         " (event time %" PRId64 " ms): its window is closed",
                         art->agent->name, t->name, (int)rkm->partition,
                         (int64_t)rkm->offset, event_ms);
                break;
        case KA_WINDOW_INVALID:
                decode_error(t, rkm, KA_DECODE_TIME, now);
                break;
        case KA_WINDOW_NOMEM:
                ka_crit("%s: out of memory adding a message", art->agent->name);
                break;
        default:
                break;
        }
}

/*
 * One consumed message (or event) to every agent reading its topic.
 * Returns false when the message is to be read again: its partition was
 * sought back to it, so what followed it in the same batch must be dropped.
 */
static bool handle(worker_t *w, const rd_kafka_message_t *rkm, int64_t now)
{
        topic_rt_t *t;
        int64_t ts;

        if (rkm->err) {
                if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                        ka_warn("consumer: %s", rd_kafka_message_errstr(rkm));
                return true;
        }
        if (!(t = topic_of(w, rkm)) || rkm->partition < 0 ||
            !topic_grow(t, rkm->partition))
                return true;
        ts = rd_kafka_message_timestamp(rkm, NULL);
        if (ts < 0)
                ts = now;

        /* Every agent reading the topic decodes first, so that a message
         * read again after a registry failure is added to none twice. */
        for (size_t b = 0; b < t->nbindings; b++) {
                agent_rt_t *art = t->bindings[b].art;

                t->res[b] = KA_DECODE__COUNT; /* not this agent's */
                if (t->slots[(size_t)rkm->partition * t->nbindings + b] ==
                    SIZE_MAX)
                        continue;
                t->event_ms[b] = ts;
                t->res[b] = ka_decoder_decode(
                        art->decoders[t->bindings[b].source], rkm->payload,
                        rkm->len, ka_aggregate_row(art->agg, true),
                        &t->event_ms[b]);
                if (t->res[b] == KA_DECODE_REGISTRY) {
                        retry_later(w, t, rkm);
                        return false;
                }
        }

        t->next[rkm->partition] = rkm->offset + 1;
        t->nmsgs++;
        t->nbytes += rkm->len;
        for (size_t b = 0; b < t->nbindings; b++) {
                if (t->res[b] == KA_DECODE_OK)
                        add(t, b, rkm, now);
                else if (t->res[b] != KA_DECODE__COUNT)
                        decode_error(t, rkm, t->res[b], now);
        }
        return true;
}

/*
 * Handles batch[0..n) in order and destroys it. After a message is to be
 * read again, the rest of its partition in the batch is dropped: the
 * consumer was sought back and delivers them again.
 */
static void handle_batch(worker_t *w, rd_kafka_message_t **batch, size_t n,
                         int64_t now)
{
        const rd_kafka_message_t *again[BATCH_MAX];
        size_t nagain = 0;

        for (size_t i = 0; i < n; i++) {
                rd_kafka_message_t *rkm = batch[i];
                bool skip = false;

                for (size_t k = 0; k < nagain && !skip; k++)
                        skip = again[k]->rkt == rkm->rkt &&
                               again[k]->partition == rkm->partition;
                if (!skip && !handle(w, rkm, now))
                        again[nagain++] = rkm;
        }
        for (size_t i = 0; i < n; i++)
                rd_kafka_message_destroy(batch[i]);
}

/* ---- rebalancing ---- */

static void unassign_all(worker_t *w)
{
        for (size_t i = 0; i < w->ntopics; i++) {
                topic_rt_t *t = &w->topics[i];

                for (int32_t p = 0; p < t->npartitions; p++) {
                        t->next[p] = -1;
                        for (size_t b = 0; b < t->nbindings; b++)
                                t->slots[(size_t)p * t->nbindings + b] =
                                        SIZE_MAX;
                }
        }
        for (size_t a = 0; a < w->nagents; a++) {
                w->agents[a].nslots = 0;
                ka_windows_reset(ka_aggregate_windows(w->agents[a].agg), 0);
        }
        ka_tracker_clear(w->tracker);
        w->assigned = false;
}

/* Before giving partitions up: deliver what was emitted, then commit. */
static void settle(worker_t *w)
{
        rd_kafka_flush(w->producer, FLUSH_MS);
        rd_kafka_poll(w->producer, 0);
        snapshot_take(w);
        commit_safe(w, true);
}

static void on_assign(worker_t *w, rd_kafka_topic_partition_list_t *parts)
{
        rd_kafka_resp_err_t err;

        unassign_all(w);
        err = rd_kafka_committed(w->consumer, parts, 10000);
        if (err)
                ka_warn("reading committed offsets: %s (resuming without "
                        "closed-through watermarks)",
                        rd_kafka_err2str(err));

        for (int i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *tp = &parts->elems[i];
                topic_rt_t *t = topic_by_name(w, tp->topic);

                if (!t || !topic_grow(t, tp->partition))
                        continue;
                t->next[tp->partition] =
                        err || tp->offset < 0 ? -1 : tp->offset;
                for (size_t b = 0; b < t->nbindings; b++) {
                        size_t slot;

                        if (!agent_add_slot(t->bindings[b].art, t,
                                            tp->partition, &slot))
                                continue;
                        t->slots[(size_t)tp->partition * t->nbindings + b] =
                                slot;
                }
        }
        for (size_t a = 0; a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];
                ka_windows_t *win = ka_aggregate_windows(art->agg);

                ka_windows_reset(win, art->nslots);
                for (size_t s = 0; s < art->nslots; s++) {
                        int32_t p = art->slot_partition[s];

                        for (int i = 0; i < parts->cnt; i++) {
                                rd_kafka_topic_partition_t *tp =
                                        &parts->elems[i];

                                if (tp->partition != p ||
                                    strcmp(tp->topic, art->slot_topic[s]->name))
                                        continue;
                                ka_windows_set_closed_through(
                                        win, s,
                                        metadata_closed_through(
                                                tp->metadata, tp->metadata_size,
                                                art->agent->name));
                        }
                }
        }
        w->assigned = true;
        ka_info("assigned %d partitions", parts->cnt);
        /* Resume where the commits say: librdkafka does so for
         * RD_KAFKA_OFFSET_INVALID; committed() filled in the offsets. */
        for (int i = 0; i < parts->cnt; i++)
                parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        rd_kafka_assign(w->consumer, parts);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        worker_t *w = opaque;

        (void)rk;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                on_assign(w, parts);
                return;
        }
        /* Revoked (or an error): open windows are dropped and rebuilt by
         * whoever gets the partitions, from what is committed now. */
        if (w->assigned && !w->closing)
                settle(w);
        unassign_all(w);
        ka_info("partitions revoked: %d", parts ? parts->cnt : 0);
        rd_kafka_assign(w->consumer, NULL);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        worker_t *w = opaque;

        (void)rk;
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                atomic_store(&w->brokers_down, true);
        ka_warn("kafka: %s: %s", rd_kafka_err2name(err), reason);
}

static bool healthy(void *opaque)
{
        worker_t *w = opaque;

        return !atomic_load(&w->brokers_down) &&
               wall_ms() - atomic_load(&w->last_poll) < 5000;
}

/* ---- setup ---- */

/* The registry id of agent's aggregated schema: looked up, registered when
 * absent, retried while the registry is unreachable. KA_ERR_TRANSPORT
 * when stopped while waiting. */
static ka_err_t out_schema_id(worker_t *w, const ka_agent_t *agent, int32_t *id,
                              char *errstr, size_t errstr_size)
{
        char subject[300], reason[1024];
        ka_schema_info_t info = {0};
        long backoff = 1000;
        ka_err_t err = KA_ERR_TRANSPORT;

        snprintf(subject, sizeof(subject), "%s-value", agent->name);
        while (!*w->stop) {
                err = ka_registry_lookup(w->int_reg, subject,
                                         agent->record_schema, &info, reason,
                                         sizeof(reason));
                if (!err) {
                        *id = info.id;
                        ka_schema_info_release(&info);
                        return KA_OK;
                }
                if (err == KA_ERR_NOT_FOUND) {
                        err = ka_registry_register(w->int_reg, subject,
                                                   agent->record_schema, id,
                                                   reason, sizeof(reason));
                        if (!err) {
                                ka_info("registered %s (schema id %d)", subject,
                                        (int)*id);
                                return KA_OK;
                        }
                }
                if (err != KA_ERR_TRANSPORT) {
                        snprintf(errstr, errstr_size, "%s: %s", subject,
                                 reason);
                        return err;
                }
                ka_warn("%s: %s; retrying in %ld ms", subject, reason, backoff);
                for (long t = 0; t < backoff && !*w->stop; t += 100)
                        nanosleep(&(struct timespec){0, 100000000}, NULL);
                if (backoff < 30000)
                        backoff *= 2;
        }
        snprintf(errstr, errstr_size, "%s: stopped", subject);
        return KA_ERR_TRANSPORT;
}

static ka_metric_t *agent_metric(const agent_rt_t *art, const char *name,
                                 const char *help, ka_metric_kind_t kind)
{
        char labels[300];

        ka_metrics_label(labels, sizeof(labels), "topic", art->agent->name);
        return ka_metrics_get(name, help, kind, labels);
}

static bool setup_agents(worker_t *w)
{
        size_t maxsrc = 0;

        w->nagents = ka_agents_count;
        w->agents = calloc(w->nagents + 1, sizeof(*w->agents));
        for (size_t a = 0; a < w->nagents; a++)
                maxsrc += ka_agents[a]->nsources;
        w->topics = calloc(maxsrc + 1, sizeof(*w->topics));
        if (!w->agents || !w->topics)
                return false;

        for (size_t a = 0; a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];
                const ka_agent_t *agent = ka_agents[a];

                art->agent = agent;
                art->decoders =
                        calloc(agent->nsources + 1, sizeof(*art->decoders));
                if (!art->decoders)
                        return false;
                for (size_t s = 0; s < agent->nsources; s++) {
                        const char *name = agent->sources[s].topic;
                        topic_rt_t *t = topic_by_name(w, name);
                        binding_t *nb;

                        art->decoders[s] =
                                ka_decoder_new(&agent->sources[s], w->reg);
                        if (!art->decoders[s])
                                return false;
                        if (!t) {
                                t = &w->topics[w->ntopics++];
                                t->name = name;
                        }
                        nb = realloc(t->bindings,
                                     (t->nbindings + 1) * sizeof(*nb));
                        if (!nb)
                                return false;
                        t->bindings = nb;
                        t->bindings[t->nbindings++] =
                                (binding_t){.art = art, .source = s};
                        free(t->res);
                        free(t->event_ms);
                        t->res = calloc(t->nbindings, sizeof(*t->res));
                        t->event_ms =
                                calloc(t->nbindings, sizeof(*t->event_ms));
                        if (!t->res || !t->event_ms)
                                return false;
                }
                art->late = agent_metric(
                        art, "kafkaaggregator_late_messages_total",
                        "Messages dropped because their window had closed",
                        KA_METRIC_COUNTER);
                art->replayed = agent_metric(
                        art, "kafkaaggregator_replayed_messages_total",
                        "Messages of windows emitted before a restart",
                        KA_METRIC_COUNTER);
                art->open = agent_metric(art, "kafkaaggregator_open_windows",
                                         "Windows open now", KA_METRIC_GAUGE);
                art->emitted = agent_metric(
                        art, "kafkaaggregator_emitted_windows_total",
                        "Aggregated records produced", KA_METRIC_COUNTER);
                art->latency_sum = agent_metric(
                        art, "kafkaaggregator_emit_latency_seconds_sum",
                        "Wall-clock time from window end to emit, summed",
                        KA_METRIC_COUNTER);
                art->latency_count = agent_metric(
                        art, "kafkaaggregator_emit_latency_seconds_count",
                        "Windows in kafkaaggregator_emit_latency_seconds_sum",
                        KA_METRIC_COUNTER);
                art->produce_errors = agent_metric(
                        art, "kafkaaggregator_produce_errors_total",
                        "Failed attempts to produce an aggregated record",
                        KA_METRIC_COUNTER);
        }

        for (size_t i = 0; i < w->ntopics; i++) {
                topic_rt_t *t = &w->topics[i];
                char labels[400], lt[300], lr[64];

                ka_metrics_label(lt, sizeof(lt), "topic", t->name);
                t->messages =
                        ka_metrics_get("kafkaaggregator_messages_total",
                                       "Messages consumed from source topics",
                                       KA_METRIC_COUNTER, lt);
                t->bytes = ka_metrics_get(
                        "kafkaaggregator_bytes_total",
                        "Payload bytes consumed from source topics",
                        KA_METRIC_COUNTER, lt);
                for (int r = 1; r < KA_DECODE__COUNT; r++) {
                        ka_metrics_label(
                                lr, sizeof(lr), "reason",
                                ka_decode_result_name((ka_decode_result_t)r));
                        snprintf(labels, sizeof(labels), "%s,%s", lt, lr);
                        t->decode_errors[r] = ka_metrics_get(
                                "kafkaaggregator_decode_errors_total",
                                "Source messages skipped as undecodable",
                                KA_METRIC_COUNTER, labels);
                }
        }
        return true;
}

static rd_kafka_t *new_client(worker_t *w, ka_kafka_role_t role,
                              const char *group_id, char *errstr,
                              size_t errstr_size)
{
        rd_kafka_conf_t *conf = ka_kafka_conf(role, errstr, errstr_size);
        rd_kafka_t *rk;

        if (!conf)
                return NULL;
        rd_kafka_conf_set_opaque(conf, w);
        rd_kafka_conf_set_error_cb(conf, on_error);
        if (role == KA_KAFKA_CONSUMER) {
                if (ka_kafka_set(conf, "group.id", group_id, errstr,
                                 errstr_size)) {
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
                rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        } else {
                rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        }
        rk = rd_kafka_new(role == KA_KAFKA_CONSUMER ? RD_KAFKA_CONSUMER
                                                    : RD_KAFKA_PRODUCER,
                          conf, errstr, errstr_size);
        if (!rk)
                rd_kafka_conf_destroy(conf);
        return rk;
}

static void worker_release(worker_t *w)
{
        while (w->inflight_head)
                inflight_unlink(w, w->inflight_head);
        ka_tracker_destroy(w->tracker);
        for (size_t a = 0; w->agents && a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];

                for (size_t s = 0; art->decoders && s < art->agent->nsources;
                     s++)
                        ka_decoder_destroy(art->decoders[s]);
                free(art->decoders);
                ka_aggregate_destroy(art->agg);
                free(art->slot_topic);
                free(art->slot_partition);
        }
        for (size_t i = 0; w->topics && i < w->ntopics; i++) {
                free(w->topics[i].bindings);
                free(w->topics[i].res);
                free(w->topics[i].event_ms);
                free(w->topics[i].next);
                free(w->topics[i].slots);
        }
        free(w->agents);
        free(w->topics);
        ka_registry_destroy(w->reg);
        ka_registry_destroy(w->int_reg);
}

ka_err_t ka_worker_run(const ka_worker_opts_t *opts, char *errstr,
                       size_t errstr_size)
{
        ka_registry_opts_t reg_opts = {.cancel = opts->stop};
        rd_kafka_topic_partition_list_t *subs = NULL;
        rd_kafka_queue_t *cq = NULL;
        rd_kafka_message_t *batch[BATCH_MAX];
        worker_t w = {.stop = opts->stop};
        ka_web_t *web = NULL;
        ka_err_t err = KA_ERR_INVALID;

        if (!ka_agents_count) {
                snprintf(errstr, errstr_size,
                         "no agents compiled in: run `kafkaaggregator "
                         "generate-agents`, then make");
                return KA_ERR_NOT_FOUND;
        }
        atomic_store(&w.last_poll, wall_ms());

        if (!(w.reg = ka_registry_new(opts->registry_url, &reg_opts, errstr,
                                      errstr_size)) ||
            !(w.int_reg = ka_registry_new(opts->internal_registry_url,
                                          &reg_opts, errstr, errstr_size)))
                goto out;
        err = KA_ERR_NOMEM;
        if (!(w.tracker = ka_tracker_new(free_offsets)) || !setup_agents(&w)) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        for (size_t a = 0; a < w.nagents; a++) {
                agent_rt_t *art = &w.agents[a];

                if ((err = out_schema_id(&w, art->agent, &art->out_id, errstr,
                                         errstr_size))) {
                        /* Stopped while waiting for the registry: a clean
                         * stop, nothing was consumed. */
                        if (*w.stop)
                                err = KA_OK;
                        goto out;
                }
                if (!(art->agg =
                              ka_aggregate_new(art->agent, 0, art->out_id))) {
                        err = KA_ERR_NOMEM;
                        snprintf(errstr, errstr_size, "out of memory");
                        goto out;
                }
        }
        err = KA_ERR_IO;
        if (opts->web_host &&
            !(web = ka_web_start(opts->web_host, opts->web_port, healthy, &w,
                                 errstr, errstr_size)))
                goto out;
        if (!(w.producer = new_client(&w, KA_KAFKA_PRODUCER, NULL, errstr,
                                      errstr_size)) ||
            !(w.consumer = new_client(&w, KA_KAFKA_CONSUMER, opts->group_id,
                                      errstr, errstr_size)))
                goto out;
        rd_kafka_poll_set_consumer(w.consumer);

        subs = rd_kafka_topic_partition_list_new((int)w.ntopics);
        for (size_t i = 0; i < w.ntopics; i++)
                rd_kafka_topic_partition_list_add(subs, w.topics[i].name,
                                                  RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(w.consumer, subs)) {
                snprintf(errstr, errstr_size,
                         "cannot subscribe to the source topics");
                goto out;
        }
        if (web)
                ka_info("worker: %zu agents over %zu source topics, web on "
                        "http://%s:%u/metrics",
                        w.nagents, w.ntopics, opts->web_host,
                        (unsigned)ka_web_port(web));
        else
                ka_info("worker: %zu agents over %zu source topics", w.nagents,
                        w.ntopics);

        if (!(cq = rd_kafka_queue_get_consumer(w.consumer))) {
                snprintf(errstr, errstr_size, "cannot get the consumer queue");
                goto out;
        }
        while (!*w.stop) {
                /* What is queued, up to BATCH_MAX, without waiting; only
                 * when nothing is, a wait of up to a tick for one. */
                ssize_t n =
                        rd_kafka_consume_batch_queue(cq, 0, batch, BATCH_MAX);
                int64_t now;

                if (n <= 0) {
                        batch[0] = rd_kafka_consumer_poll(w.consumer, TICK_MS);
                        n = batch[0] != NULL;
                }
                now = wall_ms();
                atomic_store_explicit(&w.last_poll, now, memory_order_relaxed);
                if (n > 0)
                        atomic_store_explicit(&w.brokers_down, false,
                                              memory_order_relaxed);
                handle_batch(&w, batch, (size_t)n, now);
                if (now - w.last_tick >= TICK_MS)
                        tick(&w, now);
        }
        rd_kafka_queue_destroy(cq);
        cq = NULL;

        /* SIGTERM: no more consuming; deliver, commit, leave the group. */
        ka_info("worker: stopping");
        settle(&w);
        w.closing = true;
        rd_kafka_consumer_close(w.consumer);
        err = KA_OK;
        if (w.inflight_head) {
                err = KA_ERR_IO;
                snprintf(errstr, errstr_size,
                         "aggregated records still undelivered: their "
                         "offsets were not committed");
        }

out:
        if (subs)
                rd_kafka_topic_partition_list_destroy(subs);
        ka_web_stop(web);
        if (cq)
                rd_kafka_queue_destroy(cq);
        if (w.consumer)
                rd_kafka_destroy(w.consumer);
        worker_release(&w);
        if (w.producer)
                rd_kafka_destroy(w.producer);
        return err;
}
