/*
 * The worker's state, shared by its files and nothing else: worker.c
 * (set-up, the loop, shutdown, health), ownership.c (leases, agents
 * started and stopped, progress committed), messages.c (source messages
 * into windows, partitions stalled on a schema) and emitter.c (closed
 * windows produced, deliveries tracked).
 *
 * One thread runs all of it; librdkafka's callbacks are served from that
 * thread's polls. The web server's thread reads only the atomics marked so.
 */
#ifndef KA_WORKER_INT_H
#define KA_WORKER_INT_H

#include "aggregate.h"
#include "decode.h"
#include "fetcher.h"
#include "metrics.h"
#include "progress.h"
#include "registry.h"
#include "tracker.h"
#include "worker.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Windows are closed and deliveries served this often. */
#define KA_TICK_MS 50
/* Partitions are reported (caught up or not) this often: each report
 * looks every owned partition up in librdkafka, whose lookups go by name
 * (hundreds of topics), and idle timeouts are seconds long. */
#define KA_REPORT_MS 1000
/* A partition that delivered messages since the last report is not idle
 * whatever its high watermark: it is looked up only this often, for its
 * consumer lag gauge. */
#define KA_LAG_MS 5000
/* Progress is snapshot and committed at most this often: the records
 * emitted since the last commit are what a takeover repeats. A second:
 * each commit encodes the progress of every agent of a lease with news
 * (hundreds of agents on a few leases), and windows are a second or more
 * long, so a takeover repeats about one window per agent. */
#define KA_COMMIT_MS 1000
/* Errors of one kind are logged once per this long. */
#define KA_LOG_EVERY_MS 60000

struct topic_rt_s;
struct worker_s;

typedef enum agent_state_e {
        AGENT_IDLE,     /* not owned by this worker */
        AGENT_STARTING, /* its lease is ours; progress not read yet */
        AGENT_RUNNING,
        /* Its lease was revoked for a rebalance: it keeps reading into its
         * windows but emits nothing; if the lease comes back it runs on
         * as if nothing happened, else it is stopped. */
        AGENT_PARKED,
} agent_state_t;

/* One compiled agent at run time. */
typedef struct agent_rt_s {
        const ka_agent_t *agent;
        size_t index;  /* in ka_agents[] */
        int32_t lease; /* the lease partition that carries it */
        agent_state_t state;
        _Atomic bool owned; /* state != AGENT_IDLE, for /agents */
        /* Ownership periods: records emitted in an earlier one are not
         * tracked any more. */
        uint32_t epoch;
        int64_t start_after_ms; /* STARTING: next attempt */
        int64_t start_backoff_ms;
        int32_t out_id; /* registry id of the aggregated schema */
        ka_aggregate_t *agg;
        ka_decoder_t **decoders; /* per source */
        /* per source: its topic in worker_t.topics, and the agent's
         * binding there */
        struct topic_rt_s **src_topic;
        size_t *src_binding;
        /* snapshots of ka_progress_t, committable once acknowledged */
        ka_tracker_t *tracker;
        ka_progress_t *safe; /* the newest committable progress */
        bool dirty;          /* safe not committed yet */
        /* Bumped by every message taken and window closed: no snapshot
         * is taken while it stays at snapped. */
        uint64_t activity, snapped;
        int64_t committed_ms;      /* last successful commit (or the start) */
        int64_t produce_logged_ms; /* a produce error was last logged */
        /* window slots: (topic, partition) of each */
        struct topic_rt_s **slot_topic;
        int32_t *slot_partition;
        size_t nslots, slot_cap;
        ka_windows_stats_t last; /* for metric deltas */
        ka_metric_t *m_late, *m_replayed, *m_open, *m_emitted, *m_latency,
                *m_owned, *m_watermark, *m_time_lag, *m_commit_age, *m_idle,
                *m_stalled;
} agent_rt_t;

/* An agent reading a topic, as its source number `source`. */
typedef struct binding_s {
        agent_rt_t *art;
        size_t source;
} binding_t;

/* One partition of a source topic, as the data consumer reads it. */
typedef struct part_s {
        bool assigned;   /* in the data consumer's assignment */
        int64_t pos;     /* next offset it delivers; -1 unknown */
        int64_t app_pos; /* librdkafka's position (control records too) */
        /* pos at the last report; whether that report looked it up */
        int64_t reported_pos;
        bool looked_up;
        /* Waiting for writer schema wait_id since stalled_ms, paused at
         * offset stall_at (read again once the schema is known). */
        bool stalled;
        int32_t wait_id;
        int64_t stall_at, stalled_ms;
        /* consumer lag series, per binding (NULL while not owned) */
        ka_metric_t **m_lag;
} part_t;

