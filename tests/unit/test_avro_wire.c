/*
 * The Avro wire primitives against avro-c: values avro-c encodes decode to
 * the same values with ours, bytes we write decode with avro-c, and every
 * truncation or corruption of a buffer is an error, never an overread (the
 * buffers are exactly sized heap copies, so ASan sees any). Skipping
 * complex values is test_avro_skip.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <avro.h>

#include "avro_wire.h"
#include "ka_test.h"

/* ---- helpers ---------------------------------------------------------- */

static int32_t rnd_int(void)
{
        static const int32_t edges[] = {0, -1, 1, INT32_MAX, INT32_MIN, 8191};

        if (ka_test_rnd_below(5) == 0)
                return edges[ka_test_rnd_below(KA_ARRAY_SIZE(edges))];
        return (int32_t)(uint32_t)(ka_test_rnd() >>
                                   (32 + ka_test_rnd_below(32)));
}

static double rnd_double(void)
{
        static const double edges[] = {0.0,    -0.0,     1.0,       -1.5, 1e308,
                                       5e-324, INFINITY, -INFINITY, NAN};
        uint64_t u;
        double d;

        if (ka_test_rnd_below(5) == 0)
                return edges[ka_test_rnd_below(KA_ARRAY_SIZE(edges))];
        u = ka_test_rnd();
        memcpy(&d, &u, 8);
        return d;
}

static float rnd_float(void)
{
        uint32_t u = (uint32_t)ka_test_rnd();
        float f;

        memcpy(&f, &u, 4);
        return f;
}

static void rnd_text(char *s, size_t cap)
{
        size_t i, n = ka_test_rnd_below(cap);

        for (i = 0; i < n; i++)
                s[i] = (char)(' ' + ka_test_rnd_below(95));
        s[n] = '\0';
}

/* avro-c's encoding of value into buf; returns its length. */
static size_t avro_encode(avro_value_t *value, uint8_t *buf, size_t cap)
{
        avro_writer_t writer = avro_writer_memory((const char *)buf, cap);
        size_t len;

        assert_non_null(writer);
        if (avro_value_write(writer, value))
                fail_msg("avro_value_write: %s", avro_strerror());
        len = (size_t)avro_writer_tell(writer);
        avro_writer_free(writer);
        return len;
}

/* An exactly sized heap copy, so that ASan flags any read past len. */
static uint8_t *exact_copy(const uint8_t *buf, size_t len)
{
        uint8_t *copy = malloc(len ? len : 1);

        assert_non_null(copy);
        if (len)
                memcpy(copy, buf, len);
        return copy;
}

static int same_double(double a, double b)
{
        return memcmp(&a, &b, sizeof(a)) == 0;
}

/* ---- framing ---------------------------------------------------------- */

static void header_both_ways(void **state)
{
        uint8_t buf[5];
        int32_t id = 0;
        const uint8_t expect[5] = {0, 0x01, 0x02, 0x03, 0x04};
        const uint8_t bad_magic[5] = {1, 0, 0, 0, 7};
        const uint8_t negative[5] = {0, 0x80, 0, 0, 0};

        ka_avro_write_header(buf, 0x01020304);
        assert_memory_equal(buf, expect, 5);
        assert_int_equal(ka_avro_read_header(buf, 5, &id), KA_OK);
        assert_int_equal(id, 0x01020304);
        ka_avro_write_header(buf, 1);
        assert_int_equal(ka_avro_read_header(buf, 9, &id), KA_OK);
        assert_int_equal(id, 1);
        assert_int_equal(ka_avro_read_header(buf, 4, &id), KA_ERR_TRUNCATED);
        assert_int_equal(ka_avro_read_header(buf, 0, &id), KA_ERR_TRUNCATED);
        assert_int_equal(ka_avro_read_header(bad_magic, 5, &id),
                         KA_ERR_INVALID);
        assert_int_equal(ka_avro_read_header(negative, 5, &id), KA_ERR_INVALID);
}

/* ---- primitives ------------------------------------------------------- */

enum prim {
        P_NULL,
        P_BOOLEAN,
        P_INT,
        P_LONG,
        P_FLOAT,
        P_DOUBLE,
        P_BYTES,
        P_STRING,
        P__COUNT
};

static const char *const prim_json[P__COUNT] = {
        "\"null\"",  "\"boolean\"", "\"int\"",   "\"long\"",
        "\"float\"", "\"double\"",  "\"bytes\"", "\"string\""};

typedef struct prim_val_s {
        bool b;
        int32_t i;
        int64_t l;
        float f;
        double d;
        char s[300];
        size_t slen;
} prim_val_t;

static void prim_random(enum prim p, avro_value_t *value, prim_val_t *v)
{
        size_t k;

        switch (p) {
        case P_NULL:
                assert_int_equal(avro_value_set_null(value), 0);
                break;
        case P_BOOLEAN:
                v->b = ka_test_rnd() & 1;
                assert_int_equal(avro_value_set_boolean(value, v->b), 0);
                break;
        case P_INT:
                v->i = rnd_int();
                assert_int_equal(avro_value_set_int(value, v->i), 0);
                break;
        case P_LONG:
                v->l = ka_test_rnd_long();
                assert_int_equal(avro_value_set_long(value, v->l), 0);
                break;
        case P_FLOAT:
                v->f = rnd_float();
                assert_int_equal(avro_value_set_float(value, v->f), 0);
                break;
        case P_DOUBLE:
                v->d = rnd_double();
                assert_int_equal(avro_value_set_double(value, v->d), 0);
                break;
        case P_BYTES:
                v->slen = ka_test_rnd_below(sizeof(v->s));
                for (k = 0; k < v->slen; k++)
                        v->s[k] = (char)ka_test_rnd();
                assert_int_equal(avro_value_set_bytes(value, v->s, v->slen), 0);
                break;
        case P_STRING:
                rnd_text(v->s, sizeof(v->s));
                v->slen = strlen(v->s);
                assert_int_equal(avro_value_set_string(value, v->s), 0);
                break;
        default:
                fail();
        }
}

