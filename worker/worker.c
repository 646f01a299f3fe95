/*
 * The worker (SPEC §9-§11): set-up, the loop and the shutdown. Three
 * Kafka clients: the lease consumer, a member of the KAFKA_GROUP_ID group
 * on `<group>.agents` that decides which agents run here (ownership.c);
 * the data consumer, which reads the source partitions of those agents by
 * manual assignment (messages.c); and the producer of aggregated records
 * (emitter.c). Offsets are committed as each agent's progress once
 * everything it covers was produced and acknowledged (at least once, no
 * loss: SPEC §10).
 *
 * The HTTP endpoints are served from the start: /health says whether the
 * loop runs and the brokers answer, /ready whether the agents are set up,
 * the leases assigned and no partition waits long for a schema.
 */
#include "agents.h"
#include "kafka.h"
#include "log.h"
#include "web.h"
#include "worker_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Messages taken from the consumer queue at once, at most. */
#define BATCH_MAX 256
/* SIGTERM: everything done within 10 s (SPEC §10): deliveries may take 6,
 * the last commit 2, leaving the group 1.5; the watchdog ends the process
 * at 10 whatever hangs. */
#define FLUSH_MS        6000
#define FINAL_COMMIT_MS 2000
#define CLOSE_MS        1500
#define WATCHDOG_MS     10000
/* The loop counts as stalled after this long without a poll. */
#define LOOP_STALL_MS 5000

int64_t ka_worker_wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
        nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000}, NULL);
}

/* ---- what the web thread asks ---- */

static bool health(void *opaque, char *why, size_t why_size)
{
        worker_t *w = opaque;
        int64_t idle = ka_worker_wall_ms() - atomic_load(&w->last_poll);

        if (idle >= LOOP_STALL_MS) {
                snprintf(why, why_size,
                         "the worker's loop has not run for %" PRId64 " ms",
                         idle);
                return false;
        }
        if (atomic_load(&w->brokers_down)) {
                snprintf(why, why_size, "no Kafka broker is reachable");
                return false;
        }
        return true;
}

static bool ready(void *opaque, char *why, size_t why_size)
{
        worker_t *w = opaque;
        int n;

        if (!atomic_load(&w->setup_done)) {
                snprintf(why, why_size,
                         "setting up: aggregated schemas, lease topic");
                return false;
        }
        if (!atomic_load(&w->lease_assigned)) {
                snprintf(why, why_size, "waiting for a lease assignment");
                return false;
        }
        if ((n = atomic_load(&w->starting))) {
                snprintf(why, why_size, "%d agents starting", n);
                return false;
        }
        if ((n = atomic_load(&w->stalled))) {
                snprintf(why, why_size,
                         "%d partitions wait for a writer schema from the "
                         "registry for more than %d s",
                         n, (int)(w->ready_stall_ms / 1000));
                return false;
        }
        return health(opaque, why, why_size);
}

/* `agents --json` rows, each with "owned" and "lease". */
static char *agents_json(void *opaque)
{
        worker_t *w = opaque;
        json_t *rows = ka_agents_rows(), *row;
        size_t i, a = 0, s = 0;
        char *text;

        if (!rows)
                return NULL;
        /* One row per source of each agent, in table order; no ownership
         * until the agents are set up (this runs from the start). */
        json_array_foreach(rows, i, row)
        {
                bool set_up = atomic_load(&w->agents_ready);

                while (a < ka_agents_count && s >= ka_agents[a]->nsources) {
                        a++;
                        s = 0;
                }
                if (a == ka_agents_count || !set_up)
                        break;
                json_object_set_new(
                        row, "owned",
                        json_boolean(atomic_load(&w->agents[a].owned)));
                /* Leases are dealt out once the lease topic is known. */
                if (atomic_load(&w->setup_done))
                        json_object_set_new(row, "lease",
                                            json_integer(w->agents[a].lease));
                s++;
        }
        text = json_dumps(rows, JSON_COMPACT);
        json_decref(rows);
        return text;
}

