/*
 * The metrics registry: a list of series, appended under a mutex, values
 * in atomics (doubles stored as their bits so that gauges and fractional
 * counters share one representation); then the process metrics, read from
 * /proc when rendered.
 */
#include "metrics.h"
#include "ka.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct ka_metric_s {
        struct ka_metric_s *next;
        char *name, *help, *labels;
        ka_metric_kind_t kind;
        _Atomic uint64_t bits; /* the value; a histogram's sum */
        /* histograms: counts[i] of observations <= bounds[i], counts[n]
         * of all (the +Inf bucket, which is also the count) */
        size_t nbounds;
        double *bounds;
        _Atomic uint64_t *counts;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static ka_metric_t *head;

static void metric_free(ka_metric_t *m)
{
        free(m->name);
        free(m->help);
        free(m->labels);
        free(m->bounds);
        free((void *)m->counts);
        free(m);
}

/* The series name{labels}, created when absent; the caller holds lock. */
static ka_metric_t *get_locked(const char *name, const char *help,
                               ka_metric_kind_t kind, const char *labels,
                               const double *bounds, size_t nbounds)
{
        ka_metric_t *m;

        for (m = head; m; m = m->next)
                if (!strcmp(m->name, name) && !strcmp(m->labels, labels))
                        return m;
        if (!(m = calloc(1, sizeof(*m))))
                return NULL;
        m->name = strdup(name);
        m->help = strdup(help);
        m->labels = strdup(labels);
        m->kind = kind;
        atomic_init(&m->bits, ka_double_bits(0));
        if (kind == KA_METRIC_HISTOGRAM) {
                m->nbounds = nbounds;
                m->bounds = malloc((nbounds + 1) * sizeof(*m->bounds));
                m->counts = calloc(nbounds + 1, sizeof(*m->counts));
                if (m->bounds)
                        memcpy(m->bounds, bounds, nbounds * sizeof(*m->bounds));
        }
        if (!m->name || !m->help || !m->labels ||
            (kind == KA_METRIC_HISTOGRAM && (!m->bounds || !m->counts))) {
                metric_free(m);
                return NULL;
        }
        /* Keep series of one name together for rendering: insert after
         * the last of its name, or at the end. Series are created at start
         * and on first use, so the walk costs nothing that matters. */
        {
                ka_metric_t **at = NULL, **p;

                for (p = &head; *p; p = &(*p)->next)
                        if (!strcmp((*p)->name, name))
                                at = &(*p)->next;
                if (!at)
                        at = p;
                m->next = *at;
                *at = m;
        }
        return m;
}

ka_metric_t *ka_metrics_get(const char *name, const char *help,
                            ka_metric_kind_t kind, const char *labels)
{
        ka_metric_t *m;

        pthread_mutex_lock(&lock);
        m = get_locked(name, help, kind, labels, NULL, 0);
        pthread_mutex_unlock(&lock);
        return m;
}

ka_metric_t *ka_metrics_histogram(const char *name, const char *help,
                                  const char *labels, const double *bounds,
                                  size_t n)
{
        ka_metric_t *m;

        pthread_mutex_lock(&lock);
        m = get_locked(name, help, KA_METRIC_HISTOGRAM, labels, bounds, n);
        pthread_mutex_unlock(&lock);
        return m;
}

void ka_metric_remove(ka_metric_t *m)
{
        if (!m)
                return;
        pthread_mutex_lock(&lock);
        for (ka_metric_t **p = &head; *p; p = &(*p)->next) {
                if (*p == m) {
                        *p = m->next;
                        metric_free(m);
                        break;
                }
        }
        pthread_mutex_unlock(&lock);
}

void ka_metric_observe(ka_metric_t *m, double v)
{
        size_t i = 0;

        if (!m || m->kind != KA_METRIC_HISTOGRAM)
                return;
        while (i < m->nbounds && !(v <= m->bounds[i]))
                i++;
        /* Cumulative at render time: each observation counts once here. */
        atomic_fetch_add_explicit(&m->counts[i], 1, memory_order_relaxed);
        ka_metric_add(m, v);
}

void ka_metric_add(ka_metric_t *m, double v)
{
        uint64_t old;

        if (!m)
                return;
        old = atomic_load_explicit(&m->bits, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(
                &m->bits, &old, ka_double_bits(ka_bits_double(old) + v),
                memory_order_relaxed, memory_order_relaxed))
                ;
}

void ka_metric_set(ka_metric_t *m, double v)
{
        if (m)
                atomic_store_explicit(&m->bits, ka_double_bits(v),
                                      memory_order_relaxed);
}

double ka_metric_value(const ka_metric_t *m)
{
        uint64_t n = 0;

        if (!m)
                return 0;
        if (m->kind != KA_METRIC_HISTOGRAM)
                return ka_bits_double(atomic_load_explicit(
                        (_Atomic uint64_t *)&m->bits, memory_order_relaxed));
        for (size_t i = 0; i <= m->nbounds; i++)
                n += atomic_load_explicit(&m->counts[i], memory_order_relaxed);
        return (double)n;
}

void ka_metrics_label(char *buf, size_t size, const char *key,
                      const char *value)
{
        size_t n = 0;

        if (!size)
                return;
        n += (size_t)snprintf(buf, size, "%s=\"", key);
        for (const char *p = value; *p && n + 3 < size; p++) {
                if (*p == '\\' || *p == '"') {
                        buf[n++] = '\\';
                        buf[n++] = *p;
                } else if (*p == '\n') {
                        buf[n++] = '\\';
                        buf[n++] = 'n';
                } else {
                        buf[n++] = *p;
                }
        }
        if (n + 2 <= size) {
                buf[n++] = '"';
                buf[n] = '\0';
        } else {
                buf[size - 1] = '\0';
        }
}