/* Reads one p with ours and compares it to v. */
static ka_err_t prim_check(enum prim p, ka_avro_reader_t *r,
                           const prim_val_t *v)
{
        ka_err_t err = KA_ERR_INVALID;
        bool b;
        int32_t i;
        int64_t l;
        float f;
        double d;
        const char *s;
        const uint8_t *data;
        size_t len;

        switch (p) {
        case P_NULL:
                err = ka_avro_read_null(r);
                break;
        case P_BOOLEAN:
                if (!(err = ka_avro_read_boolean(r, &b)))
                        assert_int_equal(b, v->b);
                break;
        case P_INT:
                if (!(err = ka_avro_read_int(r, &i)))
                        assert_int_equal(i, v->i);
                break;
        case P_LONG:
                if (!(err = ka_avro_read_long(r, &l)))
                        assert_true(l == v->l);
                break;
        case P_FLOAT:
                if (!(err = ka_avro_read_float(r, &f)))
                        assert_memory_equal(&f, &v->f, 4);
                break;
        case P_DOUBLE:
                if (!(err = ka_avro_read_double(r, &d)))
                        assert_true(same_double(d, v->d));
                break;
        case P_BYTES:
                if (!(err = ka_avro_read_bytes(r, &data, &len))) {
                        assert_int_equal(len, v->slen);
                        if (len)
                                assert_memory_equal(data, v->s, len);
                }
                break;
        case P_STRING:
                if (!(err = ka_avro_read_string(r, &s, &len))) {
                        assert_int_equal(len, v->slen);
                        if (len)
                                assert_memory_equal(s, v->s, len);
                }
                break;
        default:
                fail();
        }
        return err;
}

static ka_err_t prim_skip(enum prim p, ka_avro_reader_t *r)
{
        switch (p) {
        case P_NULL:
                return ka_avro_skip_null(r);
        case P_BOOLEAN:
                return ka_avro_skip_boolean(r);
        case P_INT:
                return ka_avro_skip_int(r);
        case P_LONG:
                return ka_avro_skip_long(r);
        case P_FLOAT:
                return ka_avro_skip_float(r);
        case P_DOUBLE:
                return ka_avro_skip_double(r);
        case P_BYTES:
                return ka_avro_skip_bytes(r);
        case P_STRING:
                return ka_avro_skip_string(r);
        default:
                fail();
        }
        return KA_ERR_INVALID;
}

static void primitives_match_avro_c(void **state)
{
        enum prim p;

        for (p = 0; p < P__COUNT; p++) {
                avro_schema_t schema = ka_test_schema_parse(prim_json[p]);
                avro_value_iface_t *iface =
                        avro_generic_class_from_schema(schema);
                avro_value_t value;
                int n;

                assert_non_null(iface);
                assert_int_equal(avro_generic_value_new(iface, &value), 0);
                for (n = 0; n < 2000; n++) {
                        uint8_t buf[512], *copy;
                        prim_val_t v;
                        size_t len, k;
                        ka_avro_reader_t r;

                        memset(&v, 0, sizeof(v));
                        prim_random(p, &value, &v);
                        len = avro_encode(&value, buf, sizeof(buf));
                        copy = exact_copy(buf, len);

                        ka_avro_reader_init(&r, copy, len);
                        assert_int_equal(prim_check(p, &r, &v), KA_OK);
                        assert_ptr_equal(r.p, copy + len);
                        ka_avro_reader_init(&r, copy, len);
                        assert_int_equal(prim_skip(p, &r), KA_OK);
                        assert_ptr_equal(r.p, copy + len);
                        free(copy);

                        /* Every proper prefix ends inside the value. */
                        for (k = 0; k < len; k++) {
                                copy = exact_copy(buf, k);
                                ka_avro_reader_init(&r, copy, k);
                                assert_int_equal(prim_check(p, &r, &v),
                                                 KA_ERR_TRUNCATED);
                                ka_avro_reader_init(&r, copy, k);
                                assert_int_equal(prim_skip(p, &r),
                                                 KA_ERR_TRUNCATED);
                                free(copy);
                        }
                }
                avro_value_decref(&value);
                avro_value_iface_decref(iface);
                avro_schema_decref(schema);
        }
}