/* ---- librdkafka callbacks ---- */

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        worker_t *w = opaque;

        (void)rk;
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                atomic_store(&w->brokers_down, true);
        /* Connection failures are in librdkafka's own log lines already
         * (ka_kafka_log). */
        if (err != RD_KAFKA_RESP_ERR__TRANSPORT)
                ka_warn("kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/*
 * The lease consumer's statistics, each second: whether any broker is up
 * (librdkafka signals when all are down, never when one comes back).
 */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        worker_t *w = opaque;
        json_t *root = json_loadb(json, len, 0, NULL), *b;
        const char *name;
        bool up = false;

        (void)rk;
        json_object_foreach(json_object_get(root, "brokers"), name, b)
        {
                json_int_t id =
                        json_integer_value(json_object_get(b, "nodeid"));
                const char *state =
                        json_string_value(json_object_get(b, "state"));

                up |= id >= 0 && state && !strcmp(state, "UP");
        }
        if (root)
                atomic_store(&w->brokers_down, !up);
        json_decref(root);
        return 0; /* json is librdkafka's to free */
}

/* ---- set-up ---- */

static ka_metric_t *labelled(const char *name, const char *help,
                             ka_metric_kind_t kind, const char *key,
                             const char *value)
{
        char labels[300];

        ka_metrics_label(labels, sizeof(labels), key, value);
        return ka_metrics_get(name, help, kind, labels);
}

static bool agent_metrics(agent_rt_t *art)
{
        static const double bounds[] = {0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                        5,    10,  30,   60,  120, 300};
        const char *n = art->agent->name, *k = "aggregated_topic";
        char labels[300];

        ka_metrics_label(labels, sizeof(labels), k, n);
        art->m_late = labelled("kafkaaggregator_late_messages_total",
                               "Messages dropped because their window had "
                               "closed",
                               KA_METRIC_COUNTER, k, n);
        art->m_replayed = labelled("kafkaaggregator_replayed_messages_total",
                                   "Messages of windows emitted before a "
                                   "restart or takeover",
                                   KA_METRIC_COUNTER, k, n);
        art->m_open = labelled("kafkaaggregator_open_windows",
                               "Windows open now", KA_METRIC_GAUGE, k, n);
        art->m_emitted = labelled("kafkaaggregator_emitted_windows_total",
                                  "Aggregated records produced",
                                  KA_METRIC_COUNTER, k, n);
        art->m_latency = ka_metrics_histogram(
                "kafkaaggregator_emit_latency_seconds",
                "Wall-clock time from a window's end to its record's emit",
                labels, bounds, KA_ARRAY_SIZE(bounds));
        art->m_owned = labelled("kafkaaggregator_agent_owned",
                                "1 while this worker owns the agent",
                                KA_METRIC_GAUGE, k, n);
        art->m_watermark = labelled("kafkaaggregator_watermark_seconds",
                                    "The agent's event-time watermark, Unix "
                                    "seconds",
                                    KA_METRIC_GAUGE, k, n);
        art->m_time_lag = labelled("kafkaaggregator_event_time_lag_seconds",
                                   "Wall clock minus the agent's event-time "
                                   "watermark",
                                   KA_METRIC_GAUGE, k, n);
        art->m_commit_age =
                labelled("kafkaaggregator_last_commit_age_seconds",
                         "Seconds since this worker last committed the agent's "
                         "progress (or took the agent over)",
                         KA_METRIC_GAUGE, k, n);
        art->m_idle = labelled("kafkaaggregator_idle_partitions",
                               "Source partitions of the agent that are idle",
                               KA_METRIC_GAUGE, k, n);
        art->m_stalled = labelled("kafkaaggregator_stalled_partitions",
                                  "Source partitions of the agent waiting for "
                                  "a writer schema",
                                  KA_METRIC_GAUGE, k, n);
        return art->m_late && art->m_replayed && art->m_open &&
               art->m_emitted && art->m_latency && art->m_owned &&
               art->m_watermark && art->m_time_lag && art->m_commit_age &&
               art->m_idle && art->m_stalled;
}

