/*
 * Schema resolution (SPEC §9): compiles a writer schema against a source's
 * field table into a flat list of operations (read a number into a row
 * slot, skip bytes, skip a value of some schema), then runs that list over
 * each message. The rules are in avro_resolve.h.
 */
#include "avro_resolve.h"
#include "avro_wire.h"

#include <avro.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one writer value (or one union branch) is read as. */
typedef enum val_e {
        VAL_NULL,
        VAL_INT,
        VAL_LONG,
        VAL_FLOAT,
        VAL_DOUBLE,
} val_t;

/* How a value becomes the event time. */
typedef enum unit_e {
        UNIT_NONE,
        UNIT_SECONDS,
        UNIT_MILLIS,
        UNIT_MICROS,
} unit_t;

typedef struct branch_s {
        uint8_t val;  /* val_t */
        uint8_t unit; /* unit_t */
} branch_t;

typedef enum op_kind_e {
        OP_SKIP_BYTES,  /* a run of fixed-width values: size bytes */
        OP_SKIP_PRIM,   /* a variable-width primitive */
        OP_SKIP_SCHEMA, /* anything else */
        OP_VALUE,       /* a field the agent reads */
} op_kind_t;

typedef struct op_s {
        op_kind_t kind;
        ka_avro_prim_t prim;  /* OP_SKIP_PRIM */
        size_t size;          /* OP_SKIP_BYTES */
        avro_schema_t schema; /* OP_SKIP_SCHEMA, owned by res->schema */
        /* OP_VALUE: a union of nbranches, or a plain value (nbranches 0,
         * described by branches[0]). */
        int32_t nbranches;
        branch_t *branches;
        ptrdiff_t slot; /* row index, or -1 */
        bool time;      /* also the event time */
} op_t;

struct ka_avro_resolver_s {
        avro_schema_t schema;
        size_t first_field, nfields;
        bool has_time;
        size_t nops;
        op_t *ops;
};

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;

        if (!errstr || !errstr_size)
                return;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

static const char *num_name(ka_num_type_t num)
{
        switch (num) {
        case KA_NUM_INT:
                return "int";
        case KA_NUM_LONG:
                return "long";
        case KA_NUM_FLOAT:
                return "float";
        case KA_NUM_DOUBLE:
                return "double";
        }
        return "?";
}

/* The logicalType of a type JSON node, or NULL. */
static const char *logical_type(const json_t *type)
{
        if (!json_is_object(type))
                return NULL;
        return json_string_value(json_object_get(type, "logicalType"));
}

/*
 * Classifies one writer type (a field's type or one branch of its union)
 * for a field read into `reader` (NULL when the agent does not aggregate
 * it) and/or as the event time. type_json is its JSON node, for the
 * logical type avro-c does not keep. Returns false with errstr set when it
 * cannot be resolved.
 */
static bool classify(avro_schema_t type, const json_t *type_json,
                     const char *fname, const ka_agent_field_t *reader,
                     bool time, branch_t *br, char *errstr, size_t errstr_size)
{
        const char *lt;

        br->unit = UNIT_NONE;
        switch (avro_typeof(type)) {
        case AVRO_NULL:
                br->val = VAL_NULL;
                return true;
        case AVRO_INT32:
                br->val = VAL_INT;
                break;
        case AVRO_INT64:
                br->val = VAL_LONG;
                break;
        case AVRO_FLOAT:
                br->val = VAL_FLOAT;
                break;
        case AVRO_DOUBLE:
                br->val = VAL_DOUBLE;
                break;
        default:
                if (reader)
                        set_err(errstr, errstr_size,
                                "writer field '%s' of type '%s' cannot be "
                                "read as '%s'",
                                fname, avro_schema_type_name(type),
                                num_name(reader->type));
                else
                        set_err(errstr, errstr_size,
                                "time field '%s' has type '%s', not a double "
                                "or a timestamp long",
                                fname, avro_schema_type_name(type));
                return false;
        }
        if (!time)
                return true;
        lt = logical_type(type_json);
        if (br->val == VAL_DOUBLE || br->val == VAL_FLOAT) {
                br->unit = UNIT_SECONDS;
        } else if (br->val == VAL_LONG && lt &&
                   !strcmp(lt, "timestamp-millis")) {
                br->unit = UNIT_MILLIS;
        } else if (br->val == VAL_LONG && lt &&
                   !strcmp(lt, "timestamp-micros")) {
                br->unit = UNIT_MICROS;
        } else {
                set_err(errstr, errstr_size,
                        "time field '%s' has type '%s'%s%s, not a double or "
                        "a long with logicalType timestamp-millis or "
                        "timestamp-micros",
                        fname, avro_schema_type_name(type),
                        lt ? " with logicalType " : "", lt ? lt : "");
                return false;
        }
        return true;
}

/* A reader-field index sorted by name, for matching writer fields. */
typedef struct name_idx_s {
        const char *name;
        size_t idx;
} name_idx_t;

static int name_idx_cmp(const void *a, const void *b)
{
        return strcmp(((const name_idx_t *)a)->name,
                      ((const name_idx_t *)b)->name);
}