/* Our writers produce the bytes avro-c produces for the same values. */
static void writers_match_avro_c(void **state)
{
        enum prim p;

        for (p = 0; p < P__COUNT; p++) {
                avro_schema_t schema = ka_test_schema_parse(prim_json[p]);
                avro_value_iface_t *iface =
                        avro_generic_class_from_schema(schema);
                avro_value_t value;
                int n;

                assert_int_equal(avro_generic_value_new(iface, &value), 0);
                for (n = 0; n < 2000; n++) {
                        uint8_t expect[512], got[512];
                        prim_val_t v;
                        size_t len;
                        ka_avro_writer_t w;

                        memset(&v, 0, sizeof(v));
                        prim_random(p, &value, &v);
                        len = avro_encode(&value, expect, sizeof(expect));
                        ka_avro_writer_init(&w, got, sizeof(got));
                        switch (p) {
                        case P_NULL:
                                ka_avro_write_null(&w);
                                break;
                        case P_BOOLEAN:
                                ka_avro_write_boolean(&w, v.b);
                                break;
                        case P_INT:
                                ka_avro_write_int(&w, v.i);
                                break;
                        case P_LONG:
                                ka_avro_write_long(&w, v.l);
                                break;
                        case P_FLOAT:
                                ka_avro_write_float(&w, v.f);
                                break;
                        case P_DOUBLE:
                                ka_avro_write_double(&w, v.d);
                                break;
                        case P_BYTES:
                                ka_avro_write_bytes(&w, v.s, v.slen);
                                break;
                        case P_STRING:
                                ka_avro_write_string(&w, v.s, v.slen);
                                break;
                        default:
                                fail();
                        }
                        assert_false(w.overflow);
                        assert_int_equal(ka_avro_writer_len(&w), len);
                        if (len)
                                assert_memory_equal(got, expect, len);
                }
                avro_value_decref(&value);
                avro_value_iface_decref(iface);
                avro_schema_decref(schema);
        }
}

/* ---- complex values --------------------------------------------------- */

static const char outer_json[] =
        "{\"type\":\"record\",\"name\":\"Outer\",\"namespace\":\"t\","
        "\"fields\":["
        "{\"name\":\"id\",\"type\":\"long\"},"
        "{\"name\":\"name\",\"type\":\"string\"},"
        "{\"name\":\"inner\",\"type\":{\"type\":\"record\",\"name\":\"Inner\","
        " \"fields\":[{\"name\":\"x\",\"type\":\"int\"},"
        "  {\"name\":\"y\",\"type\":\"float\"},"
        "  {\"name\":\"deep\",\"type\":{\"type\":\"record\",\"name\":\"Deep\","
        "   \"fields\":[{\"name\":\"z\",\"type\":\"double\"}]}}]}},"
        "{\"name\":\"samples\",\"type\":{\"type\":\"array\",\"items\":\"long\"}"
        "},"
        "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":\"double\"}},"
        "{\"name\":\"maybe\",\"type\":[\"null\",\"double\"]},"
        "{\"name\":\"last\",\"type\":[\"string\",\"null\"]},"
        "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"Color\","
        " \"symbols\":[\"RED\",\"GREEN\",\"BLUE\"]}},"
        "{\"name\":\"digest\",\"type\":{\"type\":\"fixed\",\"name\":\"Digest\","
        " \"size\":16}},"
        "{\"name\":\"flag\",\"type\":\"boolean\"},"
        "{\"name\":\"blob\",\"type\":\"bytes\"},"
        "{\"name\":\"points\",\"type\":{\"type\":\"array\",\"items\":\"Inner\"}"
        "},"
        "{\"name\":\"nested\",\"type\":{\"type\":\"map\",\"values\":"
        " {\"type\":\"array\",\"items\":\"string\"}}},"
        "{\"name\":\"nothing\",\"type\":\"null\"}]}";

#define MAXN 6

typedef struct inner_s {
        int32_t x;
        float y;
        double z;
} inner_t;

typedef struct outer_s {
        int64_t id;
        char name[40];
        inner_t inner;
        size_t nsamples;
        int64_t samples[MAXN];
        size_t ntags;
        char tag_keys[MAXN][16];
        double tags[MAXN];
        bool has_maybe;
        double maybe;
        bool has_last;
        char last[24];
        int32_t color;
        uint8_t digest[16];
        bool flag;
        size_t nblob;
        uint8_t blob[24];
        size_t npoints;
        inner_t points[MAXN];
        size_t nnested;
        char nested_keys[MAXN][16];
        size_t nitems[MAXN];
        char items[MAXN][3][16];
} outer_t;

static void set_field(avro_value_t *rec, const char *name, avro_value_t *field)
{
        if (avro_value_get_by_name(rec, name, field, NULL))
                fail_msg("no field '%s'", name);
}

static void inner_random(avro_value_t *rec, inner_t *in)
{
        avro_value_t f, deep;

        in->x = rnd_int();
        in->y = rnd_float();
        in->z = rnd_double();
        set_field(rec, "x", &f);
        avro_value_set_int(&f, in->x);
        set_field(rec, "y", &f);
        avro_value_set_float(&f, in->y);
        set_field(rec, "deep", &deep);
        set_field(&deep, "z", &f);
        avro_value_set_double(&f, in->z);
}