static bool topic_metrics(topic_rt_t *t)
{
        char labels[400], lt[300], lr[64];

        ka_metrics_label(lt, sizeof(lt), "source_topic", t->name);
        t->m_messages = ka_metrics_get("kafkaaggregator_messages_total",
                                       "Messages consumed from source topics",
                                       KA_METRIC_COUNTER, lt);
        t->m_bytes = ka_metrics_get("kafkaaggregator_bytes_total",
                                    "Payload bytes consumed from source topics",
                                    KA_METRIC_COUNTER, lt);
        for (int r = 1; r < KA_DECODE__COUNT; r++) {
                /* Waiting for the registry delays a message, never skips
                 * it: no decode error of that kind. */
                if (r == KA_DECODE_REGISTRY)
                        continue;
                ka_metrics_label(lr, sizeof(lr), "reason",
                                 ka_decode_result_name((ka_decode_result_t)r));
                snprintf(labels, sizeof(labels), "%s,%s", lt, lr);
                t->m_decode_errors[r] =
                        ka_metrics_get("kafkaaggregator_decode_errors_total",
                                       "Source messages skipped as undecodable",
                                       KA_METRIC_COUNTER, labels);
        }
        return t->m_messages && t->m_bytes;
}

static bool worker_metrics(worker_t *w)
{
        static const char *const reasons[] = {
                [KA_ERR_TRANSPORT] = "transport",
                [KA_ERR_NOT_FOUND] = "not_found",
                [KA_ERR_AUTH] = "auth",
                [KA_ERR_INVALID] = "invalid",
        };

        w->m_rebalances = ka_metrics_get("kafkaaggregator_rebalances_total",
                                         "Lease assignments and revocations",
                                         KA_METRIC_COUNTER, "");
        w->m_commits_ok = labelled("kafkaaggregator_commits_total",
                                   "Progress commits, by result",
                                   KA_METRIC_COUNTER, "result", "ok");
        w->m_commits_failed = labelled("kafkaaggregator_commits_total",
                                       "Progress commits, by result",
                                       KA_METRIC_COUNTER, "result", "failed");
        w->m_ready = ka_metrics_get("kafkaaggregator_ready",
                                    "1 when /ready answers 200",
                                    KA_METRIC_GAUGE, "");
        /* Any other error counts as invalid. */
        for (size_t r = 0; r < KA_ARRAY_SIZE(w->m_registry_errors); r++)
                w->m_registry_errors[r] = labelled(
                        "kafkaaggregator_registry_errors_total",
                        "Failed Schema Registry lookups of writer schemas, "
                        "by reason",
                        KA_METRIC_COUNTER, "reason",
                        r < KA_ARRAY_SIZE(reasons) && reasons[r] ? reasons[r]
                                                                 : "invalid");
        ka_metric_set(labelled("kafkaaggregator_build_info",
                               "The version of this build (always 1)",
                               KA_METRIC_GAUGE, "version", KA_VERSION),
                      1);
        return w->m_rebalances && w->m_commits_ok && w->m_commits_failed &&
               w->m_ready;
}

static void free_progress(void *p)
{
        ka_progress_destroy(p);
}

