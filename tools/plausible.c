/*
 * Plausible random records: a walk of the resolved schema (avro_schema.h)
 * that writes each value with the Avro wire writers, starting over in a
 * larger buffer when one does not fit.
 */
#include "plausible.h"
#include "avro_schema.h"
#include "avro_wire.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ka_plausible_s {
        ka_avro_schema_t *schema;
        size_t array_length;
};

/* What one walk needs besides the node. */
typedef struct walk_s {
        const ka_plausible_t *p;
        double now;
        int64_t seq;
        uint64_t *rng;
        ka_avro_writer_t *w;
} walk_t;

/* How a field's name makes it special. */
typedef enum role_e {
        ROLE_NONE,
        ROLE_TIME, /* now */
        ROLE_SEQ,  /* the sequence number */
} role_t;

static uint64_t next_random(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15u);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        return z ^ (z >> 31);
}

/* Uniform in [0, 1): the top 53 bits as a binary fraction. */
static double uniform01(uint64_t *rng)
{
        return (double)(next_random(rng) >> 11) * 0x1.0p-53;
}

static uint64_t below(uint64_t *rng, uint64_t n)
{
        return next_random(rng) % n;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);

        return n >= k && !strcmp(s + n - k, suffix);
}

static role_t role_of(const char *name)
{
        if (!name)
                return ROLE_NONE;
        if (!strcmp(name, "time") || !strcmp(name, "timestamp") ||
            ends_with(name, "Stamp"))
                return ROLE_TIME;
        if (!strcmp(name, "seqNum") || ends_with(name, "SeqNum") ||
            ends_with(name, "_seqNum"))
                return ROLE_SEQ;
        return ROLE_NONE;
}

static void write_value(walk_t *wk, const ka_avro_node_t *t, const json_t *def,
                        role_t role, int depth);

static void write_letters(walk_t *wk, bool bytes)
{
        char s[8];

        for (size_t i = 0; i < sizeof(s); i++)
                s[i] = bytes ? (char)next_random(wk->rng)
                             : (char)('a' + below(wk->rng, 26));
        ka_avro_write_bytes(wk->w, s, sizeof(s));
}

static void write_long(walk_t *wk, const ka_avro_node_t *t, role_t role)
{
        const char *lt = t->logical_type;
        int64_t v;

        if (lt && !strcmp(lt, "timestamp-millis"))
                v = (int64_t)floor(wk->now * 1e3);
        else if (lt && !strcmp(lt, "timestamp-micros"))
                v = (int64_t)floor(wk->now * 1e6);
        else if (role == ROLE_SEQ)
                v = wk->seq;
        else
                v = (int64_t)below(wk->rng, 1000000);
        ka_avro_write_long(wk->w, v);
}

static void write_int(walk_t *wk, const ka_avro_node_t *t, role_t role)
{
        const char *lt = t->logical_type;
        int32_t v;

        if (lt && !strcmp(lt, "date"))
                v = (int32_t)floor(wk->now / 86400);
        else if (role == ROLE_SEQ)
                v = (int32_t)(wk->seq % INT32_MAX);
        else
                v = (int32_t)below(wk->rng, 100);
        ka_avro_write_int(wk->w, v);
}

/* The number of elements of an array: the option, the default's, or the
 * fallback. */
static size_t array_length(const walk_t *wk, const json_t *def, int depth)
{
        if (depth >= KA_PLAUSIBLE_MAX_DEPTH)
                return 0;
        if (wk->p->array_length)
                return wk->p->array_length;
        if (json_is_array(def) && json_array_size(def) > 0)
                return json_array_size(def) > KA_PLAUSIBLE_MAX_ARRAY
                               ? KA_PLAUSIBLE_MAX_ARRAY
                               : json_array_size(def);
        return KA_PLAUSIBLE_ARRAY_LENGTH;
}

static void write_union(walk_t *wk, const ka_avro_node_t *t, const json_t *def,
                        role_t role, int depth)
{
        size_t null_branch = t->nbranches, n = 0, pick = 0;

        for (size_t b = 0; b < t->nbranches; b++) {
                if (t->branches[b]->type == KA_AVRO_NULL)
                        null_branch = b;
                else
                        n++;
        }
        if (n == 0 ||
            (depth >= KA_PLAUSIBLE_MAX_DEPTH && null_branch < t->nbranches)) {
                pick = null_branch;
        } else {
                size_t k = (size_t)below(wk->rng, n);

                for (pick = 0; pick < t->nbranches; pick++)
                        if (t->branches[pick]->type != KA_AVRO_NULL && k-- == 0)
                                break;
        }
        ka_avro_write_union_index(wk->w, (int32_t)pick);
        write_value(wk, t->branches[pick], def, role, depth + 1);
}

