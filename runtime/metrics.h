/*
 * Process metrics in the Prometheus text format (SPEC §11). Series are
 * created up front or on first use (under a lock) and updated lock-free,
 * so the hot path pays one relaxed atomic add; the web server renders them
 * from its own thread.
 */
#ifndef KA_METRICS_H
#define KA_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef enum ka_metric_kind_e {
        KA_METRIC_COUNTER,
        KA_METRIC_GAUGE,
} ka_metric_kind_t;

/* One series: a metric name with one set of label values. */
typedef struct ka_metric_s ka_metric_t;

/*
 * The series name{labels} (labels: `topic="x",reason="y"` or "" — the
 * caller escapes values with ka_metrics_label()), created on first use
 * with help text and kind; the same pointer on later calls. Lives until
 * ka_metrics_reset() (tests) or process exit. NULL only out of memory.
 */
ka_metric_t *ka_metrics_get(const char *name, const char *help,
                            ka_metric_kind_t kind, const char *labels);

/* Counter or gauge arithmetic; thread safe; NULL-safe. */
void ka_metric_add(ka_metric_t *m, double v);
void ka_metric_set(ka_metric_t *m, double v);
double ka_metric_value(const ka_metric_t *m);

/* Writes `key="value"` with value escaped for the text format into buf. */
void ka_metrics_label(char *buf, size_t size, const char *key,
                      const char *value);

/* Every series, grouped by name with # HELP and # TYPE lines (malloc'd). */
char *ka_metrics_render(void);

/* Forgets every series (for tests). */
void ka_metrics_reset(void);

#endif