static bool setup_agents(worker_t *w)
{
        size_t maxsrc = 0;

        w->nagents = ka_agents_count;
        w->agents = calloc(w->nagents + 1, sizeof(*w->agents));
        for (size_t a = 0; a < w->nagents; a++)
                maxsrc += ka_agents[a]->nsources;
        w->topics = calloc(maxsrc + 1, sizeof(*w->topics));
        if (!w->agents || !w->topics || !worker_metrics(w))
                return false;

        for (size_t a = 0; a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];
                const ka_agent_t *agent = ka_agents[a];

                art->agent = agent;
                art->index = a;
                atomic_init(&art->owned, false);
                art->decoders =
                        calloc(agent->nsources + 1, sizeof(*art->decoders));
                art->src_topic =
                        calloc(agent->nsources + 1, sizeof(*art->src_topic));
                art->src_binding =
                        calloc(agent->nsources + 1, sizeof(*art->src_binding));
                if (!art->decoders || !art->src_topic || !art->src_binding ||
                    !(art->tracker = ka_tracker_new(free_progress)) ||
                    !agent_metrics(art))
                        return false;
                for (size_t s = 0; s < agent->nsources; s++) {
                        const char *name = agent->sources[s].topic;
                        topic_rt_t *t = NULL;
                        binding_t *nb;

                        for (size_t i = 0; i < w->ntopics && !t; i++)
                                if (!strcmp(w->topics[i].name, name))
                                        t = &w->topics[i];
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
                        art->src_topic[s] = t;
                        art->src_binding[s] = t->nbindings;
                        t->bindings[t->nbindings++] =
                                (binding_t){.art = art, .source = s};
                }
        }
        for (size_t i = 0; i < w->ntopics; i++) {
                topic_rt_t *t = &w->topics[i];

                t->res = calloc(t->nbindings, sizeof(*t->res));
                t->event_ms = calloc(t->nbindings, sizeof(*t->event_ms));
                if (!t->res || !t->event_ms || !topic_metrics(t))
                        return false;
        }
        return true;
}

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
                atomic_store(&w->last_poll, ka_worker_wall_ms());
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
                for (long t = 0; t < backoff && !*w->stop; t += 100) {
                        atomic_store(&w->last_poll, ka_worker_wall_ms());
                        sleep_ms(100);
                }
                if (backoff < 30000)
                        backoff *= 2;
        }
        snprintf(errstr, errstr_size, "%s: stopped", subject);
        return KA_ERR_TRANSPORT;
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
        if (group_id &&
            ka_kafka_set(conf, "group.id", group_id, errstr, errstr_size)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        if (role == KA_KAFKA_LEASE) {
                char strategy[128] = "";
                size_t size = sizeof(strategy);

                rd_kafka_conf_get(conf, "partition.assignment.strategy",
                                  strategy, &size);
                w->lease_cooperative = strstr(strategy, "cooperative") != NULL;
                ka_info("leases: assignor %s (%s rebalancing)", strategy,
                        w->lease_cooperative ? "incremental" : "eager");
                rd_kafka_conf_set_rebalance_cb(conf, ka_own_rebalance);
                rd_kafka_conf_set_offset_commit_cb(conf, ka_own_offset_commit);
                rd_kafka_conf_set_stats_cb(conf, on_stats);
        } else if (role == KA_KAFKA_PRODUCER) {
                rd_kafka_conf_set_dr_msg_cb(conf, ka_emit_delivery);
        }
        rk = rd_kafka_new(role == KA_KAFKA_PRODUCER ? RD_KAFKA_PRODUCER
                                                    : RD_KAFKA_CONSUMER,
                          conf, errstr, errstr_size);
        if (!rk)
                rd_kafka_conf_destroy(conf);
        return rk;
}

/* ---- the loop ---- */

/* Each tick: what was consumed (a store each, so that /metrics follows
 * the consumer closely). */
static void update_counters(worker_t *w)
{
        for (size_t i = 0; i < w->ntopics; i++) {
                topic_rt_t *t = &w->topics[i];

                ka_metric_set(t->m_messages, (double)t->nmsgs);
                ka_metric_set(t->m_bytes, (double)t->nbytes);
        }
}

/* With each commit: the agents' gauges, read from their windows. */
static void update_metrics(worker_t *w)
{
        for (size_t a = 0; a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];
                ka_windows_t *win = ka_aggregate_windows(art->agg);
                ka_windows_stats_t st;
                int64_t wm;

                if (art->state != AGENT_RUNNING)
                        continue;
                ka_windows_stats(win, &st);
                /* The windows' counters restart with each ownership. */
                if (st.late < art->last.late ||
                    st.replayed < art->last.replayed)
                        art->last = (ka_windows_stats_t){0};
                ka_metric_add(art->m_late, (double)(st.late - art->last.late));
                ka_metric_add(art->m_replayed,
                              (double)(st.replayed - art->last.replayed));
                ka_metric_set(art->m_open, (double)st.open);
                art->last = st;
                wm = ka_windows_watermark(win, w->now);
                if (wm != INT64_MIN && wm != INT64_MAX) {
                        ka_metric_set(art->m_watermark, (double)wm / 1000);
                        ka_metric_set(art->m_time_lag,
                                      (double)(w->now - wm) / 1000);
                }
                ka_metric_set(art->m_commit_age,
                              (double)(w->now - art->committed_ms) / 1000);
        }
}

