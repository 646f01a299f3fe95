/*
 * Closed windows out to Kafka (SPEC §8, §10): each aggregated record is
 * copied, numbered by its agent's tracker and handed to the producer; a
 * delivery report acknowledges it. Transient failures are produced again
 * with backoff; a permanent one (a record larger than the broker takes, a
 * topic the worker may not write) is counted, logged, and then, by the
 * KA_PRODUCE_ERROR_POLICY, skipped (the default: that window is missing
 * from the output, the agent's commits go on) or retried with backoff
 * (`stall`: the agent's commits wait, other agents go on).
 */
#include "log.h"
#include "worker_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backoff of a record produced again, doubling up to the maximum. */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS   60000

static void unlink_record(worker_t *w, inflight_t *f)
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

/* Done with f: acknowledged, or given up by the skip policy. */
static void finish(worker_t *w, inflight_t *f)
{
        if (f->epoch == f->art->epoch)
                ka_tracker_acked(f->art->tracker, f->seq);
        unlink_record(w, f);
}

/* Errors no retry can mend: the record or the topic is refused. */
static bool permanent(rd_kafka_resp_err_t err)
{
        switch (err) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_INVALID_MSG:
        case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
        case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_INVALID_RECORD:
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
        case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
        case RD_KAFKA_RESP_ERR__INVALID_ARG:
                return true;
        default:
                return false;
        }
}

/* The cause label: librdkafka's error name in lower case. */
static ka_metric_t *error_metric(const agent_rt_t *art, rd_kafka_resp_err_t err)
{
        char cause[64], labels[400], la[300], lc[96];
        const char *name = rd_kafka_err2name(err);
        size_t i;

        while (*name == '_')
                name++;
        for (i = 0; i < sizeof(cause) - 1 && name[i]; i++)
                cause[i] = (char)tolower((unsigned char)name[i]);
        cause[i] = '\0';
        ka_metrics_label(la, sizeof(la), "aggregated_topic", art->agent->name);
        ka_metrics_label(lc, sizeof(lc), "cause", cause);
        snprintf(labels, sizeof(labels), "%s,%s", la, lc);
        return ka_metrics_get("kafkaaggregator_produce_errors_total",
                              "Aggregated records the producer failed to "
                              "deliver, by cause",
                              KA_METRIC_COUNTER, labels);
}

static void schedule_retry(worker_t *w, inflight_t *f)
{
        f->queued = false;
        f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 : RETRY_FIRST_MS;
        if (f->backoff_ms > RETRY_MAX_MS)
                f->backoff_ms = RETRY_MAX_MS;
        f->retry_ms = w->now + f->backoff_ms;
}

/* A failed attempt at f: counted, logged, and retried or given up. */
static void failed(worker_t *w, inflight_t *f, rd_kafka_resp_err_t err)
{
        bool perm = permanent(err);
        bool skip = perm && !w->stall_on_permanent;

        ka_metric_add(error_metric(f->art, err), 1);
        /* Once a minute per agent: the count is in the metric. */
        if (!f->art->produce_logged_ms ||
            w->now - f->art->produce_logged_ms >= KA_LOG_EVERY_MS) {
                f->art->produce_logged_ms = w->now;
                ka_log(perm ? KA_LOG_ERROR : KA_LOG_WARN,
                       "%s: the aggregated record of window (%.3f, %.3f) was "
                       "not delivered: %s%s (logged once a minute per agent; "
                       "kafkaaggregator_produce_errors_total counts each)",
                       f->art->agent->name,
                       (double)(f->end_ms - f->art->agent->window_ms) / 1000,
                       (double)f->end_ms / 1000, rd_kafka_err2str(err),
                       skip   ? "; a permanent error: the window is dropped "
                                "(KA_PRODUCE_ERROR_POLICY=skip)"
                       : perm ? "; a permanent error: retrying, the agent's "
                                "commits wait (KA_PRODUCE_ERROR_POLICY=stall)"
                              : "; retrying");
        }
        if (skip || f->epoch != f->art->epoch)
                finish(w, f); /* a released agent's record: its new owner
                               * emits it again from the committed progress */
        else
                schedule_retry(w, f);
}