static void outer_random(avro_value_t *rec, outer_t *o)
{
        avro_value_t f, item, branch, arr;
        size_t i, j;

        memset(o, 0, sizeof(*o));
        avro_value_reset(rec);
        o->id = ka_test_rnd_long();
        set_field(rec, "id", &f);
        avro_value_set_long(&f, o->id);
        rnd_text(o->name, sizeof(o->name));
        set_field(rec, "name", &f);
        avro_value_set_string(&f, o->name);
        set_field(rec, "inner", &f);
        inner_random(&f, &o->inner);

        o->nsamples = ka_test_rnd_below(MAXN + 1);
        set_field(rec, "samples", &f);
        for (i = 0; i < o->nsamples; i++) {
                o->samples[i] = ka_test_rnd_long();
                assert_int_equal(avro_value_append(&f, &item, NULL), 0);
                avro_value_set_long(&item, o->samples[i]);
        }
        o->ntags = ka_test_rnd_below(MAXN + 1);
        set_field(rec, "tags", &f);
        for (i = 0; i < o->ntags; i++) {
                snprintf(o->tag_keys[i], 16, "k%u.%u", (unsigned)i,
                         (unsigned)ka_test_rnd_below(10000));
                o->tags[i] = rnd_double();
                assert_int_equal(
                        avro_value_add(&f, o->tag_keys[i], &item, NULL, NULL),
                        0);
                avro_value_set_double(&item, o->tags[i]);
        }
        o->has_maybe = ka_test_rnd() & 1;
        set_field(rec, "maybe", &f);
        if (o->has_maybe) {
                o->maybe = rnd_double();
                avro_value_set_branch(&f, 1, &branch);
                avro_value_set_double(&branch, o->maybe);
        } else {
                avro_value_set_branch(&f, 0, &branch);
                avro_value_set_null(&branch);
        }
        o->has_last = ka_test_rnd() & 1;
        set_field(rec, "last", &f);
        if (o->has_last) {
                rnd_text(o->last, sizeof(o->last));
                avro_value_set_branch(&f, 0, &branch);
                avro_value_set_string(&branch, o->last);
        } else {
                avro_value_set_branch(&f, 1, &branch);
                avro_value_set_null(&branch);
        }
        o->color = (int32_t)ka_test_rnd_below(3);
        set_field(rec, "color", &f);
        avro_value_set_enum(&f, o->color);
        for (i = 0; i < 16; i++)
                o->digest[i] = (uint8_t)ka_test_rnd();
        set_field(rec, "digest", &f);
        avro_value_set_fixed(&f, o->digest, 16);
        o->flag = ka_test_rnd() & 1;
        set_field(rec, "flag", &f);
        avro_value_set_boolean(&f, o->flag);
        o->nblob = ka_test_rnd_below(sizeof(o->blob));
        for (i = 0; i < o->nblob; i++)
                o->blob[i] = (uint8_t)ka_test_rnd();
        set_field(rec, "blob", &f);
        avro_value_set_bytes(&f, o->blob, o->nblob);
        o->npoints = ka_test_rnd_below(MAXN + 1);
        set_field(rec, "points", &f);
        for (i = 0; i < o->npoints; i++) {
                assert_int_equal(avro_value_append(&f, &item, NULL), 0);
                inner_random(&item, &o->points[i]);
        }
        o->nnested = ka_test_rnd_below(MAXN + 1);
        set_field(rec, "nested", &f);
        for (i = 0; i < o->nnested; i++) {
                snprintf(o->nested_keys[i], 16, "n%u", (unsigned)(i % 100));
                assert_int_equal(
                        avro_value_add(&f, o->nested_keys[i], &arr, NULL, NULL),
                        0);
                o->nitems[i] = ka_test_rnd_below(4);
                for (j = 0; j < o->nitems[i]; j++) {
                        rnd_text(o->items[i][j], 16);
                        avro_value_append(&arr, &item, NULL);
                        avro_value_set_string(&item, o->items[i][j]);
                }
        }
        set_field(rec, "nothing", &f);
        avro_value_set_null(&f);
}

/*
 * A decoder for Outer written with our primitives, the way generated code
 * will read: returns the first error, or KA_OK with *o filled. It bounds
 * every count by its arrays, so it is safe on corrupt input too.
 */
#define TRY(x)                                                                 \
        do {                                                                   \
                ka_err_t err_ = (x);                                           \
                if (err_)                                                      \
                        return err_;                                           \
        } while (0)

static ka_err_t copy_text(ka_avro_reader_t *r, char *dst, size_t cap)
{
        const char *s;
        size_t len;

        TRY(ka_avro_read_string(r, &s, &len));
        if (len >= cap)
                return KA_ERR_INVALID;
        memcpy(dst, s, len);
        dst[len] = '\0';
        return KA_OK;
}

static ka_err_t inner_decode(ka_avro_reader_t *r, inner_t *in)
{
        TRY(ka_avro_read_int(r, &in->x));
        TRY(ka_avro_read_float(r, &in->y));
        return ka_avro_read_double(r, &in->z);
}

