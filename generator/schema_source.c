/*
 * The two schema sources of generate-agents: registry subjects and .avsc
 * files.
 */
#include "schema_source.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest .avsc file read: far above any real schema. */
#define MAX_SCHEMA_FILE (64 << 20)

struct ka_schema_source_s {
        ka_registry_t *reg; /* or */
        char *dir;
};

ka_schema_source_t *ka_schema_source_registry(ka_registry_t *reg)
{
        ka_schema_source_t *src = calloc(1, sizeof(*src));

        if (src)
                src->reg = reg;
        return src;
}

ka_schema_source_t *ka_schema_source_dir(const char *dir)
{
        ka_schema_source_t *src = calloc(1, sizeof(*src));

        if (src && !(src->dir = strdup(dir))) {
                free(src);
                return NULL;
        }
        return src;
}

void ka_schema_source_destroy(ka_schema_source_t *src)
{
        if (!src)
                return;
        free(src->dir);
        free(src);
}

/* The whole file at path as a string; KA_ERR_NOT_FOUND or KA_ERR_IO. */
static ka_err_t read_file(const char *path, char **text, char *errstr,
                          size_t errstr_size)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t len = 0, cap = 0;
        ka_err_t err = KA_OK;

        if (!f) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                return errno == ENOENT ? KA_ERR_NOT_FOUND : KA_ERR_IO;
        }
        for (;;) {
                size_t n;

                if (cap - len < 4096) {
                        char *p;

                        cap = cap ? cap * 2 : 8192;
                        if (cap > MAX_SCHEMA_FILE) {
                                snprintf(errstr, errstr_size,
                                         "%s: larger than %d MiB", path,
                                         MAX_SCHEMA_FILE >> 20);
                                err = KA_ERR_IO;
                                break;
                        }
                        if (!(p = realloc(buf, cap))) {
                                snprintf(errstr, errstr_size, "out of memory");
                                err = KA_ERR_NOMEM;
                                break;
                        }
                        buf = p;
                }
                n = fread(buf + len, 1, cap - len - 1, f);
                len += n;
                if (n == 0) {
                        if (ferror(f)) {
                                snprintf(errstr, errstr_size, "%s: read error",
                                         path);
                                err = KA_ERR_IO;
                        }
                        break;
                }
        }
        fclose(f);
        if (err) {
                free(buf);
                return err;
        }
        buf[len] = '\0';
        *text = buf;
        return KA_OK;
}

ka_err_t ka_schema_source_get(ka_schema_source_t *src, const char *topic,
                              ka_schema_info_t *info, char *errstr,
                              size_t errstr_size)
{
        char *path = NULL;
        ka_err_t err;

        memset(info, 0, sizeof(*info));
        if (src->reg) {
                char subject[300];

                snprintf(subject, sizeof(subject), "%s-value", topic);
                return ka_registry_latest(src->reg, subject, info, errstr,
                                          errstr_size);
        }
        if (asprintf(&path, "%s/%s.avsc", src->dir, topic) < 0 ||
            asprintf(&info->subject, "%s-value", topic) < 0) {
                free(path);
                info->subject = NULL;
                snprintf(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        err = read_file(path, &info->schema, errstr, errstr_size);
        free(path);
        if (err)
                ka_schema_info_release(info);
        return err;
}

char *ka_schema_source_origin(const ka_schema_source_t *src,
                              const ka_schema_info_t *info)
{
        char *s;
        int n;

        if (src->reg)
                n = asprintf(&s, "subject %s, version %d, schema id %d",
                             info->subject, (int)info->version, (int)info->id);
        else
                n = asprintf(&s, "subject %s, from a .avsc file",
                             info->subject);
        return n < 0 ? NULL : s;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void ka_schema_source_topics_free(char **topics, size_t n)
{
        ka_registry_subjects_free(topics, n);
}

/* Keeps the names of names[0 .. *n) that end with suffix, without it. */
static void keep_suffixed(char **names, size_t *n, const char *suffix)
{
        size_t keep = 0, k = strlen(suffix);

        for (size_t i = 0; i < *n; i++) {
                size_t len = strlen(names[i]);

                if (len > k && !strcmp(names[i] + len - k, suffix)) {
                        names[i][len - k] = '\0';
                        names[keep++] = names[i];
                } else {
                        free(names[i]);
                }
        }
        *n = keep;
}

/* The file names of dir (every entry but . and ..). */
static ka_err_t list_dir(const char *dir, char ***names, size_t *n,
                         char *errstr, size_t errstr_size)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        size_t cap = 0;
        char **v = NULL;

        *names = NULL;
        *n = 0;
        if (!d) {
                snprintf(errstr, errstr_size, "%s: %s", dir, strerror(errno));
                return KA_ERR_IO;
        }
        while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                        continue;
                if (*n == cap) {
                        char **p;

                        cap = cap ? cap * 2 : 64;
                        if (!(p = realloc(v, cap * sizeof(*v))))
                                goto nomem;
                        v = p;
                }
                if (!(v[*n] = strdup(e->d_name)))
                        goto nomem;
                (*n)++;
        }
        closedir(d);
        *names = v;
        return KA_OK;
nomem:
        closedir(d);
        ka_registry_subjects_free(v, *n);
        *n = 0;
        snprintf(errstr, errstr_size, "out of memory");
        return KA_ERR_NOMEM;
}

ka_err_t ka_schema_source_topics(ka_schema_source_t *src, char ***topics,
                                 size_t *n, char *errstr, size_t errstr_size)
{
        ka_err_t err;

        if (src->reg) {
                err = ka_registry_subjects(src->reg, topics, n, errstr,
                                           errstr_size);
                if (!err)
                        keep_suffixed(*topics, n, "-value");
        } else {
                err = list_dir(src->dir, topics, n, errstr, errstr_size);
                if (!err)
                        keep_suffixed(*topics, n, ".avsc");
        }
        if (!err)
                qsort(*topics, *n, sizeof(**topics), cmp_str);
        return err;
}

char *ka_schema_source_where(const ka_schema_source_t *src)
{
        char *s;
        int n;

        if (src->reg)
                n = asprintf(&s,
                             "the <topic>-value subjects of the registry "
                             "%s",
                             ka_registry_url(src->reg));
        else
                n = asprintf(&s, "the .avsc files of %s", src->dir);
        return n < 0 ? NULL : s;
}
