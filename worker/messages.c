/*
 * Source messages into the windows of the agents that own their partition
 * (SPEC §6, §9). A message whose writer schema is not known yet stalls its
 * partition alone: the partition is paused and sought back to it, the
 * schema is fetched in the background (fetcher.h) with backoff, and the
 * partition resumes once the registry answered. Decode errors are counted
 * by reason and logged once a minute per topic and reason.
 */
#include "log.h"
#include "worker_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backoff of a schema id the registry failed to give, doubling. */
#define WAIT_FIRST_MS 1000
#define WAIT_MAX_MS   60000

static topic_rt_t *topic_of(worker_t *w, const rd_kafka_message_t *rkm)
{
        const char *name;

        for (size_t i = 0; i < w->ntopics; i++)
                if (w->topics[i].rkt == rkm->rkt)
                        return &w->topics[i];
        name = rd_kafka_topic_name(rkm->rkt);
        for (size_t i = 0; i < w->ntopics; i++) {
                if (!strcmp(w->topics[i].name, name)) {
                        w->topics[i].rkt = rkm->rkt;
                        return &w->topics[i];
                }
        }
        return NULL;
}

void ka_msg_decode_error(topic_rt_t *t, int32_t partition, int64_t offset,
                         ka_decode_result_t res, int64_t now)
{
        ka_metric_add(t->m_decode_errors[res], 1);
        if (t->logged_ms[res] && now - t->logged_ms[res] < KA_LOG_EVERY_MS)
                return;
        t->logged_ms[res] = now;
        ka_warn("topic %s: skipped the message at partition %d offset "
                "%" PRId64 ": %s%s (logged once a minute per topic and reason; "
                "see kafkaaggregator_decode_errors_total)",
                t->name, (int)partition, offset, ka_decode_result_name(res),
                res == KA_DECODE_TIME
                        ? ": its event time is not a number, at or before "
                          "1970-01-01, or more than max_future_seconds "
                          "ahead of this worker's clock"
                        : "");
}

/*
 * Event times a window may hold (SPEC §6): after the Unix epoch, and at
 * most the agent's max_future_ms ahead of the wall clock. One record
 * stamped in year 9999 would otherwise move its partition's watermark
 * there, and every later message would be late, after a restart too.
 */
static bool time_ok(const ka_agent_t *agent, int64_t event_ms, int64_t now)
{
        return event_ms > 0 && event_ms - now <= agent->max_future_ms;
}

static schema_wait_t *wait_of(worker_t *w, int32_t id, bool create)
{
        schema_wait_t *sw;

        for (size_t i = 0; i < w->nwaits; i++)
                if (w->waits[i].id == id)
                        return &w->waits[i];
        if (!create)
                return NULL;
        if (w->nwaits == w->waits_cap) {
                size_t cap = w->waits_cap ? w->waits_cap * 2 : 4;

                if (!(sw = realloc(w->waits, cap * sizeof(*sw))))
                        return NULL;
                w->waits = sw;
                w->waits_cap = cap;
        }
        sw = &w->waits[w->nwaits++];
        *sw = (schema_wait_t){.id = id};
        return sw;
}

/* Pauses partition p of t and seeks it back to offset: its messages are
 * read again once schema id is known. */