static ka_err_t outer_decode(ka_avro_reader_t *r, outer_t *o)
{
        int64_t count, size, k;
        int32_t idx;
        const uint8_t *data;
        size_t len, j;

        memset(o, 0, sizeof(*o));
        TRY(ka_avro_read_long(r, &o->id));
        TRY(copy_text(r, o->name, sizeof(o->name)));
        TRY(inner_decode(r, &o->inner));
        for (;;) {
                TRY(ka_avro_read_block(r, &count, &size));
                if (!count)
                        break;
                if ((uint64_t)count > MAXN - o->nsamples)
                        return KA_ERR_INVALID;
                for (k = 0; k < count; k++)
                        TRY(ka_avro_read_long(r, &o->samples[o->nsamples++]));
        }
        for (;;) {
                TRY(ka_avro_read_block(r, &count, &size));
                if (!count)
                        break;
                if ((uint64_t)count > MAXN - o->ntags)
                        return KA_ERR_INVALID;
                for (k = 0; k < count; k++, o->ntags++) {
                        TRY(copy_text(r, o->tag_keys[o->ntags], 16));
                        TRY(ka_avro_read_double(r, &o->tags[o->ntags]));
                }
        }
        TRY(ka_avro_read_union_index(r, 2, &idx));
        o->has_maybe = idx == 1;
        if (o->has_maybe)
                TRY(ka_avro_read_double(r, &o->maybe));
        else
                TRY(ka_avro_read_null(r));
        TRY(ka_avro_read_union_index(r, 2, &idx));
        o->has_last = idx == 0;
        if (o->has_last)
                TRY(copy_text(r, o->last, sizeof(o->last)));
        TRY(ka_avro_read_enum(r, 3, &o->color));
        TRY(ka_avro_read_fixed(r, 16, &data));
        memcpy(o->digest, data, 16);
        TRY(ka_avro_read_boolean(r, &o->flag));
        TRY(ka_avro_read_bytes(r, &data, &len));
        if (len > sizeof(o->blob))
                return KA_ERR_INVALID;
        memcpy(o->blob, data, len);
        o->nblob = len;
        for (;;) {
                TRY(ka_avro_read_block(r, &count, &size));
                if (!count)
                        break;
                if ((uint64_t)count > MAXN - o->npoints)
                        return KA_ERR_INVALID;
                for (k = 0; k < count; k++)
                        TRY(inner_decode(r, &o->points[o->npoints++]));
        }
        for (;;) {
                TRY(ka_avro_read_block(r, &count, &size));
                if (!count)
                        break;
                if ((uint64_t)count > MAXN - o->nnested)
                        return KA_ERR_INVALID;
                for (k = 0; k < count; k++, o->nnested++) {
                        size_t n = o->nnested;

                        TRY(copy_text(r, o->nested_keys[n], 16));
                        for (;;) {
                                int64_t c2, s2, k2;

                                TRY(ka_avro_read_block(r, &c2, &s2));
                                if (!c2)
                                        break;
                                if ((uint64_t)c2 > 3 - o->nitems[n])
                                        return KA_ERR_INVALID;
                                for (k2 = 0; k2 < c2; k2++) {
                                        j = o->nitems[n]++;
                                        TRY(copy_text(r, o->items[n][j], 16));
                                }
                        }
                }
        }
        return ka_avro_read_null(r);
}

static void inner_equal(const inner_t *a, const inner_t *b)
{
        assert_int_equal(a->x, b->x);
        assert_memory_equal(&a->y, &b->y, sizeof(float));
        assert_true(same_double(a->z, b->z));
}

static void outer_equal(const outer_t *got, const outer_t *want)
{
        size_t i, j;

        assert_true(got->id == want->id);
        assert_string_equal(got->name, want->name);
        inner_equal(&got->inner, &want->inner);
        assert_int_equal(got->nsamples, want->nsamples);
        for (i = 0; i < want->nsamples; i++)
                assert_true(got->samples[i] == want->samples[i]);
        assert_int_equal(got->ntags, want->ntags);
        for (i = 0; i < want->ntags; i++) {
                /* A map's order is not part of its value: look keys up. */
                for (j = 0; j < got->ntags; j++)
                        if (!strcmp(got->tag_keys[j], want->tag_keys[i]))
                                break;
                assert_true(j < got->ntags);
                assert_true(same_double(got->tags[j], want->tags[i]));
        }
        assert_int_equal(got->has_maybe, want->has_maybe);
        if (want->has_maybe)
                assert_true(same_double(got->maybe, want->maybe));
        assert_int_equal(got->has_last, want->has_last);
        if (want->has_last)
                assert_string_equal(got->last, want->last);
        assert_int_equal(got->color, want->color);
        assert_memory_equal(got->digest, want->digest, 16);
        assert_int_equal(got->flag, want->flag);
        assert_int_equal(got->nblob, want->nblob);
        if (want->nblob)
                assert_memory_equal(got->blob, want->blob, want->nblob);
        assert_int_equal(got->npoints, want->npoints);
        for (i = 0; i < want->npoints; i++)
                inner_equal(&got->points[i], &want->points[i]);
        assert_int_equal(got->nnested, want->nnested);
        for (i = 0; i < want->nnested; i++) {
                for (j = 0; j < got->nnested; j++)
                        if (!strcmp(got->nested_keys[j], want->nested_keys[i]))
                                break;
                assert_true(j < got->nnested);
                assert_int_equal(got->nitems[j], want->nitems[i]);
                for (size_t k = 0; k < want->nitems[i]; k++)
                        assert_string_equal(got->items[j][k],
                                            want->items[i][k]);
        }
}

static void complex_values_match_avro_c(void **state)
{
        ka_test_writer_t fx;
        int n;

        ka_test_writer_init(&fx, outer_json);
        for (n = 0; n < 500; n++) {
                uint8_t buf[4096], *copy;
                outer_t want, got;
                size_t len;
                ka_avro_reader_t r;

                outer_random(&fx.value, &want);
                len = avro_encode(&fx.value, buf, sizeof(buf));
                copy = exact_copy(buf, len);
                ka_avro_reader_init(&r, copy, len);
                assert_int_equal(outer_decode(&r, &got), KA_OK);
                assert_ptr_equal(r.p, copy + len);
                outer_equal(&got, &want);
                free(copy);
        }
        ka_test_writer_release(&fx);
}

static void truncations_are_errors(void **state)
{
        ka_test_writer_t fx;
        int n;

        ka_test_writer_init(&fx, outer_json);
        for (n = 0; n < 40; n++) {
                uint8_t buf[4096], *copy;
                outer_t want, got;
                size_t len, k;
                ka_avro_reader_t r;

                outer_random(&fx.value, &want);
                len = avro_encode(&fx.value, buf, sizeof(buf));
                for (k = 0; k < len; k++) {
                        copy = exact_copy(buf, k);
                        ka_avro_reader_init(&r, copy, k);
                        assert_int_not_equal(outer_decode(&r, &got), KA_OK);
                        assert_true(r.p <= r.end);
                        free(copy);
                }
        }
        ka_test_writer_release(&fx);
}