static bool prim_of(avro_schema_t type, ka_avro_prim_t *prim, size_t *width)
{
        *width = 0;
        switch (avro_typeof(type)) {
        case AVRO_NULL:
                *prim = KA_AVRO_NULL;
                return true;
        case AVRO_BOOLEAN:
                *prim = KA_AVRO_BOOLEAN;
                return true;
        case AVRO_INT32:
                *prim = KA_AVRO_INT;
                return true;
        case AVRO_INT64:
                *prim = KA_AVRO_LONG;
                return true;
        case AVRO_FLOAT:
                *prim = KA_AVRO_FLOAT;
                *width = 4;
                return true;
        case AVRO_DOUBLE:
                *prim = KA_AVRO_DOUBLE;
                *width = 8;
                return true;
        case AVRO_BYTES:
                *prim = KA_AVRO_BYTES;
                return true;
        case AVRO_STRING:
                *prim = KA_AVRO_STRING;
                return true;
        default:
                return false;
        }
}

/* Appends the skip of one unread writer field, merging runs of fixed-width
 * values (floats, doubles, nulls) into one jump. */
static void add_skip(ka_avro_resolver_t *res, avro_schema_t type)
{
        ka_avro_prim_t prim;
        size_t width;
        op_t *op;

        if (prim_of(type, &prim, &width) && (width || prim == KA_AVRO_NULL)) {
                if (res->nops &&
                    res->ops[res->nops - 1].kind == OP_SKIP_BYTES) {
                        res->ops[res->nops - 1].size += width;
                        return;
                }
                op = &res->ops[res->nops++];
                op->kind = OP_SKIP_BYTES;
                op->size = width;
                return;
        }
        op = &res->ops[res->nops++];
        if (prim_of(type, &prim, &width)) {
                op->kind = OP_SKIP_PRIM;
                op->prim = prim;
        } else {
                op->kind = OP_SKIP_SCHEMA;
                op->schema = type;
        }
}

static bool add_value(ka_avro_resolver_t *res, avro_schema_t type,
                      const json_t *type_json, const char *fname,
                      const ka_agent_field_t *reader, ptrdiff_t slot, bool time,
                      char *errstr, size_t errstr_size)
{
        op_t *op = &res->ops[res->nops++];
        size_t i, n = 1, nonnull = 0;

        op->kind = OP_VALUE;
        op->slot = slot;
        op->time = time;
        if (is_avro_union(type)) {
                n = avro_schema_union_size(type);
                if (n == 0 || n > INT32_MAX) {
                        set_err(errstr, errstr_size,
                                "writer field '%s' is an empty union", fname);
                        return false;
                }
                op->nbranches = (int32_t)n;
        }
        op->branches = calloc(n, sizeof(*op->branches));
        if (!op->branches) {
                set_err(errstr, errstr_size, "out of memory");
                return false;
        }
        for (i = 0; i < n; i++) {
                avro_schema_t bt = type;
                const json_t *bj = type_json;

                if (op->nbranches) {
                        bt = avro_schema_union_branch(type, (int)i);
                        bj = json_is_array(type_json)
                                     ? json_array_get(type_json, i)
                                     : NULL;
                }
                if (!classify(bt, bj, fname, reader, time, &op->branches[i],
                              errstr, errstr_size))
                        return false;
                nonnull += op->branches[i].val != VAL_NULL;
        }
        if (time && !nonnull) {
                set_err(errstr, errstr_size, "time field '%s' is always null",
                        fname);
                return false;
        }
        return true;
}