static const char *kind_name(ka_metric_kind_t kind)
{
        switch (kind) {
        case KA_METRIC_COUNTER:
                return "counter";
        case KA_METRIC_HISTOGRAM:
                return "histogram";
        default:
                return "gauge";
        }
}

/* A value as the text format writes it: shortest round trip, +Inf. */
static void put_value(FILE *out, double v)
{
        if (isinf(v))
                fputs(v > 0 ? "+Inf" : "-Inf", out);
        else if (isnan(v))
                fputs("NaN", out);
        else
                fprintf(out, "%.17g", v);
}

static void render_histogram(FILE *out, const ka_metric_t *m)
{
        const char *sep = *m->labels ? "," : "";
        uint64_t cum = 0;

        for (size_t i = 0; i <= m->nbounds; i++) {
                cum += atomic_load_explicit(&m->counts[i],
                                            memory_order_relaxed);
                fprintf(out, "%s_bucket{%s%sle=\"", m->name, m->labels, sep);
                if (i < m->nbounds)
                        put_value(out, m->bounds[i]);
                else
                        fputs("+Inf", out);
                fprintf(out, "\"} %llu\n", (unsigned long long)cum);
        }
        fprintf(out, "%s_sum%s%s%s ", m->name, *m->labels ? "{" : "", m->labels,
                *m->labels ? "}" : "");
        put_value(out,
                  ka_bits_double(atomic_load_explicit(
                          (_Atomic uint64_t *)&m->bits, memory_order_relaxed)));
        fprintf(out, "\n%s_count%s%s%s %llu\n", m->name, *m->labels ? "{" : "",
                m->labels, *m->labels ? "}" : "", (unsigned long long)cum);
}

/*
 * process_* as the Prometheus client libraries export them, from
 * /proc/self (Linux). A value that cannot be read is left out.
 */
static void render_process(FILE *out)
{
        long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
        unsigned long long utime, stime, start, vsize, btime = 0;
        long long rss;
        struct rlimit rl;
        char buf[1024], *p;
        FILE *f;
        DIR *d;

        if ((f = fopen("/proc/self/stat", "r"))) {
                /* Fields after the command, which may hold spaces and
                 * parentheses: scan from the last ')'. */
                if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
                    sscanf(p + 2,
                           "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
                           "%llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
                           &utime, &stime, &start, &vsize, &rss) == 5 &&
                    ticks > 0) {
                        fprintf(out,
                                "# HELP process_cpu_seconds_total Total user "
                                "and system CPU time spent in seconds.\n"
                                "# TYPE process_cpu_seconds_total counter\n"
                                "process_cpu_seconds_total %.2f\n",
                                (double)(utime + stime) / (double)ticks);
                        fprintf(out,
                                "# HELP process_virtual_memory_bytes Virtual "
                                "memory size in bytes.\n"
                                "# TYPE process_virtual_memory_bytes gauge\n"
                                "process_virtual_memory_bytes %llu\n",
                                vsize);
                        fprintf(out,
                                "# HELP process_resident_memory_bytes "
                                "Resident memory size in bytes.\n"
                                "# TYPE process_resident_memory_bytes gauge\n"
                                "process_resident_memory_bytes %lld\n",
                                rss * page);
                }
                fclose(f);
        }
        if ((f = fopen("/proc/stat", "r"))) {
                while (fgets(buf, sizeof(buf), f))
                        if (sscanf(buf, "btime %llu", &btime) == 1)
                                break;
                fclose(f);
        }
        if (btime && ticks > 0)
                fprintf(out,
                        "# HELP process_start_time_seconds Start time of the "
                        "process since unix epoch in seconds.\n"
                        "# TYPE process_start_time_seconds gauge\n"
                        "process_start_time_seconds %.2f\n",
                        (double)btime + (double)start / (double)ticks);
        if ((d = opendir("/proc/self/fd"))) {
                long n = 0;
                struct dirent *de;

                while ((de = readdir(d)))
                        n += de->d_name[0] != '.';
                closedir(d);
                /* Less the one opendir() holds. */
                fprintf(out,
                        "# HELP process_open_fds Number of open file "
                        "descriptors.\n# TYPE process_open_fds gauge\n"
                        "process_open_fds %ld\n",
                        n - 1);
        }
        if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
                fprintf(out,
                        "# HELP process_max_fds Maximum number of open file "
                        "descriptors.\n# TYPE process_max_fds gauge\n"
                        "process_max_fds %llu\n",
                        (unsigned long long)rl.rlim_cur);
}

char *ka_metrics_render(void)
{
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        const char *last = NULL;

        if (!out)
                return NULL;
        pthread_mutex_lock(&lock);
        for (const ka_metric_t *m = head; m; m = m->next) {
                if (!last || strcmp(last, m->name)) {
                        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name,
                                m->help, m->name, kind_name(m->kind));
                        last = m->name;
                }
                if (m->kind == KA_METRIC_HISTOGRAM) {
                        render_histogram(out, m);
                        continue;
                }
                fprintf(out, "%s%s%s%s ", m->name, *m->labels ? "{" : "",
                        m->labels, *m->labels ? "}" : "");
                put_value(out, ka_metric_value(m));
                fputc('\n', out);
        }
        pthread_mutex_unlock(&lock);
        render_process(out);
        fclose(out);
        return text;
}

void ka_metrics_reset(void)
{
        pthread_mutex_lock(&lock);
        while (head) {
                ka_metric_t *m = head;

                head = m->next;
                metric_free(m);
        }
        pthread_mutex_unlock(&lock);
}
