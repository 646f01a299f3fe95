/*
 * Progress records and their commit metadata (JSON through jansson).
 */
#include "progress.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

ka_progress_t *ka_progress_new(int64_t time_ms, int64_t closed_through)
{
        ka_progress_t *p = calloc(1, sizeof(*p));

        if (p) {
                p->time_ms = time_ms;
                p->closed_through = closed_through;
        }
        return p;
}

void ka_progress_destroy(ka_progress_t *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->nsources; i++) {
                free(p->sources[i].topic);
                free(p->sources[i].offsets);
        }
        free(p->sources);
        free(p);
}

int64_t *ka_progress_add_source(ka_progress_t *p, const char *topic,
                                int32_t npartitions)
{
        ka_progress_source_t *src, *s;

        if (npartitions < 0 || npartitions > KA_PROGRESS_MAX_PARTITIONS)
                return NULL;
        src = realloc(p->sources, (p->nsources + 1) * sizeof(*src));
        if (!src)
                return NULL;
        p->sources = src;
        s = &src[p->nsources];
        s->topic = strdup(topic);
        s->npartitions = npartitions;
        s->offsets = malloc(((size_t)npartitions + 1) * sizeof(*s->offsets));
        if (!s->topic || !s->offsets) {
                free(s->topic);
                free(s->offsets);
                return NULL;
        }
        for (int32_t i = 0; i < npartitions; i++)
                s->offsets[i] = -1;
        p->nsources++;
        return s->offsets;
}

const int64_t *ka_progress_offsets(const ka_progress_t *p, const char *topic,
                                   int32_t *npartitions)
{
        for (size_t i = 0; p && i < p->nsources; i++) {
                if (!strcmp(p->sources[i].topic, topic)) {
                        *npartitions = p->sources[i].npartitions;
                        return p->sources[i].offsets;
                }
        }
        *npartitions = 0;
        return NULL;
}

ka_progress_t *ka_progress_copy(const ka_progress_t *p)
{
        ka_progress_t *c = ka_progress_new(p->time_ms, p->closed_through);

        for (size_t i = 0; c && i < p->nsources; i++) {
                const ka_progress_source_t *s = &p->sources[i];
                int64_t *o =
                        ka_progress_add_source(c, s->topic, s->npartitions);

                if (!o) {
                        ka_progress_destroy(c);
                        return NULL;
                }
                memcpy(o, s->offsets, (size_t)s->npartitions * sizeof(*o));
        }
        return c;
}

int32_t ka_progress_lease_of(const char *const *names, size_t nagents,
                             size_t agent, int32_t nleases)
{
        size_t rank = 0;

        /* The rank in sorted order without sorting: names are distinct,
         * and this runs once per agent at start. */
        for (size_t i = 0; i < nagents; i++)
                rank += strcmp(names[i], names[agent]) < 0;
        return nleases > 0 ? (int32_t)(rank % (size_t)nleases) : 0;
}

static json_t *progress_json(const ka_progress_t *p)
{
        json_t *o = json_object(), *j;

        j = json_pack("{s:I, s:o}", "t", (json_int_t)p->time_ms, "o", o);
        if (j && p->closed_through != INT64_MIN)
                json_object_set_new(
                        j, "c", json_integer((json_int_t)p->closed_through));
        for (size_t i = 0; j && i < p->nsources; i++) {
                const ka_progress_source_t *s = &p->sources[i];
                json_t *offs = json_array();

                for (int32_t k = 0; offs && k < s->npartitions; k++)
                        json_array_append_new(
                                offs, json_integer((json_int_t)s->offsets[k]));
                json_object_set_new(o, s->topic, offs);
        }
        return j;
}

char *ka_progress_encode(const char *const *names,
                         const ka_progress_t *const *progs, size_t n)
{
        json_t *agents = json_object(), *root;
        char *text;

        root = json_pack("{s:i, s:o}", "v", 1, "a", agents);
        for (size_t i = 0; root && i < n; i++)
                if (progs[i])
                        json_object_set_new(agents, names[i],
                                            progress_json(progs[i]));
        text = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(root);
        return text;
}

/* An integer of j within [min, max] into *v. */
static bool int_in(const json_t *j, int64_t min, int64_t max, int64_t *v)
{
        json_int_t x;

        if (!json_is_integer(j))
                return false;
        x = json_integer_value(j);
        if (x < min || x > max)
                return false;
        *v = (int64_t)x;
        return true;
}

ka_err_t ka_progress_decode(const void *md, size_t len, const char *agent,
                            ka_progress_t **out)
{
        json_t *root, *a, *offsets, *offs;
        const char *topic;
        ka_progress_t *p = NULL;
        int64_t t, c = INT64_MIN, v;
        ka_err_t err = KA_ERR_INVALID;

        *out = NULL;
        if (!md || !len)
                return KA_ERR_NOT_FOUND;
        if (!(root = json_loadb(md, len, JSON_REJECT_DUPLICATES, NULL)))
                return KA_ERR_INVALID;
        if (!json_is_object(root) ||
            json_integer_value(json_object_get(root, "v")) != 1 ||
            !json_is_object(json_object_get(root, "a")))
                goto out;
        if (!(a = json_object_get(json_object_get(root, "a"), agent))) {
                err = KA_ERR_NOT_FOUND;
                goto out;
        }
        offsets = json_object_get(a, "o");
        if (!json_is_object(a) ||
            !int_in(json_object_get(a, "t"), 0, INT64_MAX, &t) ||
            (json_object_get(a, "c") &&
             !int_in(json_object_get(a, "c"), INT64_MIN + 1, INT64_MAX, &c)) ||
            !json_is_object(offsets))
                goto out;
        err = KA_ERR_NOMEM;
        if (!(p = ka_progress_new(t, c)))
                goto out;
        json_object_foreach(offsets, topic, offs)
        {
                size_t n = json_array_size(offs);
                int64_t *o;

                if (!json_is_array(offs) || n > KA_PROGRESS_MAX_PARTITIONS) {
                        err = KA_ERR_INVALID;
                        goto out;
                }
                if (!(o = ka_progress_add_source(p, topic, (int32_t)n)))
                        goto out;
                for (size_t k = 0; k < n; k++) {
                        if (!int_in(json_array_get(offs, k), -1, INT64_MAX,
                                    &v)) {
                                err = KA_ERR_INVALID;
                                goto out;
                        }
                        o[k] = v;
                }
        }
        *out = p;
        p = NULL;
        err = KA_OK;
out:
        ka_progress_destroy(p);
        json_decref(root);
        return err;
}

int64_t ka_progress_legacy_closed_through(const void *md, size_t len,
                                          const char *agent)
{
        json_t *root = md && len ? json_loadb(md, len, 0, NULL) : NULL;
        json_t *v =
                json_object_get(json_object_get(root, "closed_through"), agent);
        int64_t ct = INT64_MIN;

        if (json_integer_value(json_object_get(root, "ka")) == 1)
                int_in(v, INT64_MIN + 1, INT64_MAX, &ct);
        json_decref(root);
        return ct;
}
