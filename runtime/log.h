/*
 * Logging: `[time] [pid] [LEVEL] message` lines on stderr, filtered by one
 * process-wide level set from `-l` (SPEC §3, §11).
 */
#ifndef KA_LOG_H
#define KA_LOG_H

#include <stdbool.h>

typedef enum ka_log_level_e {
        KA_LOG_CRIT = 0,
        KA_LOG_ERROR,
        KA_LOG_WARN,
        KA_LOG_INFO,
        KA_LOG_DEBUG,
} ka_log_level_t;

/* Parses "crit", "error", "warn" (or "warning"), "info", "debug". */
bool ka_log_level_parse(const char *name, ka_log_level_t *level);

void ka_log_set_level(ka_log_level_t level);
ka_log_level_t ka_log_get_level(void);

/* True when a message at level would be printed. */
bool ka_log_enabled(ka_log_level_t level);

__attribute__((format(printf, 2, 3))) void ka_log(ka_log_level_t level,
                                                  const char *fmt, ...);

#define ka_crit(...)  ka_log(KA_LOG_CRIT, __VA_ARGS__)
#define ka_error(...) ka_log(KA_LOG_ERROR, __VA_ARGS__)
#define ka_warn(...)  ka_log(KA_LOG_WARN, __VA_ARGS__)
#define ka_info(...)  ka_log(KA_LOG_INFO, __VA_ARGS__)
#define ka_debug(...)                                                          \
        do {                                                                   \
                if (ka_log_enabled(KA_LOG_DEBUG))                              \
                        ka_log(KA_LOG_DEBUG, __VA_ARGS__);                     \
        } while (0)

#endif