static void write_value(walk_t *wk, const ka_avro_node_t *t, const json_t *def,
                        role_t role, int depth)
{
        size_t n;

        switch (t->type) {
        case KA_AVRO_NULL:
                break;
        case KA_AVRO_BOOLEAN:
                ka_avro_write_boolean(wk->w, below(wk->rng, 2));
                break;
        case KA_AVRO_INT:
                write_int(wk, t, role);
                break;
        case KA_AVRO_LONG:
                write_long(wk, t, role);
                break;
        case KA_AVRO_FLOAT:
                ka_avro_write_float(wk->w, role == ROLE_TIME
                                                   ? (float)wk->now
                                                   : (float)uniform01(wk->rng));
                break;
        case KA_AVRO_DOUBLE:
                ka_avro_write_double(wk->w, role == ROLE_TIME
                                                    ? wk->now
                                                    : uniform01(wk->rng));
                break;
        case KA_AVRO_BYTES:
        case KA_AVRO_STRING:
                write_letters(wk, t->type == KA_AVRO_BYTES);
                break;
        case KA_AVRO_FIXED:
                for (size_t i = 0; i < t->size; i++) {
                        uint8_t b = (uint8_t)next_random(wk->rng);

                        ka_avro_write_raw(wk->w, &b, 1);
                }
                break;
        case KA_AVRO_ENUM:
                ka_avro_write_int(wk->w, (int32_t)below(wk->rng, t->nsymbols));
                break;
        case KA_AVRO_ARRAY:
                n = array_length(wk, def, depth);
                if (n) {
                        ka_avro_write_block(wk->w, (int64_t)n);
                        for (size_t i = 0; i < n; i++)
                                write_value(wk, t->items, NULL, ROLE_NONE,
                                            depth + 1);
                }
                ka_avro_write_block(wk->w, 0);
                break;
        case KA_AVRO_MAP:
                n = depth >= KA_PLAUSIBLE_MAX_DEPTH ? 0 : 2;
                if (n) {
                        ka_avro_write_block(wk->w, (int64_t)n);
                        for (size_t i = 0; i < n; i++) {
                                char key[8];

                                snprintf(key, sizeof(key), "key%zu", i);
                                ka_avro_write_string(wk->w, key, strlen(key));
                                write_value(wk, t->items, NULL, ROLE_NONE,
                                            depth + 1);
                        }
                }
                ka_avro_write_block(wk->w, 0);
                break;
        case KA_AVRO_UNION:
                write_union(wk, t, def, role, depth);
                break;
        case KA_AVRO_RECORD:
                for (size_t i = 0; i < t->nfields; i++)
                        write_value(wk, t->fields[i].type, t->fields[i].def,
                                    role_of(t->fields[i].name), depth + 1);
                break;
        default:
                break;
        }
}

ka_plausible_t *ka_plausible_new(const char *schema_json, size_t array_length,
                                 char *errstr, size_t errstr_size)
{
        ka_plausible_t *p = calloc(1, sizeof(*p));

        if (!p) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        p->array_length = array_length > KA_PLAUSIBLE_MAX_ARRAY
                                  ? KA_PLAUSIBLE_MAX_ARRAY
                                  : array_length;
        if (!(p->schema =
                      ka_avro_schema_parse(schema_json, errstr, errstr_size))) {
                free(p);
                return NULL;
        }
        if (ka_avro_schema_root(p->schema)->type != KA_AVRO_RECORD) {
                snprintf(errstr, errstr_size,
                         "the schema is a %s, not a record",
                         ka_avro_type_name(
                                 ka_avro_schema_root(p->schema)->type));
                ka_plausible_destroy(p);
                return NULL;
        }
        return p;
}

void ka_plausible_destroy(ka_plausible_t *p)
{
        if (!p)
                return;
        ka_avro_schema_destroy(p->schema);
        free(p);
}

ka_err_t ka_plausible_record(const ka_plausible_t *p, double now, int64_t seq,
                             uint64_t *rng, uint8_t **buf, size_t *cap,
                             size_t offset, size_t *len)
{
        for (;;) {
                uint64_t state = *rng;
                ka_avro_writer_t w;
                walk_t wk = {p, now, seq, &state, &w};
                size_t n;

                if (*cap > offset) {
                        ka_avro_writer_init(&w, *buf + offset, *cap - offset);
                        write_value(&wk, ka_avro_schema_root(p->schema), NULL,
                                    ROLE_NONE, 0);
                        if ((n = ka_avro_writer_len(&w)) > 0 || !w.overflow) {
                                *len = offset + n;
                                *rng = state;
                                return KA_OK;
                        }
                }
                /* Too small: start over (same random draws) in twice the
                 * room. */
                {
                        size_t grown = *cap ? *cap * 2 : 4096;
                        uint8_t *b = realloc(*buf, grown);

                        if (!b)
                                return KA_ERR_NOMEM;
                        *buf = b;
                        *cap = grown;
                }
        }
}