static void corruptions_stay_in_bounds(void **state)
{
        static const uint8_t patterns[] = {0x01, 0x02, 0x40, 0x80, 0xff};
        ka_test_writer_t fx;
        size_t errors = 0, runs = 0;
        int n;

        ka_test_writer_init(&fx, outer_json);
        for (n = 0; n < 40; n++) {
                uint8_t buf[4096], *copy;
                outer_t want, got;
                size_t len, k, j;
                ka_avro_reader_t r;

                outer_random(&fx.value, &want);
                len = avro_encode(&fx.value, buf, sizeof(buf));
                copy = exact_copy(buf, len);
                for (k = 0; k < len; k++) {
                        for (j = 0; j <= KA_ARRAY_SIZE(patterns); j++) {
                                uint8_t was = copy[k];

                                copy[k] = j < KA_ARRAY_SIZE(patterns)
                                                  ? was ^ patterns[j]
                                                  : (uint8_t)ka_test_rnd();
                                ka_avro_reader_init(&r, copy, len);
                                if (outer_decode(&r, &got))
                                        errors++;
                                assert_true(r.p >= copy && r.p <= r.end);
                                runs++;
                                copy[k] = was;
                        }
                }
                free(copy);
        }
        /* Most corruptions are caught; silently wrong values remain
         * possible (a flipped double is still a double). */
        assert_true(errors > runs / 10);
        ka_test_writer_release(&fx);
}

/* ---- blocks ----------------------------------------------------------- */

/*
 * An array of longs in four blocks, two of them with negative counts and a
 * byte size (avro-c never writes these): avro-c reads it back as the same
 * items, and ours reads and skips it.
 */
static size_t blocks_array(uint8_t *buf, size_t cap, const int64_t *items,
                           size_t nitems)
{
        ka_avro_writer_t w;
        size_t i = 0, b;
        static const size_t sizes[] = {3, 2, 1, 4};

        ka_avro_writer_init(&w, buf, cap);
        for (b = 0; b < KA_ARRAY_SIZE(sizes) && i < nitems; b++) {
                size_t n = sizes[b] < nitems - i ? sizes[b] : nitems - i, k;

                if (b % 2) {
                        uint8_t tmp[128];
                        ka_avro_writer_t items_w;

                        ka_avro_writer_init(&items_w, tmp, sizeof(tmp));
                        for (k = 0; k < n; k++)
                                ka_avro_write_long(&items_w, items[i + k]);
                        ka_avro_write_block(&w, -(int64_t)n);
                        ka_avro_write_long(
                                &w, (int64_t)ka_avro_writer_len(&items_w));
                        ka_avro_write_raw(&w, tmp,
                                          ka_avro_writer_len(&items_w));
                } else {
                        ka_avro_write_block(&w, (int64_t)n);
                        for (k = 0; k < n; k++)
                                ka_avro_write_long(&w, items[i + k]);
                }
                i += n;
        }
        ka_avro_write_block(&w, 0);
        assert_false(w.overflow);
        return ka_avro_writer_len(&w);
}

static void negative_block_counts(void **state)
{
        const int64_t items[10] = {1, -2,      300, INT64_MIN, 5,
                                   6, 7000000, -8,  9,         INT64_MAX};
        avro_schema_t schema = ka_test_schema_parse("{\"type\":\"array\","
                                                    "\"items\":\"long\"}");
        avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
        avro_value_t value, item;
        avro_reader_t reader;
        uint8_t buf[256], *copy;
        size_t len, n, k;
        int64_t got[10], count = 0, size = 0, l = 0;
        ka_avro_reader_t r;

        len = blocks_array(buf, sizeof(buf), items, 10);
        copy = exact_copy(buf, len);

        /* avro-c, an independent reader, sees the ten items. */
        assert_int_equal(avro_generic_value_new(iface, &value), 0);
        reader = avro_reader_memory((const char *)copy, (int64_t)len);
        assert_int_equal(avro_value_read(reader, &value), 0);
        avro_reader_free(reader);
        assert_int_equal(avro_value_get_size(&value, &n), 0);
        assert_int_equal(n, 10);
        for (k = 0; k < 10; k++) {
                avro_value_get_by_index(&value, k, &item, NULL);
                avro_value_get_long(&item, &l);
                assert_true(l == items[k]);
        }

        /* Ours reads the same items, block by block. */
        ka_avro_reader_init(&r, copy, len);
        n = 0;
        for (;;) {
                assert_int_equal(ka_avro_read_block(&r, &count, &size), KA_OK);
                if (!count)
                        break;
                assert_true(count > 0 && n + (size_t)count <= 10);
                if (size >= 0)
                        assert_true((size_t)size <= ka_avro_reader_left(&r));
                while (count--)
                        assert_int_equal(ka_avro_read_long(&r, &got[n++]),
                                         KA_OK);
        }
        assert_int_equal(n, 10);
        assert_memory_equal(got, items, sizeof(items));
        assert_ptr_equal(r.p, copy + len);
        free(copy);
        avro_value_decref(&value);
        avro_value_iface_decref(iface);
        avro_schema_decref(schema);
}

static ka_err_t read_bytes_of(const uint8_t *bytes, size_t len,
                              ka_err_t (*fn)(ka_avro_reader_t *))
{
        uint8_t *copy = exact_copy(bytes, len);
        ka_avro_reader_t r;
        ka_err_t err;

        ka_avro_reader_init(&r, copy, len);
        err = fn(&r);
        assert_true(r.p >= copy && r.p <= r.end);
        free(copy);
        return err;
}

