/*
 * Which agents this worker runs (SPEC §10, §11). The workers of one
 * KAFKA_GROUP_ID are members of a consumer group on the lease topic
 * `<group>.agents`; Kafka assigns its partitions (leases) among them,
 * balances them and takes a dead member's away after its session times
 * out. An agent runs where its lease is (progress.h says which), reading
 * every partition of its source topics, so its windows are complete.
 *
 * Starting an agent reads its progress from the committed metadata of its
 * lease, assigns its source partitions to the data consumer from there
 * (or seeks a partition another agent already reads back to it: each agent
 * takes only the messages at or after its own next offset), and restores
 * its closed-through watermark. A revoked lease first has its records'
 * deliveries waited for and its progress committed (unless it was lost:
 * then another worker may have it already). Its agents are then parked
 * until the leases are dealt again: one whose lease comes back runs on
 * from where it was, which spares a rebalance's leases that stay put
 * (the range assignor keeps most of them) both the re-reading and the
 * repeats of windows emitted since the last commit; the others stop.
 *
 * Progress is committed as the metadata of offset 0 of the lease
 * partition, through the lease consumer, so that the group generation
 * fences a worker that lost its leases; a lease is committed only while
 * this worker holds it and knows the progress of every agent on it.
 */
#include "kafka.h"
#include "log.h"
#include "worker_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Wait for one metadata or committed-offsets answer, at most. */
#define REQUEST_MS 5000
/* Deliveries waited for when leases are revoked. */
#define REVOKE_FLUSH_MS 3000
/* A failed start is tried again after this, doubling up to a minute. */
#define START_RETRY_MS 500

/* Leases created on a real cluster: one per agent up to this many. */
#define MAX_LEASES 256

static int64_t env_long(const char *name, int64_t def, int64_t min, int64_t max)
{
        const char *v = ka_env(name, NULL);
        char *end;
        long long x;

        if (!v)
                return def;
        x = strtoll(v, &end, 10);
        if (*end || x < min || x > max) {
                ka_warn("%s=%s: not a number from %" PRId64 " to %" PRId64
                        "; using %" PRId64,
                        name, v, min, max, def);
                return def;
        }
        return x;
}

/* ---- source topics ---- */

/* Partition count of t from the metadata; 0 when the topic is not there
 * (yet) or the brokers do not answer. */