static void tick(worker_t *w)
{
        char why[256];
        bool report = w->now - w->last_report >= KA_REPORT_MS, commit;

        /* Lease events (assignments, commit results, statistics). */
        for (rd_kafka_message_t *rkm;
             (rkm = rd_kafka_consumer_poll(w->lease_rk, 0));) {
                if (rkm->err)
                        ka_warn("lease group: %s",
                                rd_kafka_message_errstr(rkm));
                rd_kafka_message_destroy(rkm);
        }
        rd_kafka_poll(w->producer, 0);
        ka_emit_retry(w);
        ka_own_start_agents(w);
        ka_msg_check_stalls(w);
        if (report) {
                ka_msg_report_partitions(w);
                w->last_report = w->now;
        }
        commit = w->now - w->last_commit >= KA_COMMIT_MS;
        for (size_t a = 0; a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];

                if (art->state != AGENT_RUNNING)
                        continue;
                if (!w->rebalancing)
                        ka_emit_close(w, art);
                /* Snapshots only for the commit: one taken each tick
                 * would cost an allocation per active agent 20 times a
                 * second, to be replaced by the next before it is ever
                 * committed. */
                if (commit)
                        ka_own_snapshot(w, art);
        }
        if (commit) {
                ka_own_commit(w, false);
                update_metrics(w);
                w->last_commit = w->now;
        }
        update_counters(w);
        ka_metric_set(w->m_ready, ready(w, why, sizeof(why)));
        w->last_tick = w->now;
}

/* Ends the process when the shutdown hangs anyway (a broker that stalls
 * inside a librdkafka call that takes no timeout). */
static void *watchdog(void *opaque)
{
        _Atomic bool *done = opaque;

        for (long t = 0; t < WATCHDOG_MS && !atomic_load(done); t += 50)
                sleep_ms(50);
        if (!atomic_load(done)) {
                ka_error("worker: shutdown did not finish within %d s; "
                         "exiting",
                         WATCHDOG_MS / 1000);
                _exit(1);
        }
        return NULL;
}

/*
 * SIGTERM: no more consuming; deliveries waited for, the progress of every
 * owned agent committed, the group left, each step bounded. A second
 * signal cuts the waits short.
 */
static ka_err_t shut_down(worker_t *w, char *errstr, size_t errstr_size)
{
        int64_t deadline = ka_worker_wall_ms() + FLUSH_MS;
        rd_kafka_queue_t *q;
        size_t undelivered = 0;

        ka_info("worker: stopping");
        while (rd_kafka_outq_len(w->producer) > 0 && *w->stop < 2 &&
               ka_worker_wall_ms() < deadline)
                rd_kafka_flush(w->producer, 100);
        w->now = ka_worker_wall_ms();
        for (size_t a = 0; a < w->nagents; a++)
                if (w->agents[a].state == AGENT_RUNNING)
                        ka_own_snapshot(w, &w->agents[a]);
        ka_own_commit(w, true);
        deadline = ka_worker_wall_ms() + FINAL_COMMIT_MS;
        /* The commit's result comes through the consumer's poll. */
        while (*w->stop < 2 && ka_worker_wall_ms() < deadline) {
                bool pending = false;
                rd_kafka_message_t *rkm =
                        rd_kafka_consumer_poll(w->lease_rk, 50);

                if (rkm)
                        rd_kafka_message_destroy(rkm);
                for (size_t a = 0; a < w->nagents && !pending; a++)
                        pending = w->agents[a].state == AGENT_RUNNING &&
                                  w->agents[a].committed_ms < w->now;
                if (!pending)
                        break;
        }
        w->closing = true;
        if ((q = rd_kafka_queue_new(w->lease_rk))) {
                rd_kafka_error_t *error =
                        rd_kafka_consumer_close_queue(w->lease_rk, q);

                deadline = ka_worker_wall_ms() + CLOSE_MS;
                /* The revocation comes through the callbacks served here;
                 * the group does not let go until it is handled. */
                while (!error && !rd_kafka_consumer_closed(w->lease_rk) &&
                       *w->stop < 2 && ka_worker_wall_ms() < deadline)
                        rd_kafka_queue_poll_callback(q, 50);
                if (error)
                        rd_kafka_error_destroy(error);
                rd_kafka_queue_destroy(q);
        }
        ka_own_release_all(w);
        for (inflight_t *f = w->inflight_head; f; f = f->next)
                undelivered++;
        if (undelivered) {
                snprintf(errstr, errstr_size,
                         "%zu aggregated records undelivered at the stop: "
                         "their progress was not committed, so their windows "
                         "are emitted again",
                         undelivered);
                return KA_ERR_IO;
        }
        return KA_OK;
}

