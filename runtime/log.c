/*
 * Logging to stderr. One line is formatted into a local buffer and written
 * with a single write(2) so that lines from several threads never interleave.
 */
#include "log.h"
#include "ka.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int current_level = KA_LOG_INFO;

static const char *const level_names[] = {"CRITICAL", "ERROR", "WARNING",
                                          "INFO", "DEBUG"};

bool ka_log_level_parse(const char *name, ka_log_level_t *level)
{
        static const struct {
                const char *name;
                ka_log_level_t level;
        } names[] = {
                {"crit", KA_LOG_CRIT},    {"critical", KA_LOG_CRIT},
                {"error", KA_LOG_ERROR},  {"warn", KA_LOG_WARN},
                {"warning", KA_LOG_WARN}, {"info", KA_LOG_INFO},
                {"debug", KA_LOG_DEBUG},
        };

        for (size_t i = 0; i < KA_ARRAY_SIZE(names); i++) {
                if (!strcasecmp(name, names[i].name)) {
                        *level = names[i].level;
                        return true;
                }
        }
        return false;
}

void ka_log_set_level(ka_log_level_t level)
{
        current_level = (int)level;
}

ka_log_level_t ka_log_get_level(void)
{
        return (ka_log_level_t)current_level;
}

bool ka_log_enabled(ka_log_level_t level)
{
        return (int)level <= current_level;
}

void ka_log(ka_log_level_t level, const char *fmt, ...)
{
        char line[2048];
        struct timeval tv;
        struct tm tm;
        size_t len;
        va_list ap;
        int n;

        if (!ka_log_enabled(level))
                return;

        gettimeofday(&tv, NULL);
        localtime_r(&tv.tv_sec, &tm);
        len = strftime(line, sizeof(line), "[%Y-%m-%d %H:%M:%S", &tm);
        n = snprintf(line + len, sizeof(line) - len, ",%03d] [%d] [%s] ",
                     (int)(tv.tv_usec / 1000), (int)getpid(),
                     level_names[level]);
        if (n > 0)
                len += (size_t)n;

        va_start(ap, fmt);
        n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
        va_end(ap);
        if (n > 0)
                len += (size_t)n;
        if (len > sizeof(line) - 2)
                len = sizeof(line) - 2;
        line[len++] = '\n';

        /* One write per line; a short write to stderr is not worth a loop. */
        if (write(STDERR_FILENO, line, len) < 0)
                return;
}