static void stall(worker_t *w, topic_rt_t *t, int32_t p, int64_t offset,
                  int32_t id)
{
        rd_kafka_topic_partition_list_t *list =
                rd_kafka_topic_partition_list_new(1);
        part_t *part = &t->parts[p];
        rd_kafka_error_t *error;

        rd_kafka_topic_partition_list_add(list, t->name, p)->offset = offset;
        rd_kafka_pause_partitions(w->data_rk, list);
        if ((error = rd_kafka_seek_partitions(w->data_rk, list, 0))) {
                /* The resume below seeks again. */
                ka_debug("topic %s [%d]: seek to %" PRId64 ": %s", t->name,
                         (int)p, offset, rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        rd_kafka_topic_partition_list_destroy(list);
        part->stalled = true;
        part->wait_id = id;
        part->stall_at = offset;
        part->stalled_ms = w->now;
        part->pos = offset;
        if (!wait_of(w, id, false))
                wait_of(w, id, true);
        ka_fetcher_request(w->fetcher, id);
        ka_debug("topic %s [%d]: waiting at offset %" PRId64
                 " for writer schema id %d",
                 t->name, (int)p, offset, (int)id);
}

static void resume(worker_t *w, topic_rt_t *t, int32_t p)
{
        rd_kafka_topic_partition_list_t *list =
                rd_kafka_topic_partition_list_new(1);
        part_t *part = &t->parts[p];
        rd_kafka_error_t *error;

        rd_kafka_topic_partition_list_add(list, t->name, p)->offset =
                part->stall_at;
        if ((error = rd_kafka_seek_partitions(w->data_rk, list, 0))) {
                ka_warn("topic %s [%d]: cannot seek back to offset %" PRId64
                        ": %s",
                        t->name, (int)p, part->stall_at,
                        rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        rd_kafka_resume_partitions(w->data_rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        part->stalled = false;
}

/*
 * One message to every agent owning its partition. Returns false when
 * the partition stalled at it: the rest of its partition in the batch is
 * dropped (it is read again).
 */
static bool handle(worker_t *w, const rd_kafka_message_t *rkm)
{
        topic_rt_t *t;
        part_t *part;
        int64_t ts, now = w->now;
        int32_t p = rkm->partition, id = -1;
        bool any = false;

        if (rkm->err) {
                if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                        ka_warn("consumer: %s", rd_kafka_message_errstr(rkm));
                return true;
        }
        if (!(t = topic_of(w, rkm)) || p < 0 || p >= t->npartitions)
                return true;
        part = &t->parts[p];
        /* Fetched before the partition stalled: read again later. */
        if (part->stalled || !part->assigned)
                return true;
        ts = rd_kafka_message_timestamp(rkm, NULL);
        if (ts < 0)
                ts = now;

        /* Every agent decodes first, so that a message read again after a
         * stall is added to none twice. */
        for (size_t b = 0; b < t->nbindings; b++) {
                size_t i = (size_t)p * t->nbindings + b;
                agent_rt_t *art = t->bindings[b].art;

                t->res[b] = KA_DECODE__COUNT; /* not this agent's */
                if (t->slots[i] == SIZE_MAX ||
                    (t->next[i] >= 0 && rkm->offset < t->next[i]))
                        continue;
                t->event_ms[b] = ts;
                t->res[b] = ka_decoder_decode(
                        art->decoders[t->bindings[b].source], rkm->payload,
                        rkm->len, ka_aggregate_row(art->agg, true),
                        &t->event_ms[b], &id);
                if (t->res[b] == KA_DECODE_REGISTRY) {
                        stall(w, t, p, rkm->offset, id);
                        return false;
                }
                any = true;
        }

        part->pos = rkm->offset + 1;
        if (!any)
                return true;
        t->nmsgs++;
        t->nbytes += rkm->len;
        for (size_t b = 0; b < t->nbindings; b++) {
                size_t i = (size_t)p * t->nbindings + b;
                agent_rt_t *art = t->bindings[b].art;
                ka_window_add_result_t added;

                if (t->res[b] == KA_DECODE__COUNT)
                        continue;
                t->next[i] = rkm->offset + 1;
                art->activity++;
                if (t->res[b] == KA_DECODE_OK &&
                    !time_ok(art->agent, t->event_ms[b], now))
                        t->res[b] = KA_DECODE_TIME;
                if (t->res[b] != KA_DECODE_OK) {
                        ka_msg_decode_error(t, p, rkm->offset, t->res[b], now);
                        continue;
                }
                added = ka_windows_add(ka_aggregate_windows(art->agg),
                                       t->slots[i], rkm->offset, t->event_ms[b],
                                       rkm->key, rkm->key_len,
                                       ka_aggregate_row(art->agg, false));
                if (added == KA_WINDOW_LATE)
                        ka_debug("%s: late message from %s [%d] at offset "
                                 "%" PRId64 " (event time %" PRId64
                                 " ms): its window is closed",
                                 art->agent->name, t->name, (int)p,
                                 (int64_t)rkm->offset, t->event_ms[b]);
                else if (added == KA_WINDOW_INVALID)
                        ka_msg_decode_error(t, p, rkm->offset, KA_DECODE_TIME,
                                            now);
                else if (added == KA_WINDOW_NOMEM)
                        ka_crit("%s: out of memory adding a message",
                                art->agent->name);
        }
        return true;
}

void ka_msg_handle_batch(worker_t *w, rd_kafka_message_t **batch, size_t n)
{
        const rd_kafka_message_t *again[64];
        size_t nagain = 0;

        for (size_t i = 0; i < n; i++) {
                rd_kafka_message_t *rkm = batch[i];
                bool skip = false;

                for (size_t k = 0; k < nagain && !skip; k++)
                        skip = again[k]->rkt == rkm->rkt &&
                               again[k]->partition == rkm->partition;
                if (!skip && !handle(w, rkm) && nagain < KA_ARRAY_SIZE(again))
                        again[nagain++] = rkm;
        }
        for (size_t i = 0; i < n; i++)
                rd_kafka_message_destroy(batch[i]);
}

/* Counts a registry failure and says it, once a minute per id. */
static void registry_failed(worker_t *w, schema_wait_t *sw, ka_err_t err,
                            const char *errstr)
{
        size_t reason = (size_t)err <= KA_ERR_AUTH ? (size_t)err : 0;

        ka_metric_add(w->m_registry_errors[reason], 1);
        sw->backoff_ms = sw->backoff_ms ? sw->backoff_ms * 2 : WAIT_FIRST_MS;
        if (sw->backoff_ms > WAIT_MAX_MS)
                sw->backoff_ms = WAIT_MAX_MS;
        sw->retry_ms = w->now + sw->backoff_ms;
        /* Once a minute, and whenever the kind of failure changes. */
        if (sw->logged_ms && err == sw->logged_err &&
            w->now - sw->logged_ms < KA_LOG_EVERY_MS)
                return;
        sw->logged_ms = w->now;
        sw->logged_err = err;
        if (err == KA_ERR_AUTH)
                ka_error("writer schema id %d: the schema registry refused "
                         "the credentials; check the user and password in "
                         "SCHEMA_REGISTRY_URL: %s (its partitions wait; "
                         "retrying every %" PRId64 " s)",
                         (int)sw->id, errstr, sw->backoff_ms / 1000);
        else
                ka_warn("writer schema id %d: %s (its partitions wait; "
                        "retrying in %" PRId64 " s; logged once a minute)",
                        (int)sw->id, errstr, sw->backoff_ms / 1000);
}

void ka_msg_check_stalls(worker_t *w)
{
        int stalled_long = 0;

        for (size_t k = 0; k < w->nwaits;) {
                schema_wait_t *sw = &w->waits[k];
                char errstr[512] = "";
                ka_err_t err = KA_OK;
                ka_fetch_state_t st = ka_fetcher_state(w->fetcher, sw->id, &err,
                                                       errstr, sizeof(errstr));
                bool done = st == KA_FETCH_DONE ||
                            (st == KA_FETCH_FAILED && err == KA_ERR_NOT_FOUND);

                if (st == KA_FETCH_FAILED && !done) {
                        if (!sw->retry_ms)
                                registry_failed(w, sw, err, errstr);
                        else if (sw->retry_ms <= w->now) {
                                sw->retry_ms = 0;
                                ka_fetcher_request(w->fetcher, sw->id);
                        }
                }
                if (!done) {
                        k++;
                        continue;
                }
                if (st == KA_FETCH_FAILED) {
                        ka_metric_add(w->m_registry_errors[KA_ERR_NOT_FOUND],
                                      1);
                        ka_warn("writer schema id %d: %s: its messages are "
                                "skipped as decode errors (reason schema)",
                                (int)sw->id, errstr);
                }
                /* Resume every partition that waited for it. */
                for (size_t i = 0; i < w->ntopics; i++) {
                        topic_rt_t *t = &w->topics[i];

                        for (int32_t p = 0; p < t->npartitions; p++) {
                                if (!t->parts[p].stalled ||
                                    t->parts[p].wait_id != sw->id)
                                        continue;
                                for (size_t b = 0;
                                     st == KA_FETCH_FAILED && b < t->nbindings;
                                     b++)
                                        ka_decoder_unknown_id(
                                                t->bindings[b].art->decoders
                                                        [t->bindings[b].source],
                                                sw->id);
                                resume(w, t, p);
                        }
                }
                w->waits[k] = w->waits[--w->nwaits];
        }
        for (size_t i = 0; i < w->ntopics; i++)
                for (int32_t p = 0; p < w->topics[i].npartitions; p++)
                        stalled_long +=
                                w->topics[i].parts[p].stalled &&
                                w->now - w->topics[i].parts[p].stalled_ms >=
                                        w->ready_stall_ms;
        atomic_store(&w->stalled, stalled_long);
}

/*
 * Each owned slot reported to its windows (caught up or not, for
 * idleness), and the per-agent partition gauges: lag, idle, stalled.
 * librdkafka looks partitions up by topic name, a walk over hundreds of
 * topics each, so a partition that delivered messages since the last
 * report is not looked up (it is not idle: a message arrived) but every
 * KA_LAG_MS, for its lag gauge.
 */
void ka_msg_report_partitions(worker_t *w)
{
        rd_kafka_topic_partition_list_t *pos =
                rd_kafka_topic_partition_list_new(64);
        bool lag_due = w->now - w->last_lag >= KA_LAG_MS;
        int k = 0;

        if (lag_due)
                w->last_lag = w->now;
        for (size_t i = 0; i < w->ntopics; i++) {
                for (int32_t p = 0; p < w->topics[i].npartitions; p++) {
                        part_t *part = &w->topics[i].parts[p];

                        part->looked_up =
                                part->assigned &&
                                (lag_due || part->pos == part->reported_pos);
                        part->reported_pos = part->pos;
                        if (part->looked_up)
                                rd_kafka_topic_partition_list_add(
                                        pos, w->topics[i].name, p);
                }
        }
        /* The application position counts transactional control records,
         * which a message offset never reaches. Read back in the order
         * added. */
        if (pos->cnt)
                rd_kafka_position(w->data_rk, pos);
        for (size_t i = 0; i < w->ntopics; i++)
                for (int32_t p = 0; p < w->topics[i].npartitions; p++)
                        if (w->topics[i].parts[p].looked_up)
                                w->topics[i].parts[p].app_pos =
                                        pos->elems[k++].offset;
        rd_kafka_topic_partition_list_destroy(pos);

        for (size_t a = 0; a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];
                ka_windows_t *win;
                int idle = 0, stalled = 0;

                if (art->state != AGENT_RUNNING && art->state != AGENT_PARKED)
                        continue;
                win = ka_aggregate_windows(art->agg);
                for (size_t s = 0; s < art->nslots; s++) {
                        topic_rt_t *t = art->slot_topic[s];
                        int32_t p = art->slot_partition[s];
                        int64_t lo = -1, hi = -1, at = t->parts[p].pos;
                        size_t b = 0;
                        bool caught_up = false;

                        stalled += t->parts[p].stalled;
                        if (!t->parts[p].looked_up) {
                                idle += ka_windows_partition_idle(win, s, false,
                                                                  w->now);
                                continue;
                        }
                        while (b < t->nbindings && t->bindings[b].art != art)
                                b++;
                        if (t->parts[p].app_pos > at)
                                at = t->parts[p].app_pos;
                        if (t->next[(size_t)p * t->nbindings + b] > at)
                                at = t->next[(size_t)p * t->nbindings + b];
                        rd_kafka_get_watermark_offsets(w->data_rk, t->name, p,
                                                       &lo, &hi);
                        caught_up = hi >= 0 && (at >= 0 ? at >= hi : lo == hi);
                        idle += ka_windows_partition_idle(win, s, caught_up,
                                                          w->now);
                        if (hi >= 0 && at >= 0 && t->parts[p].m_lag)
                                ka_metric_set(t->parts[p].m_lag[b],
                                              (double)(hi > at ? hi - at : 0));
                }
                ka_metric_set(art->m_idle, idle);
                ka_metric_set(art->m_stalled, stalled);
        }
}
