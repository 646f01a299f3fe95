/*
 * The metrics registry: a list of series, appended under a mutex, values
 * in atomics (doubles stored as their bits so that gauges and fractional
 * counters share one representation).
 */
#include "metrics.h"
#include "ka.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ka_metric_s {
        struct ka_metric_s *next;
        char *name, *help, *labels;
        ka_metric_kind_t kind;
        _Atomic uint64_t bits;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static ka_metric_t *head;

ka_metric_t *ka_metrics_get(const char *name, const char *help,
                            ka_metric_kind_t kind, const char *labels)
{
        ka_metric_t *m;

        pthread_mutex_lock(&lock);
        for (m = head; m; m = m->next)
                if (!strcmp(m->name, name) && !strcmp(m->labels, labels))
                        goto out;
        m = calloc(1, sizeof(*m));
        if (!m)
                goto out;
        m->name = strdup(name);
        m->help = strdup(help);
        m->labels = strdup(labels);
        m->kind = kind;
        atomic_init(&m->bits, ka_double_bits(0));
        if (!m->name || !m->help || !m->labels) {
                free(m->name);
                free(m->help);
                free(m->labels);
                free(m);
                m = NULL;
                goto out;
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
out:
        pthread_mutex_unlock(&lock);
        return m;
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
        return m ? ka_bits_double(atomic_load_explicit(
                           (_Atomic uint64_t *)&m->bits, memory_order_relaxed))
                 : 0;
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
                                m->help, m->name,
                                m->kind == KA_METRIC_COUNTER ? "counter"
                                                             : "gauge");
                        last = m->name;
                }
                fprintf(out, "%s%s%s%s %.17g\n", m->name, *m->labels ? "{" : "",
                        m->labels, *m->labels ? "}" : "", ka_metric_value(m));
        }
        pthread_mutex_unlock(&lock);
        fclose(out);
        return text;
}

void ka_metrics_reset(void)
{
        pthread_mutex_lock(&lock);
        while (head) {
                ka_metric_t *m = head;

                head = m->next;
                free(m->name);
                free(m->help);
                free(m->labels);
                free(m);
        }
        pthread_mutex_unlock(&lock);
}
