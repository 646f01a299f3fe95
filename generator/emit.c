/*
 * Template rendering to files with write-if-changed and stale removal.
 */
#include "emit.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The whole file at path (malloc'd, NUL-terminated), or NULL with errno. */
static char *slurp(const char *path, size_t *lenp)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t len = 0, cap = 0, n;

        if (!f)
                return NULL;
        do {
                if (cap - len < 4096) {
                        char *p = realloc(buf, cap = cap * 2 + 8192);

                        if (!p) {
                                free(buf);
                                fclose(f);
                                errno = ENOMEM;
                                return NULL;
                        }
                        buf = p;
                }
                n = fread(buf + len, 1, cap - len - 1, f);
                len += n;
        } while (n > 0);
        if (ferror(f)) {
                free(buf);
                fclose(f);
                errno = EIO;
                return NULL;
        }
        fclose(f);
        buf[len] = '\0';
        if (lenp)
                *lenp = len;
        return buf;
}

ka_mustache_t *ka_emit_load_template(const char *dir, const char *name,
                                     char *errstr, size_t errstr_size)
{
        ka_mustache_t *tpl = NULL;
        char *path = NULL, *text = NULL;

        if (!dir) {
                for (const ka_emit_builtin_t *b = ka_emit_builtins; b->name;
                     b++) {
                        if (strcmp(b->name, name))
                                continue;
                        if (asprintf(&path, "<built-in>/%s", name) < 0) {
                                snprintf(errstr, errstr_size, "out of memory");
                                return NULL;
                        }
                        tpl = ka_mustache_parse(path, b->text, errstr,
                                                errstr_size);
                        free(path);
                        return tpl;
                }
                snprintf(errstr, errstr_size, "no built-in template '%s'",
                         name);
                return NULL;
        }
        if (asprintf(&path, "%s/%s", dir, name) < 0) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (!(text = slurp(path, NULL)))
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        else
                tpl = ka_mustache_parse(path, text, errstr, errstr_size);
        free(text);
        free(path);
        return tpl;
}

static ka_err_t write_if_changed(const char *path, const char *content,
                                 bool *changed, char *errstr,
                                 size_t errstr_size)
{
        size_t len = strlen(content), old_len;
        char *old = slurp(path, &old_len), *tmp = NULL;
        ka_err_t err = KA_ERR_IO;
        FILE *f = NULL;

        *changed = !old || old_len != len || memcmp(old, content, len);
        free(old);
        if (!*changed)
                return KA_OK;

        if (asprintf(&tmp, "%s.tmp", path) < 0) {
                snprintf(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        if (!(f = fopen(tmp, "wb")) || fwrite(content, 1, len, f) != len) {
                snprintf(errstr, errstr_size, "%s: %s", tmp, strerror(errno));
                goto out;
        }
        if (fclose(f)) {
                f = NULL;
                snprintf(errstr, errstr_size, "%s: %s", tmp, strerror(errno));
                goto out;
        }
        f = NULL;
        if (rename(tmp, path)) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                goto out;
        }
        err = KA_OK;
out:
        if (f)
                fclose(f);
        if (err)
                unlink(tmp);
        free(tmp);
        return err;
}

ka_err_t ka_emit_render(const ka_mustache_t *tpl, const json_t *ctx,
                        const char *dir, const char *file,
                        ka_emit_stats_t *stats, char *errstr,
                        size_t errstr_size)
{
        char *text = ka_mustache_render(tpl, ctx, NULL, 0, errstr, errstr_size);
        char *path = NULL;
        bool changed;
        ka_err_t err;

        if (!text)
                return KA_ERR_INVALID;
        if (asprintf(&path, "%s/%s", dir, file) < 0) {
                free(text);
                snprintf(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        err = write_if_changed(path, text, &changed, errstr, errstr_size);
        if (!err) {
                if (changed)
                        stats->written++;
                else
                        stats->unchanged++;
        }
        free(path);
        free(text);
        return err;
}

static bool is_generated(const char *path)
{
        char head[sizeof(KA_EMIT_MARK)] = "";
        FILE *f = fopen(path, "rb");
        size_t n;

        if (!f)
                return false;
        n = fread(head, 1, sizeof(head) - 1, f);
        fclose(f);
        head[n] = '\0';
        return !strcmp(head, KA_EMIT_MARK);
}

ka_err_t ka_emit_remove_stale(const char *dir, const char *const *keep,
                              size_t nkeep, ka_emit_stats_t *stats,
                              char *errstr, size_t errstr_size)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        ka_err_t err = KA_OK;

        if (!d) {
                snprintf(errstr, errstr_size, "%s: %s", dir, strerror(errno));
                return KA_ERR_IO;
        }
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                bool kept = false;
                char *path;

                if (len < 3 || strcmp(de->d_name + len - 2, ".c"))
                        continue;
                for (size_t i = 0; i < nkeep && !kept; i++)
                        kept = !strcmp(keep[i], de->d_name);
                if (kept)
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
                        err = KA_ERR_NOMEM;
                        break;
                }
                if (is_generated(path)) {
                        if (unlink(path)) {
                                snprintf(errstr, errstr_size, "%s: %s", path,
                                         strerror(errno));
                                err = KA_ERR_IO;
                        } else {
                                stats->removed++;
                        }
                }
                free(path);
        }
        closedir(d);
        return err;
}