ka_avro_resolver_t *ka_avro_resolver_new(const char *writer_schema_json,
                                         const ka_agent_source_t *src,
                                         char *errstr, size_t errstr_size)
{
        ka_avro_resolver_t *res = NULL;
        json_t *root = NULL, *jfields;
        json_error_t jerr;
        name_idx_t *names = NULL;
        size_t i, nwriter;
        bool time_found = false;

        res = calloc(1, sizeof(*res));
        if (!res) {
                set_err(errstr, errstr_size, "out of memory");
                return NULL;
        }
        res->first_field = src->first_field;
        res->nfields = src->nfields;
        res->has_time = src->time_field != NULL;
        if (avro_schema_from_json_length(writer_schema_json,
                                         strlen(writer_schema_json),
                                         &res->schema)) {
                res->schema = NULL;
                set_err(errstr, errstr_size, "invalid writer schema: %s",
                        avro_strerror());
                goto fail;
        }
        if (!is_avro_record(res->schema)) {
                set_err(errstr, errstr_size,
                        "writer schema is a '%s', not a record",
                        avro_schema_type_name(res->schema));
                goto fail;
        }
        /* avro-c drops logicalType: the JSON keeps it. */
        root = json_loads(writer_schema_json, 0, &jerr);
        jfields = json_object_get(root, "fields");
        nwriter = avro_schema_record_size(res->schema);
        if (!json_is_array(jfields) || json_array_size(jfields) != nwriter) {
                set_err(errstr, errstr_size,
                        "writer schema: cannot read its fields");
                goto fail;
        }

        names = calloc(src->nfields ? src->nfields : 1, sizeof(*names));
        res->ops = calloc(nwriter ? nwriter : 1, sizeof(*res->ops));
        if (!names || !res->ops) {
                set_err(errstr, errstr_size, "out of memory");
                goto fail;
        }
        for (i = 0; i < src->nfields; i++) {
                names[i].name = src->fields[i].name;
                names[i].idx = i;
        }
        qsort(names, src->nfields, sizeof(*names), name_idx_cmp);

        for (i = 0; i < nwriter; i++) {
                const char *fname =
                        avro_schema_record_field_name(res->schema, (int)i);
                avro_schema_t type = avro_schema_record_field_get_by_index(
                        res->schema, (int)i);
                const json_t *tj =
                        json_object_get(json_array_get(jfields, i), "type");
                name_idx_t key = {fname, 0}, *hit = NULL;
                const ka_agent_field_t *reader = NULL;
                ptrdiff_t slot = -1;
                bool time;

                if (!fname || !type) {
                        set_err(errstr, errstr_size,
                                "writer schema: cannot read field %zu", i);
                        goto fail;
                }
                if (src->nfields)
                        hit = bsearch(&key, names, src->nfields, sizeof(*names),
                                      name_idx_cmp);
                time = src->time_field && !strcmp(fname, src->time_field);
                if (hit) {
                        reader = &src->fields[hit->idx];
                        slot = (ptrdiff_t)(src->first_field + hit->idx);
                }
                time_found |= time;
                if (!reader && !time) {
                        add_skip(res, type);
                        continue;
                }
                if (!add_value(res, type, tj, fname, reader, slot, time, errstr,
                               errstr_size))
                        goto fail;
        }
        if (src->time_field && !time_found) {
                set_err(errstr, errstr_size,
                        "writer schema lacks the time field '%s'",
                        src->time_field);
                goto fail;
        }
        json_decref(root);
        free(names);
        return res;
fail:
        json_decref(root);
        free(names);
        ka_avro_resolver_destroy(res);
        return NULL;
}

void ka_avro_resolver_destroy(ka_avro_resolver_t *res)
{
        size_t i;

        if (!res)
                return;
        for (i = 0; i < res->nops; i++)
                free(res->ops[i].branches);
        free(res->ops);
        if (res->schema)
                avro_schema_decref(res->schema);
        free(res);
}

static ka_err_t read_value(ka_avro_reader_t *r, const op_t *op, double *row,
                           int64_t *event_ms)
{
        const branch_t *br = &op->branches[0];
        int32_t idx, i32;
        int64_t l = 0;
        float f;
        double d = NAN;
        ka_err_t err = KA_OK;

        if (op->nbranches) {
                err = ka_avro_read_union_index(r, op->nbranches, &idx);
                if (err)
                        return err;
                br = &op->branches[idx];
        }
        switch ((val_t)br->val) {
        case VAL_NULL:
                /* A null time leaves the message without a window. */
                if (op->time)
                        return KA_ERR_INVALID;
                break;
        case VAL_INT:
                if (!(err = ka_avro_read_int(r, &i32)))
                        d = i32;
                break;
        case VAL_LONG:
                if (!(err = ka_avro_read_long(r, &l)))
                        d = (double)l;
                break;
        case VAL_FLOAT:
                if (!(err = ka_avro_read_float(r, &f)))
                        d = f;
                break;
        case VAL_DOUBLE:
                err = ka_avro_read_double(r, &d);
                break;
        }
        if (err)
                return err;
        if (op->slot >= 0)
                row[op->slot] = d;
        if (op->time && event_ms) {
                switch ((unit_t)br->unit) {
                case UNIT_SECONDS:
                        return ka_avro_seconds_to_ms(d, event_ms);
                case UNIT_MILLIS:
                        *event_ms = l;
                        break;
                case UNIT_MICROS:
                        *event_ms = ka_avro_micros_to_ms(l);
                        break;
                case UNIT_NONE:
                        return KA_ERR_INVALID;
                }
        }
        return KA_OK;
}

ka_err_t ka_avro_resolver_decode(const ka_avro_resolver_t *res,
                                 const uint8_t *buf, size_t len, double *row,
                                 int64_t *event_ms)
{
        ka_avro_reader_t r;
        size_t i;
        ka_err_t err = KA_OK;

        for (i = 0; i < res->nfields; i++)
                row[res->first_field + i] = NAN;
        ka_avro_reader_init(&r, buf, len);
        for (i = 0; i < res->nops && !err; i++) {
                const op_t *op = &res->ops[i];

                switch (op->kind) {
                case OP_SKIP_BYTES:
                        if (op->size > ka_avro_reader_left(&r))
                                return KA_ERR_TRUNCATED;
                        r.p += op->size;
                        break;
                case OP_SKIP_PRIM:
                        err = ka_avro_skip_prim(&r, op->prim);
                        break;
                case OP_SKIP_SCHEMA:
                        err = ka_avro_skip_value(&r, op->schema);
                        break;
                case OP_VALUE:
                        err = read_value(&r, op, row, event_ms);
                        break;
                }
        }
        if (err)
                return err;
        return r.p == r.end ? KA_OK : KA_ERR_INVALID;
}