static int32_t topic_partitions(worker_t *w, const char *topic)
{
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(w->data_rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        int32_t n = 0;

        if (!rkt)
                return 0;
        if (!rd_kafka_metadata(w->data_rk, 0, rkt, &md, REQUEST_MS) &&
            md->topic_cnt == 1 && !md->topics[0].err)
                n = md->topics[0].partition_cnt;
        if (md)
                rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        return n > KA_PROGRESS_MAX_PARTITIONS ? 0 : n;
}

/*
 * The partition counts of every source topic in the cluster, in one
 * request, into each topic's meta_partitions (0: not in the cluster, or
 * no answer); starting hundreds of agents asks once, not once each.
 */
static void partition_counts(worker_t *w)
{
        const struct rd_kafka_metadata *md = NULL;

        for (size_t i = 0; i < w->ntopics; i++)
                w->topics[i].meta_partitions = 0;
        if (rd_kafka_metadata(w->data_rk, 1, NULL, &md, REQUEST_MS)) {
                ka_warn("reading the cluster's metadata: no answer");
                return;
        }
        for (int k = 0; k < md->topic_cnt; k++) {
                const struct rd_kafka_metadata_topic *mt = &md->topics[k];

                for (size_t i = 0; i < w->ntopics && !mt->err; i++)
                        if (!strcmp(w->topics[i].name, mt->topic) &&
                            mt->partition_cnt <= KA_PROGRESS_MAX_PARTITIONS)
                                w->topics[i].meta_partitions =
                                        mt->partition_cnt;
        }
        rd_kafka_metadata_destroy(md);
}

/* Sizes t's per-partition state for n partitions (never shrinks). */
static bool topic_resize(topic_rt_t *t, int32_t n)
{
        size_t nb = t->nbindings;
        part_t *parts;
        size_t *slots;
        int64_t *next;

        if (n <= t->npartitions)
                return true;
        if (!(parts = realloc(t->parts, (size_t)n * sizeof(*parts))))
                return false;
        t->parts = parts;
        if (!(slots = realloc(t->slots, (size_t)n * nb * sizeof(*slots))))
                return false;
        t->slots = slots;
        if (!(next = realloc(t->next, (size_t)n * nb * sizeof(*next))))
                return false;
        t->next = next;
        for (int32_t p = t->npartitions; p < n; p++) {
                t->parts[p] = (part_t){.pos = -1, .app_pos = -1};
                t->parts[p].m_lag = calloc(nb, sizeof(*t->parts[p].m_lag));
                if (!t->parts[p].m_lag)
                        return false;
                for (size_t b = 0; b < nb; b++) {
                        t->slots[(size_t)p * nb + b] = SIZE_MAX;
                        t->next[(size_t)p * nb + b] = -1;
                }
                t->npartitions = p + 1;
        }
        return true;
}

static size_t binding_of(const topic_rt_t *t, const agent_rt_t *art)
{
        size_t b = 0;

        while (b < t->nbindings && t->bindings[b].art != art)
                b++;
        return b;
}

size_t ka_own_agent_slot(agent_rt_t *art, topic_rt_t *t, int32_t p)
{
        if (art->nslots == art->slot_cap) {
                size_t cap = art->slot_cap ? art->slot_cap * 2 : 8;
                topic_rt_t **st = realloc(art->slot_topic, cap * sizeof(*st));
                int32_t *sp;

                if (!st)
                        return SIZE_MAX;
                art->slot_topic = st;
                if (!(sp = realloc(art->slot_partition, cap * sizeof(*sp))))
                        return SIZE_MAX;
                art->slot_partition = sp;
                art->slot_cap = cap;
        }
        art->slot_topic[art->nslots] = t;
        art->slot_partition[art->nslots] = p;
        return art->nslots++;
}

/* Whether an owned agent other than art reads partition p of t. */
static bool read_by_other(const topic_rt_t *t, int32_t p, const agent_rt_t *art)
{
        for (size_t b = 0; b < t->nbindings; b++)
                if (t->bindings[b].art != art &&
                    t->slots[(size_t)p * t->nbindings + b] != SIZE_MAX)
                        return true;
        return false;
}

/* ---- progress ---- */

/* The agents carried by lease (see ka_own_setup()). */
static agent_rt_t *const *lease_agents(worker_t *w, int32_t lease, size_t *n)
{
        *n = w->lease_start[lease + 1] - w->lease_start[lease];
        return &w->lease_members[w->lease_start[lease]];
}

/* The committed offsets and metadata of every lease partition (NULL when
 * the coordinator does not answer). */
static rd_kafka_topic_partition_list_t *committed_leases(worker_t *w)
{
        rd_kafka_topic_partition_list_t *list =
                rd_kafka_topic_partition_list_new(w->nleases);
        rd_kafka_resp_err_t err;

        for (int32_t p = 0; p < w->nleases; p++)
                rd_kafka_topic_partition_list_add(list, w->lease_topic, p);
        if ((err = rd_kafka_committed(w->lease_rk, list, REQUEST_MS))) {
                ka_warn("reading the progress committed on %s: %s",
                        w->lease_topic, rd_kafka_err2str(err));
                rd_kafka_topic_partition_list_destroy(list);
                return NULL;
        }
        return list;
}

/*
 * art's progress from the leases' metadata: its own lease first, else the
 * newest found on any lease (workers built from another config map agents
 * to leases otherwise). NULL, not an error, when none has it.
 */
static ka_progress_t *progress_from_leases(worker_t *w, const agent_rt_t *art,
                                           rd_kafka_topic_partition_list_t *c)
{
        ka_progress_t *best = NULL, *p;

        for (int i = 0; i < c->cnt; i++) {
                rd_kafka_topic_partition_t *tp = &c->elems[i];
                ka_err_t err = ka_progress_decode(
                        tp->metadata, tp->metadata_size, art->agent->name, &p);

                if (err == KA_ERR_INVALID)
                        ka_warn("%s [%d]: commit metadata is not progress "
                                "of this tool; ignored",
                                w->lease_topic, (int)tp->partition);
                if (err)
                        continue;
                if (tp->partition == art->lease) {
                        ka_progress_destroy(best);
                        return p;
                }
                if (!best || p->time_ms > best->time_ms) {
                        ka_progress_destroy(best);
                        best = p;
                } else {
                        ka_progress_destroy(p);
                }
        }
        return best;
}

/*
 * A worker of version 0.1 committed source offsets in the group itself,
 * with the closed-through watermark of each agent in the metadata: the
 * progress an upgraded worker resumes from. Per-partition watermarks go
 * to the slots directly. NULL when nothing was committed that way.
 */
static ka_progress_t *progress_legacy(worker_t *w, agent_rt_t *art,
                                      int64_t **legacy_ct)
{
        rd_kafka_topic_partition_list_t *list =
                rd_kafka_topic_partition_list_new(8);
        ka_progress_t *p = ka_progress_new(ka_worker_wall_ms(), INT64_MIN);
        bool found = false;
        int k = 0;

        *legacy_ct = NULL;
        for (size_t s = 0; s < art->agent->nsources; s++) {
                topic_rt_t *t = NULL;

                for (size_t i = 0; i < w->ntopics && !t; i++)
                        if (!strcmp(w->topics[i].name,
                                    art->agent->sources[s].topic))
                                t = &w->topics[i];
                for (int32_t q = 0; t && q < t->npartitions; q++)
                        rd_kafka_topic_partition_list_add(list, t->name, q);
        }
        if (!p || !list->cnt ||
            rd_kafka_committed(w->lease_rk, list, REQUEST_MS) ||
            !(*legacy_ct = calloc((size_t)list->cnt, sizeof(**legacy_ct))))
                goto out;
        for (size_t s = 0; s < art->agent->nsources; s++) {
                const char *topic = art->agent->sources[s].topic;
                int32_t n = 0;
                int64_t *offs;

                for (int i = 0; i < list->cnt; i++)
                        n += !strcmp(list->elems[i].topic, topic);
                if (!(offs = ka_progress_add_source(p, topic, n)))
                        goto out;
                for (int32_t q = 0; q < n; q++, k++) {
                        rd_kafka_topic_partition_t *tp = &list->elems[k];

                        offs[q] = tp->offset >= 0 ? tp->offset : -1;
                        (*legacy_ct)[k] = ka_progress_legacy_closed_through(
                                tp->metadata, tp->metadata_size,
                                art->agent->name);
                        found |= tp->offset >= 0;
                }
        }
out:
        rd_kafka_topic_partition_list_destroy(list);
        if (!found) {
                ka_progress_destroy(p);
                free(*legacy_ct);
                *legacy_ct = NULL;
                return NULL;
        }
        ka_info("%s: resuming from the offsets a version 0.1 worker "
                "committed",
                art->agent->name);
        return p;
}

/* ---- agents started and stopped ---- */

static void lag_series(topic_rt_t *t, int32_t p, size_t b, bool on)
{
        char labels[700], la[300], ls[300], lp[48];

        if (!on) {
                ka_metric_remove(t->parts[p].m_lag[b]);
                t->parts[p].m_lag[b] = NULL;
                return;
        }
        ka_metrics_label(la, sizeof(la), "aggregated_topic",
                         t->bindings[b].art->agent->name);
        ka_metrics_label(ls, sizeof(ls), "source_topic", t->name);
        snprintf(lp, sizeof(lp), "partition=\"%d\"", (int)p);
        snprintf(labels, sizeof(labels), "%s,%s,%s", la, ls, lp);
        t->parts[p].m_lag[b] = ka_metrics_get(
                "kafkaaggregator_consumer_lag",
                "Messages of a source partition not yet read by an agent",
                KA_METRIC_GAUGE, labels);
}

static void set_state(worker_t *w, agent_rt_t *art, agent_state_t state)
{
        if ((art->state == AGENT_STARTING) != (state == AGENT_STARTING))
                atomic_fetch_add(&w->starting,
                                 state == AGENT_STARTING ? 1 : -1);
        bool owned = state == AGENT_STARTING || state == AGENT_RUNNING;

        art->state = state;
        atomic_store(&art->owned, owned);
        ka_metric_set(art->m_owned, owned);
}

/*
 * Starts art from progress (NULL: none; then every partition starts where
 * auto.offset.reset says). legacy_ct: per-slot closed-through watermarks,
 * or NULL. Returns false when the source topics' metadata is missing.
 */
static bool start_agent(worker_t *w, agent_rt_t *art, ka_progress_t *progress,
                        const int64_t *legacy_ct, bool from_beginning)
{
        rd_kafka_topic_partition_list_t *assign =
                rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_t *seek =
                rd_kafka_topic_partition_list_new(8);
        ka_windows_t *win = ka_aggregate_windows(art->agg);
        rd_kafka_error_t *error;
        bool ok = false;

        /* Every source topic's partitions first: nothing changes unless
         * all are known. */
        for (size_t s = 0; s < art->agent->nsources; s++) {
                const char *name = art->agent->sources[s].topic;
                topic_rt_t *t = NULL;
                int32_t n;

                for (size_t i = 0; i < w->ntopics && !t; i++)
                        if (!strcmp(w->topics[i].name, name))
                                t = &w->topics[i];
                /* A topic not in the cluster yet: asking for it alone
                 * creates it where the brokers auto-create topics. */
                n = t->meta_partitions ? t->meta_partitions
                                       : topic_partitions(w, name);
                if (!n) {
                        ka_warn("%s: source topic '%s' has no partitions in "
                                "the cluster's metadata (yet); trying again",
                                art->agent->name, name);
                        goto out;
                }
                if (!topic_resize(t, n))
                        goto out;
        }

        art->nslots = 0;
        for (size_t s = 0; s < art->agent->nsources; s++) {
                const char *name = art->agent->sources[s].topic;
                topic_rt_t *t = NULL;
                const int64_t *offs;
                int32_t noffs;
                size_t b;

                for (size_t i = 0; i < w->ntopics && !t; i++)
                        if (!strcmp(w->topics[i].name, name))
                                t = &w->topics[i];
                b = binding_of(t, art);
                offs = ka_progress_offsets(progress, name, &noffs);
                for (int32_t p = 0; p < t->npartitions; p++) {
                        size_t i = (size_t)p * t->nbindings + b;
                        int64_t at = p < noffs ? offs[p] : -1;
                        part_t *part = &t->parts[p];
                        size_t slot = ka_own_agent_slot(art, t, p);

                        if (slot == SIZE_MAX)
                                goto out;
                        t->slots[i] = slot;
                        t->next[i] = at;
                        lag_series(t, p, b, true);
                        if (!part->assigned) {
                                part->assigned = true;
                                part->pos = at;
                                rd_kafka_topic_partition_list_add(assign,
                                                                  t->name, p)
                                        ->offset =
                                        at >= 0 ? at : RD_KAFKA_OFFSET_INVALID;
                        } else if (part->stalled) {
                                /* Resumes from here: see messages.c. */
                                if (at >= 0 && at < part->stall_at)
                                        part->stall_at = at;
                        } else if ((at >= 0 &&
                                    (part->pos < 0 || at < part->pos)) ||
                                   (at < 0 && from_beginning)) {
                                /* Another agent reads it from further on:
                                 * back to where this one resumes; that one
                                 * skips what it has seen. */
                                part->pos = at;
                                rd_kafka_topic_partition_list_add(seek, t->name,
                                                                  p)
                                        ->offset =
                                        at >= 0 ? at
                                                : RD_KAFKA_OFFSET_BEGINNING;
                        }
                }
        }

        ka_windows_reset(win, art->nslots);
        for (size_t s = 0; s < art->nslots; s++)
                ka_windows_set_closed_through(win, s,
                                              legacy_ct ? legacy_ct[s]
                                              : progress
                                                      ? progress->closed_through
                                                      : INT64_MIN);
        if (assign->cnt &&
            (error = rd_kafka_incremental_assign(w->data_rk, assign))) {
                ka_error("%s: assigning its source partitions: %s",
                         art->agent->name, rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        if (seek->cnt &&
            (error = rd_kafka_seek_partitions(w->data_rk, seek, REQUEST_MS))) {
                ka_warn("%s: seeking back: %s", art->agent->name,
                        rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        ok = true;
out:
        rd_kafka_topic_partition_list_destroy(assign);
        rd_kafka_topic_partition_list_destroy(seek);
        return ok;
}

/*
 * Stops art: its windows dropped (rebuilt by the next owner from the
 * committed progress), its partitions given up where no other owned agent
 * reads them.
 */
static void stop_agent(worker_t *w, agent_rt_t *art)
{
        rd_kafka_topic_partition_list_t *drop =
                rd_kafka_topic_partition_list_new(8);
        rd_kafka_error_t *error;

        for (size_t s = 0; s < art->nslots; s++) {
                topic_rt_t *t = art->slot_topic[s];
                int32_t p = art->slot_partition[s];
                size_t b = binding_of(t, art);

                t->slots[(size_t)p * t->nbindings + b] = SIZE_MAX;
                t->next[(size_t)p * t->nbindings + b] = -1;
                lag_series(t, p, b, false);
                if (!read_by_other(t, p, art) && t->parts[p].assigned) {
                        t->parts[p].assigned = false;
                        t->parts[p].stalled = false;
                        t->parts[p].pos = -1;
                        rd_kafka_topic_partition_list_add(drop, t->name, p);
                }
        }
        /* A pause outlives the assignment in librdkafka: a partition that
         * stalled must not come back paused. */
        if (drop->cnt) {
                rd_kafka_resume_partitions(w->data_rk, drop);
                for (int i = 0; i < drop->cnt; i++)
                        drop->elems[i].err = 0;
        }
        if (drop->cnt &&
            (error = rd_kafka_incremental_unassign(w->data_rk, drop))) {
                ka_warn("%s: giving up its source partitions: %s",
                        art->agent->name, rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        rd_kafka_topic_partition_list_destroy(drop);
        art->nslots = 0;
        ka_windows_reset(ka_aggregate_windows(art->agg), 0);
        ka_tracker_clear(art->tracker);
        ka_progress_destroy(art->safe);
        art->safe = NULL;
        art->dirty = false;
        art->epoch++;
        ka_metric_set(art->m_open, 0);
        set_state(w, art, AGENT_IDLE);
}

/* Whether a partition without progress starts at its beginning, as the
 * data consumer's auto.offset.reset says (librdkafka's names for it). */
static bool reset_to_beginning(worker_t *w)
{
        const rd_kafka_topic_conf_t *tconf =
                rd_kafka_conf_get_default_topic_conf(
                        (rd_kafka_conf_t *)rd_kafka_conf(w->data_rk));
        char value[32] = "";
        size_t size = sizeof(value);

        if (!tconf || rd_kafka_topic_conf_get(tconf, "auto.offset.reset", value,
                                              &size) != RD_KAFKA_CONF_OK)
                return true;
        return strcmp(value, "latest") && strcmp(value, "largest") &&
               strcmp(value, "end");
}

void ka_own_start_agents(worker_t *w)
{
        rd_kafka_topic_partition_list_t *committed = NULL;
        bool from_beginning = reset_to_beginning(w), counted = false;

        for (size_t a = 0; a < w->nagents && !*w->stop; a++) {
                agent_rt_t *art = &w->agents[a];
                int64_t *legacy_ct = NULL;
                ka_progress_t *p;

                if (art->state != AGENT_STARTING ||
                    art->start_after_ms > w->now)
                        continue;
                if (!counted) {
                        partition_counts(w);
                        counted = true;
                }
                if (!committed && !(committed = committed_leases(w)))
                        goto retry;
                if (!art->safe) {
                        /* Its progress as committed, kept even if the
                         * start fails below: committing its lease must
                         * not drop it. */
                        p = progress_from_leases(w, art, committed);
                        if (!p)
                                p = progress_legacy(w, art, &legacy_ct);
                        if (!p)
                                p = ka_progress_new(w->now, INT64_MIN);
                        if (!p)
                                goto retry;
                        art->safe = p;
                }
                if (!start_agent(w, art, art->safe, legacy_ct,
                                 from_beginning)) {
                        free(legacy_ct);
                        goto retry;
                }
                free(legacy_ct);
                art->committed_ms = w->now;
                art->start_backoff_ms = 0;
                art->activity++;
                set_state(w, art, AGENT_RUNNING);
                ka_info("%s: started on lease %d (%zu source partitions%s)",
                        art->agent->name, (int)art->lease, art->nslots,
                        art->safe->nsources ? ", from its committed progress"
                                            : ", no progress committed yet");
                continue;
        retry:
                art->start_backoff_ms = art->start_backoff_ms
                                                ? art->start_backoff_ms * 2
                                                : START_RETRY_MS;
                if (art->start_backoff_ms > 60000)
                        art->start_backoff_ms = 60000;
                art->start_after_ms = w->now + art->start_backoff_ms;
        }
        if (committed)
                rd_kafka_topic_partition_list_destroy(committed);
}

void ka_own_snapshot(worker_t *w, agent_rt_t *art)
{
        ka_windows_t *win = ka_aggregate_windows(art->agg);
        int64_t ct = INT64_MIN;
        ka_progress_t *p, *safe;

        if (art->activity == art->snapped)
                goto take;
        art->snapped = art->activity;
        for (size_t s = 0; s < art->nslots; s++) {
                int64_t v = ka_windows_closed_through(win, s);

                if (v > ct)
                        ct = v;
        }
        if (!(p = ka_progress_new(w->now, ct)))
                return;
        for (size_t src = 0; src < art->agent->nsources; src++) {
                const char *name = art->agent->sources[src].topic;
                topic_rt_t *t = art->src_topic[src];
                size_t b = art->src_binding[src];
                int64_t *offs;

                if (!(offs = ka_progress_add_source(p, name, t->npartitions))) {
                        ka_progress_destroy(p);
                        return;
                }
                for (int32_t q = 0; q < t->npartitions; q++) {
                        size_t i = (size_t)q * t->nbindings + b;
                        int64_t low = t->slots[i] == SIZE_MAX
                                              ? -1
                                              : ka_windows_low_offset(
                                                        win, t->slots[i]);

                        /* Resume at the first message an open window
                         * holds, else at the next one not read. */
                        offs[q] =
                                low >= 0 && (t->next[i] < 0 || low < t->next[i])
                                        ? low
                                        : t->next[i];
                }
        }
        ka_tracker_snapshot(art->tracker, p);
take:
        if ((safe = ka_tracker_committable(art->tracker))) {
                ka_progress_destroy(art->safe);
                art->safe = safe;
                art->dirty = true;
        }
}

/*
 * Commits the progress of every owned lease with news (every owned lease
 * when all is set, at shutdown), asynchronously: results come to
 * ka_own_offset_commit(). A lease is left out while the progress of one of
 * its agents is unknown.
 */
void ka_own_commit(worker_t *w, bool all)
{
        rd_kafka_topic_partition_list_t *list =
                rd_kafka_topic_partition_list_new(8);
        int64_t max_md = env_long("KA_OFFSET_METADATA_MAX_BYTES",
                                  KA_PROGRESS_MAX_METADATA, 64, 32767);
        rd_kafka_resp_err_t err;

        for (int32_t l = 0; l < w->nleases; l++) {
                const ka_progress_t *progs[64], **pp = progs;
                const char *names[64], **np = names;
                agent_rt_t *const *agents;
                bool news = all, known = true;
                size_t n = 0;
                char *md;

                if (!w->lease_owned[l] || !(agents = lease_agents(w, l, &n), n))
                        continue;
                if (n > KA_ARRAY_SIZE(progs)) {
                        pp = calloc(n, sizeof(*pp));
                        np = calloc(n, sizeof(*np));
                }
                for (size_t i = 0; pp && np && i < n; i++) {
                        news |= agents[i]->dirty;
                        known &= agents[i]->safe != NULL;
                        pp[i] = agents[i]->safe;
                        np[i] = agents[i]->agent->name;
                }
                md = news && known && pp && np ? ka_progress_encode(np, pp, n)
                                               : NULL;
                if (pp != progs)
                        free(pp);
                if (np != names)
                        free(np);
                if (!md)
                        continue;
                if ((int64_t)strlen(md) > max_md) {
                        ka_error("%s [%d]: the progress of its %zu agents "
                                 "takes %zu bytes, more than the %" PRId64
                                 " of offset metadata Kafka keeps: not "
                                 "committed (use more lease partitions, or "
                                 "raise offset.metadata.max.bytes on the "
                                 "brokers and KA_OFFSET_METADATA_MAX_BYTES)",
                                 w->lease_topic, (int)l, n, strlen(md), max_md);
                        ka_metric_add(w->m_commits_failed, 1);
                        free(md);
                        continue;
                }
                for (size_t i = 0; i < n; i++)
                        agents[i]->dirty = false;
                rd_kafka_topic_partition_t *tp =
                        rd_kafka_topic_partition_list_add(list, w->lease_topic,
                                                          l);
                tp->offset = 0;
                tp->metadata = md;
                tp->metadata_size = strlen(md);
        }
        if (list->cnt && (err = rd_kafka_commit(w->lease_rk, list, 1))) {
                ka_warn("committing progress: %s", rd_kafka_err2str(err));
                ka_metric_add(w->m_commits_failed, 1);
                for (int i = 0; i < list->cnt; i++) {
                        size_t n;
                        agent_rt_t *const *agents =
                                lease_agents(w, list->elems[i].partition, &n);

                        for (size_t k = 0; k < n; k++)
                                agents[k]->dirty = true;
                }
        }
        rd_kafka_topic_partition_list_destroy(list);
}

void ka_own_offset_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t *offsets,
                          void *opaque)
{
        worker_t *w = opaque;
        int64_t now = ka_worker_wall_ms();

        (void)rk;
        for (int i = 0; offsets && i < offsets->cnt; i++) {
                rd_kafka_topic_partition_t *tp = &offsets->elems[i];
                rd_kafka_resp_err_t e = tp->err ? tp->err : err;
                agent_rt_t *const *agents;
                size_t n;

                if (strcmp(tp->topic, w->lease_topic) || tp->partition < 0 ||
                    tp->partition >= w->nleases)
                        continue;
                agents = lease_agents(w, tp->partition, &n);
                if (e) {
                        ka_metric_add(w->m_commits_failed, 1);
                        if (e == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
                            e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
                            e == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID) {
                                if (!w->rebalancing)
                                        ka_info("%s: a rebalance is under "
                                                "way (%s): windows are held "
                                                "until the leases are dealt",
                                                tp->topic,
                                                rd_kafka_err2name(e));
                                w->rebalancing = true;
                        } else {
                                ka_warn("%s [%d]: commit failed: %s", tp->topic,
                                        (int)tp->partition,
                                        rd_kafka_err2str(e));
                        }
                        /* Still ours: try again next round. */
                        for (size_t k = 0; k < n; k++)
                                agents[k]->dirty |=
                                        w->lease_owned[tp->partition];
                        continue;
                }
                ka_metric_add(w->m_commits_ok, 1);
                for (size_t k = 0; k < n; k++)
                        agents[k]->committed_ms = now;
                ka_debug("%s [%d]: progress committed", tp->topic,
                         (int)tp->partition);
        }
}

/* Before giving leases up: what was emitted delivered (bounded), then the
 * progress of their agents committed. */
static void settle(worker_t *w, rd_kafka_topic_partition_list_t *parts)
{
        int64_t deadline = ka_worker_wall_ms() + REVOKE_FLUSH_MS;

        while (rd_kafka_outq_len(w->producer) > 0 && *w->stop < 2 &&
               ka_worker_wall_ms() < deadline)
                rd_kafka_flush(w->producer, 100);
        w->now = ka_worker_wall_ms();
        ka_emit_retry(w);
        for (int i = 0; i < parts->cnt; i++) {
                size_t n;
                agent_rt_t *const *agents =
                        lease_agents(w, parts->elems[i].partition, &n);

                for (size_t k = 0; k < n; k++)
                        if (agents[k]->state == AGENT_RUNNING)
                                ka_own_snapshot(w, agents[k]);
        }
        ka_own_commit(w, false);
}

void ka_own_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        worker_t *w = opaque;
        /* Known from the configuration: rd_kafka_rebalance_protocol()
         * waits for the group's thread, which can hang during a close. */
        bool coop = w->lease_cooperative;
        rd_kafka_error_t *error = NULL;
        char list[256];
        size_t len = 0;

        w->now = ka_worker_wall_ms();
        list[0] = '\0';
        for (int i = 0; i < parts->cnt && len < sizeof(list) - 16; i++)
                len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d",
                                        i ? "," : "",
                                        (int)parts->elems[i].partition);
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                if (coop)
                        error = rd_kafka_incremental_assign(rk, parts);
                else if ((err = rd_kafka_assign(rk, parts)))
                        ka_error("assigning leases: %s", rd_kafka_err2str(err));
                if (error) {
                        ka_error("assigning leases: %s",
                                 rd_kafka_error_string(error));
                        rd_kafka_error_destroy(error);
                }
                /* Leases are held, never read. */
                rd_kafka_pause_partitions(rk, parts);
                for (int i = 0; i < parts->cnt; i++) {
                        int32_t l = parts->elems[i].partition;
                        size_t n;
                        agent_rt_t *const *agents;

                        if (strcmp(parts->elems[i].topic, w->lease_topic) ||
                            l < 0 || l >= w->nleases)
                                continue;
                        w->lease_owned[l] = true;
                        agents = lease_agents(w, l, &n);
                        for (size_t k = 0; k < n; k++) {
                                if (agents[k]->state == AGENT_PARKED) {
                                        set_state(w, agents[k], AGENT_RUNNING);
                                        ka_debug("%s: kept through the "
                                                 "rebalance",
                                                 agents[k]->agent->name);
                                }
                                if (agents[k]->state != AGENT_IDLE)
                                        continue;
                                agents[k]->start_after_ms = w->now;
                                set_state(w, agents[k], AGENT_STARTING);
                        }
                }
                /* Parked agents whose lease went elsewhere. */
                for (size_t a = 0; a < w->nagents; a++)
                        if (w->agents[a].state == AGENT_PARKED)
                                stop_agent(w, &w->agents[a]);
                atomic_store(&w->lease_assigned, true);
                w->rebalancing = false;
                ka_metric_add(w->m_rebalances, 1);
                ka_info("leases assigned: [%s] of %d", list, (int)w->nleases);
                return;
        }

        /* Revoked, or lost: another worker may hold them already, so
         * nothing is committed then. */
        if (!rd_kafka_assignment_lost(rk) && !w->closing)
                settle(w, parts);
        for (int i = 0; i < parts->cnt; i++) {
                int32_t l = parts->elems[i].partition;
                size_t n;
                agent_rt_t *const *agents;

                if (strcmp(parts->elems[i].topic, w->lease_topic) || l < 0 ||
                    l >= w->nleases)
                        continue;
                w->lease_owned[l] = false;
                agents = lease_agents(w, l, &n);
                for (size_t k = 0; k < n; k++) {
                        /* Parked only when the next assignment is the
                         * whole one (eager) and follows at once. */
                        if (agents[k]->state == AGENT_RUNNING && !coop &&
                            !w->closing && !rd_kafka_assignment_lost(rk))
                                set_state(w, agents[k], AGENT_PARKED);
                        else if (agents[k]->state != AGENT_IDLE)
                                stop_agent(w, agents[k]);
                }
        }
        if (coop)
                error = rd_kafka_incremental_unassign(rk, parts);
        else
                rd_kafka_assign(rk, NULL);
        if (error) {
                ka_error("giving leases up: %s", rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        ka_metric_add(w->m_rebalances, 1);
        ka_info("leases %s: [%s]",
                rd_kafka_assignment_lost(rk) ? "lost" : "revoked", list);
}

void ka_own_release_all(worker_t *w)
{
        for (size_t a = 0; a < w->nagents; a++)
                if (w->agents[a].state != AGENT_IDLE)
                        stop_agent(w, &w->agents[a]);
        for (int32_t l = 0; l < w->nleases; l++)
                w->lease_owned[l] = false;
}

/* ---- the lease topic ---- */

/* Creates the lease topic with n partitions (Admin API); false when the
 * cluster cannot (the mock) or will not. */
static bool create_leases(worker_t *w, int32_t n)
{
        char errstr[512];
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(w->lease_topic, n, -1,
                                                        errstr, sizeof(errstr));
        rd_kafka_queue_t *q = rd_kafka_queue_new(w->lease_rk);
        rd_kafka_AdminOptions_t *o =
                rd_kafka_AdminOptions_new(w->lease_rk, RD_KAFKA_ADMIN_OP_ANY);
        rd_kafka_event_t *ev;
        bool ok = false;

        if (!nt || !q || !o)
                goto out;
        rd_kafka_AdminOptions_set_request_timeout(o, REQUEST_MS, errstr,
                                                  sizeof(errstr));
        rd_kafka_CreateTopics(w->lease_rk, &nt, 1, o, q);
        ev = rd_kafka_queue_poll(q, REQUEST_MS + 1000);
        if (ev) {
                const rd_kafka_CreateTopics_result_t *res =
                        rd_kafka_event_CreateTopics_result(ev);
                size_t cnt = 0;
                const rd_kafka_topic_result_t **tr =
                        res ? rd_kafka_CreateTopics_result_topics(res, &cnt)
                            : NULL;

                if (rd_kafka_event_error(ev))
                        ka_warn("creating %s: %s", w->lease_topic,
                                rd_kafka_event_error_string(ev));
                else if (cnt == 1 && rd_kafka_topic_result_error(tr[0]) &&
                         rd_kafka_topic_result_error(tr[0]) !=
                                 RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                        ka_warn("creating %s: %s", w->lease_topic,
                                rd_kafka_topic_result_error_string(tr[0]));
                else
                        ok = true;
                rd_kafka_event_destroy(ev);
        }
out:
        if (ok)
                ka_info("created the lease topic %s with %d partitions",
                        w->lease_topic, (int)n);
        rd_kafka_AdminOptions_destroy(o);
        if (q)
                rd_kafka_queue_destroy(q);
        rd_kafka_NewTopic_destroy(nt);
        return ok;
}

bool ka_own_setup(worker_t *w, char *errstr, size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *subs;
        const char **names = calloc(w->nagents + 1, sizeof(*names));
        int64_t backoff = 500;
        int32_t want = (int32_t)env_long(
                "KA_LEASE_PARTITIONS",
                w->nagents < MAX_LEASES ? (int64_t)w->nagents : MAX_LEASES, 1,
                KA_PROGRESS_MAX_PARTITIONS);
        bool created = false;

        if (!names ||
            asprintf(&w->lease_topic, "%s.agents", w->opts->group_id) < 0) {
                free(names);
                w->lease_topic = NULL;
                snprintf(errstr, errstr_size, "out of memory");
                return false;
        }
        /* Until the lease topic is there: brokers may be down at start. */
        while (!*w->stop &&
               !(w->nleases = topic_partitions(w, w->lease_topic))) {
                if (!created)
                        created = create_leases(w, want);
                if (w->nleases || created)
                        continue;
                ka_warn("the lease topic %s is not there and cannot be "
                        "created; retrying in %" PRId64 " ms",
                        w->lease_topic, backoff);
                for (int64_t t = 0; t < backoff && !*w->stop; t += 100)
                        nanosleep(&(struct timespec){0, 100000000}, NULL);
                backoff = backoff < 30000 ? backoff * 2 : backoff;
        }
        if (*w->stop) {
                free(names);
                snprintf(errstr, errstr_size, "stopped");
                return false;
        }
        for (size_t a = 0; a < w->nagents; a++)
                names[a] = w->agents[a].agent->name;
        for (size_t a = 0; a < w->nagents; a++)
                w->agents[a].lease =
                        ka_progress_lease_of(names, w->nagents, a, w->nleases);
        free(names);
        w->lease_owned = calloc((size_t)w->nleases, sizeof(bool));
        w->lease_start = calloc((size_t)w->nleases + 2, sizeof(size_t));
        w->lease_members = calloc(w->nagents + 1, sizeof(agent_rt_t *));
        if (!w->lease_owned || !w->lease_start || !w->lease_members) {
                snprintf(errstr, errstr_size, "out of memory");
                return false;
        }
        /* The agents of each lease, lease after lease. */
        for (size_t a = 0; a < w->nagents; a++)
                w->lease_start[w->agents[a].lease + 2]++;
        for (int32_t l = 0; l < w->nleases; l++)
                w->lease_start[l + 2] += w->lease_start[l + 1];
        for (size_t a = 0; a < w->nagents; a++)
                w->lease_members[w->lease_start[w->agents[a].lease + 1]++] =
                        &w->agents[a];
        if (w->nleases < (int32_t)w->nagents)
                ka_info("%s has %d partitions for %zu agents: agents share "
                        "leases, and move between workers together",
                        w->lease_topic, (int)w->nleases, w->nagents);

        subs = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(subs, w->lease_topic,
                                          RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(w->lease_rk, subs)) {
                rd_kafka_topic_partition_list_destroy(subs);
                snprintf(errstr, errstr_size, "cannot subscribe to %s",
                         w->lease_topic);
                return false;
        }
        rd_kafka_topic_partition_list_destroy(subs);
        return true;
}