static ka_err_t do_int(ka_avro_reader_t *r)
{
        int32_t v;

        return ka_avro_read_int(r, &v);
}

static ka_err_t do_long(ka_avro_reader_t *r)
{
        int64_t v;

        return ka_avro_read_long(r, &v);
}

static ka_err_t do_bool(ka_avro_reader_t *r)
{
        bool v;

        return ka_avro_read_boolean(r, &v);
}

static ka_err_t do_string(ka_avro_reader_t *r)
{
        const char *s;
        size_t len;

        return ka_avro_read_string(r, &s, &len);
}

static ka_err_t do_union2(ka_avro_reader_t *r)
{
        int32_t i;

        return ka_avro_read_union_index(r, 2, &i);
}

static ka_err_t do_enum3(ka_avro_reader_t *r)
{
        int32_t i;

        return ka_avro_read_enum(r, 3, &i);
}

static ka_err_t do_block(ka_avro_reader_t *r)
{
        int64_t count, size;

        return ka_avro_read_block(r, &count, &size);
}

#define BYTES(...)                                                             \
        (const uint8_t[]){__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

static void malformed_inputs(void **state)
{
        /* int: 5 bytes at most, and the value must fit 32 bits. */
        assert_int_equal(
                read_bytes_of(BYTES(0xfe, 0xff, 0xff, 0xff, 0x0f), do_int),
                KA_OK);
        assert_int_equal(
                read_bytes_of(BYTES(0x80, 0x80, 0x80, 0x80, 0x10), do_int),
                KA_ERR_OVERFLOW);
        assert_int_equal(
                read_bytes_of(BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
                              do_int),
                KA_ERR_OVERFLOW);
        /* long: 10 bytes at most, the 10th carrying only bit 63. */
        assert_int_equal(read_bytes_of(BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                             0xff, 0xff, 0xff, 0x01),
                                       do_long),
                         KA_OK);
        assert_int_equal(read_bytes_of(BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                             0xff, 0xff, 0xff, 0x02),
                                       do_long),
                         KA_ERR_OVERFLOW);
        assert_int_equal(read_bytes_of(BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                             0x80, 0x80, 0x80, 0x80, 0x00),
                                       do_long),
                         KA_ERR_OVERFLOW);
        assert_int_equal(read_bytes_of(BYTES(0x80, 0x80), do_long),
                         KA_ERR_TRUNCATED);
        /* Non-minimal encodings are still values. */
        assert_int_equal(read_bytes_of(BYTES(0x82, 0x00), do_long), KA_OK);

        /* Lengths: -1, then 3 with two bytes left. */
        assert_int_equal(read_bytes_of(BYTES(0x01, 'a'), do_string),
                         KA_ERR_INVALID);
        assert_int_equal(read_bytes_of(BYTES(0x06, 'a', 'b'), do_string),
                         KA_ERR_TRUNCATED);
        assert_int_equal(read_bytes_of(BYTES(0x06, 'a', 'b', 'c'), do_string),
                         KA_OK);
        /* A length near 2^63 does not wrap the pointer. */
        assert_int_equal(read_bytes_of(BYTES(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff,
                                             0xff, 0xff, 0xff, 0x01),
                                       do_string),
                         KA_ERR_TRUNCATED);

        assert_int_equal(read_bytes_of(BYTES(0x02), do_bool), KA_ERR_INVALID);
        assert_int_equal(read_bytes_of(BYTES(0xff), do_bool), KA_ERR_INVALID);
        assert_int_equal(read_bytes_of(BYTES(0x01), do_bool), KA_OK);

        /* Union index 2 of 2 branches, and -1. */
        assert_int_equal(read_bytes_of(BYTES(0x04), do_union2), KA_ERR_INVALID);
        assert_int_equal(read_bytes_of(BYTES(0x01), do_union2), KA_ERR_INVALID);
        assert_int_equal(read_bytes_of(BYTES(0x02), do_union2), KA_OK);
        assert_int_equal(read_bytes_of(BYTES(0x06), do_enum3), KA_ERR_INVALID);
        assert_int_equal(read_bytes_of(BYTES(0x04), do_enum3), KA_OK);

        /* Blocks: -1 item with size -1, with size past the end, and
         * INT64_MIN items. */
        assert_int_equal(read_bytes_of(BYTES(0x01, 0x01, 0x00), do_block),
                         KA_ERR_INVALID);
        assert_int_equal(read_bytes_of(BYTES(0x01, 0x04, 0x00), do_block),
                         KA_ERR_TRUNCATED);
        assert_int_equal(read_bytes_of(BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                             0xff, 0xff, 0xff, 0x01),
                                       do_block),
                         KA_ERR_OVERFLOW);
}

/* ---- writer ----------------------------------------------------------- */

static const char agg_json[] =
        "{\"type\":\"record\",\"name\":\"agg\",\"namespace\":"
        "\"kafkaaggregator\","
        "\"fields\":[{\"name\":\"time\",\"type\":\"double\"},"
        "{\"name\":\"window_size\",\"type\":\"double\"},"
        "{\"name\":\"count\",\"type\":\"long\"},"
        "{\"name\":\"label\",\"type\":\"string\"},"
        "{\"name\":\"opt\",\"type\":[\"null\",\"int\"]},"
        "{\"name\":\"mean_x\",\"type\":\"double\"}]}";

