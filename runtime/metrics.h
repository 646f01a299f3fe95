/*
 * Process metrics in the Prometheus text format (SPEC §11), clean under
 * `promtool check metrics`. Series are created up front or on first use
 * (under a lock) and updated lock-free, so the hot path pays one relaxed
 * atomic add; the web server renders them from its own thread, followed
 * by the process_* metrics of the running process.
 */
#ifndef KA_METRICS_H
#define KA_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef enum ka_metric_kind_e {
        KA_METRIC_COUNTER, /* name ends in _total */
        KA_METRIC_GAUGE,
        KA_METRIC_HISTOGRAM, /* see ka_metrics_histogram() */
} ka_metric_kind_t;

/* One series: a metric name with one set of label values. */
typedef struct ka_metric_s ka_metric_t;

/*
 * The series name{labels} (labels: `a="x",b="y"` or "" — the caller
 * escapes values with ka_metrics_label()), created on first use with help
 * text and kind (a counter or a gauge); the same pointer on later calls.
 * Lives until ka_metric_remove(), ka_metrics_reset() (tests) or process
 * exit. NULL only out of memory.
 */
ka_metric_t *ka_metrics_get(const char *name, const char *help,
                            ka_metric_kind_t kind, const char *labels);

/*
 * A histogram series name{labels} with the upper bounds bounds[0..n)
 * (ascending, finite; +Inf is implied), rendered as name_bucket,
 * name_sum and name_count. bounds is copied on creation.
 */
ka_metric_t *ka_metrics_histogram(const char *name, const char *help,
                                  const char *labels, const double *bounds,
                                  size_t n);

/* Counter or gauge arithmetic; thread safe; NULL-safe. */
void ka_metric_add(ka_metric_t *m, double v);
void ka_metric_set(ka_metric_t *m, double v);
/* The value: a counter's or gauge's, a histogram's count. */
double ka_metric_value(const ka_metric_t *m);

/* One observation of a histogram; thread safe; NULL-safe. */
void ka_metric_observe(ka_metric_t *m, double v);

/* Drops the series m (a partition no longer read): m is freed, and a later
 * ka_metrics_get() of it starts from zero. NULL-safe. */
void ka_metric_remove(ka_metric_t *m);

/* Writes `key="value"` with value escaped for the text format into buf. */
void ka_metrics_label(char *buf, size_t size, const char *key,
                      const char *value);

/* Every series, grouped by name with # HELP and # TYPE lines, then the
 * process_* metrics (malloc'd). */
char *ka_metrics_render(void);

/* Forgets every series (for tests). */
void ka_metrics_reset(void);

#endif