static void worker_release(worker_t *w)
{
        ka_emit_release(w);
        ka_fetcher_destroy(w->fetcher);
        for (size_t a = 0; w->agents && a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];

                for (size_t s = 0; art->decoders && s < art->agent->nsources;
                     s++)
                        ka_decoder_destroy(art->decoders[s]);
                free(art->decoders);
                free(art->src_topic);
                free(art->src_binding);
                ka_aggregate_destroy(art->agg);
                ka_tracker_destroy(art->tracker);
                ka_progress_destroy(art->safe);
                free(art->slot_topic);
                free(art->slot_partition);
        }
        for (size_t i = 0; w->topics && i < w->ntopics; i++) {
                topic_rt_t *t = &w->topics[i];

                for (int32_t p = 0; p < t->npartitions; p++)
                        free(t->parts[p].m_lag);
                free(t->bindings);
                free(t->res);
                free(t->event_ms);
                free(t->parts);
                free(t->slots);
                free(t->next);
        }
        free(w->agents);
        free(w->topics);
        free(w->waits);
        free(w->lease_topic);
        free(w->lease_owned);
        free(w->lease_start);
        free(w->lease_members);
        ka_registry_destroy(w->reg);
        ka_registry_destroy(w->int_reg);
}

/* Destroys a client without librdkafka's own blocking close. */
static void destroy_client(rd_kafka_t *rk, bool producer)
{
        if (!rk)
                return;
        if (producer)
                rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE |
                                           RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

static ka_err_t setup(worker_t *w, char *errstr, size_t errstr_size)
{
        ka_registry_opts_t reg_opts = {.cancel = w->stop};
        char data_group[512];
        ka_err_t err;

        if (!(w->reg = ka_registry_new(w->opts->registry_url, &reg_opts, errstr,
                                       errstr_size)) ||
            !(w->int_reg = ka_registry_new(w->opts->internal_registry_url,
                                           &reg_opts, errstr, errstr_size)))
                return KA_ERR_INVALID;
        if (!setup_agents(w) || !(w->fetcher = ka_fetcher_new(w->reg))) {
                snprintf(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        atomic_store(&w->agents_ready, true);
        w->stall_on_permanent =
                !strcmp(ka_env("KA_PRODUCE_ERROR_POLICY", "skip"), "stall");
        w->ready_stall_ms =
                1000 * strtol(ka_env("KA_READY_STALL_SECONDS", "30"), NULL, 10);
        if (w->ready_stall_ms <= 0)
                w->ready_stall_ms = KA_READY_STALL_MS;

        /* The data consumer has a group of its own: it never joins one
         * (its partitions are assigned) and never commits. */
        snprintf(data_group, sizeof(data_group), "%s.data", w->opts->group_id);
        if (!(w->producer = new_client(w, KA_KAFKA_PRODUCER, NULL, errstr,
                                       errstr_size)) ||
            !(w->data_rk = new_client(w, KA_KAFKA_CONSUMER, data_group, errstr,
                                      errstr_size)) ||
            !(w->lease_rk = new_client(w, KA_KAFKA_LEASE, w->opts->group_id,
                                       errstr, errstr_size)))
                return KA_ERR_IO;
        rd_kafka_poll_set_consumer(w->data_rk);
        rd_kafka_poll_set_consumer(w->lease_rk);

        for (size_t a = 0; a < w->nagents; a++) {
                agent_rt_t *art = &w->agents[a];

                if ((err = out_schema_id(w, art->agent, &art->out_id, errstr,
                                         errstr_size)))
                        return err;
                if (!(art->agg =
                              ka_aggregate_new(art->agent, 0, art->out_id))) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return KA_ERR_NOMEM;
                }
        }
        if (!ka_own_setup(w, errstr, errstr_size))
                return *w->stop ? KA_ERR_TRANSPORT : KA_ERR_NOMEM;
        atomic_store(&w->setup_done, true);
        return KA_OK;
}

ka_err_t ka_worker_run(const ka_worker_opts_t *opts, char *errstr,
                       size_t errstr_size)
{
        static const ka_web_handlers_t handlers = {health, ready, agents_json};
        rd_kafka_message_t *batch[BATCH_MAX];
        _Atomic bool done = false;
        rd_kafka_queue_t *cq = NULL;
        worker_t w = {.opts = opts, .stop = opts->stop};
        ka_web_t *web = NULL;
        pthread_t dog;
        bool dog_started = false;
        ka_err_t err;

        if (!ka_agents_count) {
                snprintf(errstr, errstr_size,
                         "no agents compiled in: run `kafkaaggregator "
                         "generate-agents`, then make");
                return KA_ERR_NOT_FOUND;
        }
        atomic_store(&w.last_poll, ka_worker_wall_ms());

        /* Served first: /health and /metrics while the registry or the
         * brokers are still out of reach. */
        if (opts->web_host &&
            !(web = ka_web_start(opts->web_host, opts->web_port, &handlers, &w,
                                 errstr, errstr_size))) {
                err = KA_ERR_IO;
                goto out;
        }
        if (web)
                ka_info("worker: %zu agents; web on http://%s:%u "
                        "(/metrics, /health, /ready, /agents)",
                        ka_agents_count, opts->web_host,
                        (unsigned)ka_web_port(web));
        if ((err = setup(&w, errstr, errstr_size))) {
                /* Stopped while waiting: a clean stop, nothing consumed. */
                if (*w.stop)
                        err = KA_OK;
                goto out;
        }
        ka_info("worker: %zu agents over %zu source topics, leases on %s "
                "(%d partitions)",
                w.nagents, w.ntopics, w.lease_topic, (int)w.nleases);

        err = KA_ERR_IO;
        if (!(cq = rd_kafka_queue_get_consumer(w.data_rk))) {
                snprintf(errstr, errstr_size, "cannot get the consumer queue");
                goto out;
        }
        while (!*w.stop) {
                /* What is queued, up to BATCH_MAX, without waiting; only
                 * when nothing is, a wait of up to a tick for one. */
                ssize_t n =
                        rd_kafka_consume_batch_queue(cq, 0, batch, BATCH_MAX);

                if (n <= 0)
                        n = rd_kafka_consume_batch_queue(cq, KA_TICK_MS, batch,
                                                         1);
                w.now = ka_worker_wall_ms();
                atomic_store_explicit(&w.last_poll, w.now,
                                      memory_order_relaxed);
                if (n > 0)
                        ka_msg_handle_batch(&w, batch, (size_t)n);
                if (w.now - w.last_tick >= KA_TICK_MS)
                        tick(&w);
        }
        rd_kafka_queue_destroy(cq);
        cq = NULL;
        if (!pthread_create(&dog, NULL, watchdog, (void *)&done))
                dog_started = true;
        err = shut_down(&w, errstr, errstr_size);

out:
        if (cq)
                rd_kafka_queue_destroy(cq);
        ka_web_stop(web);
        destroy_client(w.lease_rk, false);
        destroy_client(w.data_rk, false);
        destroy_client(w.producer, true);
        worker_release(&w);
        atomic_store(&done, true);
        if (dog_started)
                pthread_join(dog, NULL);
        return err;
}