static size_t agg_write(uint8_t *buf, size_t cap, double t, int64_t count,
                        double mean)
{
        ka_avro_writer_t w;

        ka_avro_writer_init(&w, buf, cap);
        ka_avro_write_double(&w, t);
        ka_avro_write_double(&w, 1.0);
        ka_avro_write_long(&w, count);
        ka_avro_write_string(&w, "label", 5);
        ka_avro_write_union_index(&w, 1);
        ka_avro_write_int(&w, -3);
        ka_avro_write_double(&w, mean);
        return ka_avro_writer_len(&w);
}

static void writer_record_reads_back_with_avro_c(void **state)
{
        avro_schema_t schema = ka_test_schema_parse(agg_json);
        avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
        avro_value_t value, f, branch;
        uint8_t buf[128];
        size_t len, cap;
        double d;
        int64_t l;
        int32_t i;
        const char *s;
        size_t slen;
        avro_reader_t reader;

        len = agg_write(buf, sizeof(buf), 1700000000.5, 123456789012LL, -0.25);
        assert_true(len > 0);
        assert_int_equal(avro_generic_value_new(iface, &value), 0);
        reader = avro_reader_memory((const char *)buf, (int64_t)len);
        assert_int_equal(avro_value_read(reader, &value), 0);
        avro_reader_free(reader);
        set_field(&value, "time", &f);
        avro_value_get_double(&f, &d);
        assert_true(d == 1700000000.5);
        set_field(&value, "count", &f);
        avro_value_get_long(&f, &l);
        assert_true(l == 123456789012LL);
        set_field(&value, "label", &f);
        avro_value_get_string(&f, &s, &slen);
        assert_string_equal(s, "label");
        set_field(&value, "opt", &f);
        avro_value_get_current_branch(&f, &branch);
        avro_value_get_int(&branch, &i);
        assert_int_equal(i, -3);
        set_field(&value, "mean_x", &f);
        avro_value_get_double(&f, &d);
        assert_true(d == -0.25);

        /* Every smaller capacity reports overflow by length 0; the exact
         * one fits. */
        for (cap = 0; cap < len; cap++)
                assert_int_equal(agg_write(buf, cap, 1.0, 123456789012LL, 0),
                                 0);
        assert_int_equal(agg_write(buf, len, 1.0, 123456789012LL, 0), len);

        avro_value_decref(&value);
        avro_value_iface_decref(iface);
        avro_schema_decref(schema);
}

static void overflow_is_sticky(void **state)
{
        uint8_t buf[4];
        ka_avro_writer_t w;

        ka_avro_writer_init(&w, buf, sizeof(buf));
        assert_int_equal(ka_avro_write_long(&w, 1), KA_OK);
        assert_int_equal(ka_avro_write_double(&w, 1.0), KA_ERR_OVERFLOW);
        assert_true(w.overflow);
        /* A later write that would fit does not resume the record. */
        assert_int_equal(ka_avro_write_long(&w, 1), KA_ERR_OVERFLOW);
        assert_int_equal(ka_avro_writer_len(&w), 0);
        ka_avro_writer_init(&w, buf, sizeof(buf));
        assert_int_equal(ka_avro_write_string(&w, "abcd", 4), KA_ERR_OVERFLOW);
        assert_int_equal(ka_avro_writer_len(&w), 0);
}

/* ---- event times ------------------------------------------------------ */

static void time_conversions(void **state)
{
        int64_t ms = 0;

        assert_int_equal(ka_avro_seconds_to_ms(1.5, &ms), KA_OK);
        assert_true(ms == 1500);
        assert_int_equal(ka_avro_seconds_to_ms(1700000000.25, &ms), KA_OK);
        assert_true(ms == 1700000000250LL);
        assert_int_equal(ka_avro_seconds_to_ms(-0.0005, &ms), KA_OK);
        assert_true(ms == -1);
        assert_int_equal(ka_avro_seconds_to_ms(NAN, &ms), KA_ERR_TIME);
        assert_int_equal(ka_avro_seconds_to_ms(-NAN, &ms), KA_ERR_TIME);
        assert_int_equal(ka_avro_seconds_to_ms(INFINITY, &ms), KA_ERR_TIME);
        assert_int_equal(ka_avro_seconds_to_ms(-INFINITY, &ms), KA_ERR_TIME);
        assert_int_equal(ka_avro_seconds_to_ms(1e300, &ms), KA_ERR_TIME);
        assert_int_equal(ka_avro_seconds_to_ms(-1e308, &ms), KA_ERR_TIME);
        assert_true(ka_avro_micros_to_ms(1999) == 1);
        assert_true(ka_avro_micros_to_ms(-1) == -1);
        assert_true(ka_avro_micros_to_ms(-1000) == -1);
        assert_true(ka_avro_micros_to_ms(1700000000123456LL) ==
                    1700000000123LL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(header_both_ways),
                cmocka_unit_test(primitives_match_avro_c),
                cmocka_unit_test(writers_match_avro_c),
                cmocka_unit_test(complex_values_match_avro_c),
                cmocka_unit_test(truncations_are_errors),
                cmocka_unit_test(corruptions_stay_in_bounds),
                cmocka_unit_test(negative_block_counts),
                cmocka_unit_test(malformed_inputs),
                cmocka_unit_test(writer_record_reads_back_with_avro_c),
                cmocka_unit_test(overflow_is_sticky),
                cmocka_unit_test(time_conversions),
        };

        ka_test_seed(0x9e3779b97f4a7c15ULL);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