/* One source topic at run time. */
typedef struct topic_rt_s {
        const char *name;
        const rd_kafka_topic_t *rkt; /* learnt from the first message */
        binding_t *bindings;
        size_t nbindings;
        /* per binding, for the message being handled */
        ka_decode_result_t *res;
        int64_t *event_ms;
        /* partitions from the metadata (0 while unknown); what the last
         * round of starts read (ownership.c) */
        int32_t npartitions, meta_partitions;
        part_t *parts;
        /* per partition and binding, at [p * nbindings + b]: the agent's
         * window slot (SIZE_MAX when it is not owned) and the next offset
         * it takes (-1: any) */
        size_t *slots;
        int64_t *next;
        uint64_t nmsgs, nbytes;
        ka_metric_t *m_messages, *m_bytes;
        ka_metric_t *m_decode_errors[KA_DECODE__COUNT];
        int64_t logged_ms[KA_DECODE__COUNT];
} topic_rt_t;

/* Backoff of a schema id the registry has not given yet. */
typedef struct schema_wait_s {
        int32_t id;
        int64_t retry_ms, backoff_ms, logged_ms;
        ka_err_t logged_err; /* the failure logged last */
} schema_wait_t;

/* An aggregated record produced and not yet acknowledged. */
typedef struct inflight_s {
        struct inflight_s *prev, *next;
        agent_rt_t *art;
        uint32_t epoch;
        uint64_t seq; /* the agent's tracker's */
        int64_t end_ms;
        void *value, *key;
        size_t len, keylen;
        bool queued;      /* handed to the producer, no report yet */
        int64_t retry_ms; /* when not queued: next attempt */
        int64_t backoff_ms;
} inflight_t;

typedef struct worker_s {
        const ka_worker_opts_t *opts;
        volatile sig_atomic_t *stop;
        rd_kafka_t *lease_rk, *data_rk, *producer;
        ka_registry_t *reg, *int_reg;
        ka_fetcher_t *fetcher;
        agent_rt_t *agents;
        size_t nagents;
        topic_rt_t *topics;
        size_t ntopics;

        /* leases */
        char *lease_topic;
        bool lease_cooperative; /* cooperative-sticky: incremental */
        int32_t nleases;
        bool *lease_owned;
        /* the agents of lease l: lease_members[lease_start[l] ..
         * lease_start[l + 1]) */
        agent_rt_t **lease_members;
        size_t *lease_start;
        bool closing; /* shutting down: revocations commit nothing */
        /* A commit was refused for a rebalance: no window is emitted
         * until the leases are dealt again (one emitted now could not be
         * committed, and the next owner would emit it again). */
        bool rebalancing;

        /* schema ids waited for */
        schema_wait_t *waits;
        size_t nwaits, waits_cap;

        /* records in flight, oldest first */
        inflight_t *inflight_head, *inflight_tail;
        bool stall_on_permanent; /* KA_PRODUCE_ERROR_POLICY=stall */
        int64_t ready_stall_ms;  /* KA_READY_STALL_SECONDS */

        int64_t last_tick, last_report, last_commit, last_lag;
        int64_t now; /* of the current round */

        /* for the web thread */
        _Atomic int64_t last_poll;
        _Atomic bool brokers_down;
        _Atomic bool agents_ready; /* w->agents filled in */
        _Atomic bool setup_done;
        _Atomic bool lease_assigned; /* a lease assignment was received */
        _Atomic int starting;        /* agents in AGENT_STARTING */
        _Atomic int stalled;         /* partitions stalled > KA_READY_STALL */

        ka_metric_t *m_rebalances, *m_commits_ok, *m_commits_failed, *m_ready,
                *m_registry_errors[KA_ERR_AUTH + 1];
} worker_t;

/* Stalled partitions make /ready 503 after this long (by default; the
 * environment's KA_READY_STALL_SECONDS says otherwise). */
#define KA_READY_STALL_MS 30000

int64_t ka_worker_wall_ms(void);

/* ownership.c */
bool ka_own_setup(worker_t *w, char *errstr, size_t errstr_size);
void ka_own_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts, void *opaque);
void ka_own_offset_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t *offsets,
                          void *opaque);
void ka_own_start_agents(worker_t *w);
void ka_own_snapshot(worker_t *w, agent_rt_t *art);
void ka_own_commit(worker_t *w, bool all_running);
void ka_own_release_all(worker_t *w);
size_t ka_own_agent_slot(agent_rt_t *art, topic_rt_t *t, int32_t p);

/* messages.c */
void ka_msg_handle_batch(worker_t *w, rd_kafka_message_t **batch, size_t n);
void ka_msg_check_stalls(worker_t *w);
void ka_msg_report_partitions(worker_t *w);
void ka_msg_decode_error(topic_rt_t *t, int32_t partition, int64_t offset,
                         ka_decode_result_t res, int64_t now);

/* emitter.c */
void ka_emit_close(worker_t *w, agent_rt_t *art);
void ka_emit_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                      void *opaque);
void ka_emit_retry(worker_t *w);
void ka_emit_release(worker_t *w);

#endif