/* Hands f to the producer; a full queue is tried again next round. */
static void produce(worker_t *w, inflight_t *f)
{
        rd_kafka_resp_err_t err = rd_kafka_producev(
                w->producer, RD_KAFKA_V_TOPIC(f->art->agent->name),
                RD_KAFKA_V_VALUE(f->value, f->len),
                RD_KAFKA_V_KEY(f->key, f->keylen),
                RD_KAFKA_V_TIMESTAMP(f->end_ms),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(f),
                RD_KAFKA_V_END);

        if (!err) {
                f->queued = true;
        } else if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                f->queued = false;
                f->retry_ms = w->now + KA_TICK_MS;
        } else {
                failed(w, f, err);
        }
}

void ka_emit_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                      void *opaque)
{
        worker_t *w = opaque;
        inflight_t *f = rkm->_private;

        (void)rk;
        if (!f)
                return;
        if (rkm->err)
                failed(w, f, rkm->err);
        else
                finish(w, f);
}

void ka_emit_retry(worker_t *w)
{
        for (inflight_t *f = w->inflight_head, *next; f; f = next) {
                next = f->next;
                if (f->queued || f->retry_ms > w->now)
                        continue;
                if (f->epoch != f->art->epoch)
                        finish(w, f);
                else
                        produce(w, f);
        }
}

void ka_emit_release(worker_t *w)
{
        while (w->inflight_head)
                unlink_record(w, w->inflight_head);
}

typedef struct emit_ctx_s {
        worker_t *w;
        agent_rt_t *art;
} emit_ctx_t;

static void on_emit(const ka_aggregate_out_t *out, void *opaque)
{
        emit_ctx_t *ctx = opaque;
        worker_t *w = ctx->w;
        agent_rt_t *art = ctx->art;
        inflight_t *f = calloc(1, sizeof(*f));
        int64_t start = ka_window_start_ms(out->win);
        int64_t end = ka_window_end_ms(out->win);

        if (!f || !(f->value = malloc(out->len)) ||
            (out->key && !(f->key = malloc(out->keylen ? out->keylen : 1)))) {
                /* Not lost for good: the agent's commits stop short of it
                 * (see ka_tracker_emitted()), so it is emitted again after
                 * a restart. */
                ka_crit("%s: out of memory: window (%.3f, %.3f) not produced",
                        art->agent->name, (double)start / 1000,
                        (double)end / 1000);
                if (f)
                        free(f->value);
                free(f);
                ka_tracker_emitted(art->tracker);
                return;
        }
        memcpy(f->value, out->value, out->len);
        f->len = out->len;
        if (out->key) {
                memcpy(f->key, out->key, out->keylen);
                f->keylen = out->keylen;
        }
        f->art = art;
        f->epoch = art->epoch;
        f->seq = ka_tracker_emitted(art->tracker);
        f->end_ms = end;
        f->prev = w->inflight_tail;
        if (w->inflight_tail)
                w->inflight_tail->next = f;
        else
                w->inflight_head = f;
        w->inflight_tail = f;

        ka_info("%5zu messages aggregated on %s (%.3f, %.3f).",
                ka_window_count(out->win), art->agent->name,
                (double)start / 1000, (double)end / 1000);
        ka_metric_add(art->m_emitted, 1);
        ka_metric_observe(art->m_latency, (double)(w->now - end) / 1000);
        produce(w, f);
}

void ka_emit_close(worker_t *w, agent_rt_t *art)
{
        emit_ctx_t ctx = {w, art};

        if (ka_aggregate_close(art->agg, w->now, on_emit, &ctx))
                art->activity++;
}
