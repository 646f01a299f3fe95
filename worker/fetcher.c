/*
 * The fetcher: a list of ids under a mutex, one thread that takes pending
 * ids in request order and fetches them.
 */
#include "fetcher.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry_s {
        int32_t id;
        ka_fetch_state_t state;
        ka_err_t err;
        char errstr[512];
} entry_t;

struct ka_fetcher_s {
        ka_registry_t *reg;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        entry_t *entries;
        size_t n, cap;
};

/* The entry of id, or NULL; the caller holds the lock. */
static entry_t *find(ka_fetcher_t *f, int32_t id)
{
        for (size_t i = 0; i < f->n; i++)
                if (f->entries[i].id == id)
                        return &f->entries[i];
        return NULL;
}

static void *run(void *opaque)
{
        ka_fetcher_t *f = opaque;

        pthread_mutex_lock(&f->lock);
        for (;;) {
                entry_t *e = NULL;
                const char *schema;
                char errstr[512];
                ka_err_t err;
                int32_t id;

                for (size_t i = 0; i < f->n && !e; i++)
                        if (f->entries[i].state == KA_FETCH_PENDING)
                                e = &f->entries[i];
                if (f->stop)
                        break;
                if (!e) {
                        pthread_cond_wait(&f->cond, &f->lock);
                        continue;
                }
                id = e->id;
                pthread_mutex_unlock(&f->lock);
                errstr[0] = '\0';
                err = ka_registry_schema_by_id(f->reg, id, &schema, errstr,
                                               sizeof(errstr));
                pthread_mutex_lock(&f->lock);
                /* Entries may have moved (realloc): look id up again. */
                if ((e = find(f, id))) {
                        e->state = err ? KA_FETCH_FAILED : KA_FETCH_DONE;
                        e->err = err;
                        snprintf(e->errstr, sizeof(e->errstr), "%s", errstr);
                }
        }
        pthread_mutex_unlock(&f->lock);
        return NULL;
}

ka_fetcher_t *ka_fetcher_new(ka_registry_t *reg)
{
        ka_fetcher_t *f = calloc(1, sizeof(*f));

        if (!f)
                return NULL;
        f->reg = reg;
        pthread_mutex_init(&f->lock, NULL);
        pthread_cond_init(&f->cond, NULL);
        if (pthread_create(&f->thread, NULL, run, f)) {
                pthread_mutex_destroy(&f->lock);
                pthread_cond_destroy(&f->cond);
                free(f);
                return NULL;
        }
        return f;
}

void ka_fetcher_destroy(ka_fetcher_t *f)
{
        if (!f)
                return;
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_signal(&f->cond);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
        pthread_mutex_destroy(&f->lock);
        pthread_cond_destroy(&f->cond);
        free(f->entries);
        free(f);
}

void ka_fetcher_request(ka_fetcher_t *f, int32_t id)
{
        entry_t *e;

        pthread_mutex_lock(&f->lock);
        if (!(e = find(f, id))) {
                if (f->n == f->cap) {
                        size_t cap = f->cap ? f->cap * 2 : 8;
                        entry_t *p = realloc(f->entries, cap * sizeof(*p));

                        if (!p) {
                                /* Asked again on the next message. */
                                pthread_mutex_unlock(&f->lock);
                                return;
                        }
                        f->entries = p;
                        f->cap = cap;
                }
                e = &f->entries[f->n++];
                memset(e, 0, sizeof(*e));
                e->id = id;
        }
        if (e->state == KA_FETCH_UNKNOWN || e->state == KA_FETCH_FAILED) {
                e->state = KA_FETCH_PENDING;
                pthread_cond_signal(&f->cond);
        }
        pthread_mutex_unlock(&f->lock);
}

ka_fetch_state_t ka_fetcher_state(ka_fetcher_t *f, int32_t id, ka_err_t *err,
                                  char *errstr, size_t errstr_size)
{
        ka_fetch_state_t state = KA_FETCH_UNKNOWN;
        entry_t *e;

        pthread_mutex_lock(&f->lock);
        if ((e = find(f, id))) {
                state = e->state;
                *err = e->err;
                snprintf(errstr, errstr_size, "%s", e->errstr);
        }
        pthread_mutex_unlock(&f->lock);
        return state;
}
