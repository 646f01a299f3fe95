/*
 * Schema resolution (SPEC §9): compiles a writer schema against a source's
 * field table into a flat list of operations (read a number into a row
 * slot, jump over a run of fixed-width values, run the skip program of a
 * field the agent does not read), then runs that list over each message.
 * The rules are in avro_resolve.h.
 */
#include "avro_resolve.h"
#include "avro_schema.h"
#include "avro_skip.h"
#include "avro_wire.h"
#include "row.h"

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
        VAL_ARRAY, /* of numbers: the items type in branch_t.items */
} val_t;

/* How a value becomes the event time. */
typedef enum unit_e {
        UNIT_NONE,
        UNIT_SECONDS,
        UNIT_MILLIS,
        UNIT_MICROS,
} unit_t;

typedef struct branch_s {
        uint8_t val;   /* val_t */
        uint8_t unit;  /* unit_t */
        uint8_t items; /* VAL_ARRAY: KA_AVRO_INT .. KA_AVRO_DOUBLE */
} branch_t;

typedef enum op_kind_e {
        OP_SKIP_BYTES, /* a run of fixed-width values: size bytes */
        OP_SKIP,       /* a value of any other type */
        OP_VALUE,      /* a field the agent reads */
} op_kind_t;

typedef struct op_s {
        op_kind_t kind;
        size_t size; /* OP_SKIP_BYTES */
        /* OP_SKIP: the field's skip program (owned) */
        int32_t *prog;
        size_t prog_len;
        /* OP_VALUE: a union of nbranches, or a plain value (nbranches 0,
         * described by branches[0]). */
        int32_t nbranches;
        branch_t *branches;
        ptrdiff_t slot; /* row->vals (row->arrays when array) index, or -1 */
        bool array;     /* an array field of the agent */
        bool time;      /* also the event time */
} op_t;

struct ka_avro_resolver_s {
        size_t first_field, nfields;
        size_t first_array, narrays;
        size_t nops;
        op_t *ops;
        size_t prog_total; /* entries of every program, while building */
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

/* One writer type (or union branch) for an array field of the agent: null,
 * or an array of numbers. */
static bool classify_array(const ka_avro_node_t *type, const char *fname,
                           const ka_agent_field_t *reader, branch_t *br,
                           char *errstr, size_t errstr_size)
{
        const ka_avro_node_t *items = type->items;

        br->unit = UNIT_NONE;
        if (type->type == KA_AVRO_NULL) {
                br->val = VAL_NULL;
                return true;
        }
        if (type->type == KA_AVRO_ARRAY && items &&
            items->type >= KA_AVRO_INT && items->type <= KA_AVRO_DOUBLE) {
                br->val = VAL_ARRAY;
                br->items = (uint8_t)items->type;
                return true;
        }
        set_err(errstr, errstr_size,
                "writer field '%s' of type '%s%s%s' cannot be read as "
                "'array of %s'",
                fname, ka_avro_type_name(type->type),
                type->type == KA_AVRO_ARRAY && items ? " of " : "",
                type->type == KA_AVRO_ARRAY && items
                        ? ka_avro_type_name(items->type)
                        : "",
                ka_num_type_name(reader->type));
        return false;
}

/*
 * Classifies one writer type (a field's type or one branch of its union)
 * for a field read into `reader` (NULL when the agent does not aggregate
 * it) and/or as the event time. Returns false with errstr set when it
 * cannot be resolved.
 */
static bool classify(const ka_avro_node_t *type, const char *fname,
                     const ka_agent_field_t *reader, bool array, bool time,
                     branch_t *br, char *errstr, size_t errstr_size)
{
        const char *lt = type->logical_type;
        const char *tname = ka_avro_type_name(type->type);

        if (array)
                return classify_array(type, fname, reader, br, errstr,
                                      errstr_size);
        br->unit = UNIT_NONE;
        switch (type->type) {
        case KA_AVRO_NULL:
                br->val = VAL_NULL;
                return true;
        case KA_AVRO_INT:
                br->val = VAL_INT;
                break;
        case KA_AVRO_LONG:
                br->val = VAL_LONG;
                break;
        case KA_AVRO_FLOAT:
                br->val = VAL_FLOAT;
                break;
        case KA_AVRO_DOUBLE:
                br->val = VAL_DOUBLE;
                break;
        default:
                if (reader)
                        set_err(errstr, errstr_size,
                                "writer field '%s' of type '%s' cannot be "
                                "read as '%s'",
                                fname, tname, ka_num_type_name(reader->type));
                else
                        set_err(errstr, errstr_size,
                                "time field '%s' has type '%s', not a double "
                                "or a timestamp long",
                                fname, tname);
                return false;
        }
        if (!time)
                return true;
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
                        fname, tname, lt ? " with logicalType " : "",
                        lt ? lt : "");
                return false;
        }
        return true;
}

/* A reader-field index sorted by name, for matching writer fields. */
typedef struct name_idx_s {
        const char *name;
        size_t idx; /* in the source's fields, or arrays when array */
        bool array;
} name_idx_t;

static int name_idx_cmp(const void *a, const void *b)
{
        return strcmp(((const name_idx_t *)a)->name,
                      ((const name_idx_t *)b)->name);
}

/* Appends the skip of one unread writer field. A run of fields of fixed
 * width (floats, doubles, nulls, fixed, records of those) becomes a
 * single jump. */
static bool add_skip(ka_avro_resolver_t *res, const ka_avro_node_t *type,
                     const char *fname, char *errstr, size_t errstr_size)
{
        op_t *op = &res->ops[res->nops];
        size_t width;
        ka_err_t err;

        err = ka_avro_skip_compile(type, &op->prog, &op->prog_len);
        if (err == KA_ERR_NOMEM) {
                set_err(errstr, errstr_size, "out of memory");
                return false;
        }
        if (!err && (res->prog_total += op->prog_len) > KA_SKIP_MAX_TOTAL) {
                free(op->prog);
                op->prog = NULL;
                err = KA_ERR_INVALID;
        }
        if (err) {
                set_err(errstr, errstr_size,
                        "writer field '%s': types nested deeper than %d or "
                        "too large to skip",
                        fname, KA_SKIP_MAX_DEPTH);
                return false;
        }
        if (!ka_avro_skip_width(op->prog, op->prog_len, &width)) {
                op->kind = OP_SKIP;
                res->nops++;
                return true;
        }
        free(op->prog);
        op->prog = NULL;
        if (res->nops && op[-1].kind == OP_SKIP_BYTES) {
                op[-1].size += width;
                return true;
        }
        op->kind = OP_SKIP_BYTES;
        op->size = width;
        res->nops++;
        return true;
}

static bool add_value(ka_avro_resolver_t *res, const ka_avro_node_t *type,
                      const char *fname, const ka_agent_field_t *reader,
                      ptrdiff_t slot, bool array, bool time, char *errstr,
                      size_t errstr_size)
{
        op_t *op = &res->ops[res->nops++];
        size_t i, n = 1, nonnull = 0;

        op->kind = OP_VALUE;
        op->slot = slot;
        op->array = array;
        op->time = time;
        if (type->type == KA_AVRO_UNION) {
                n = type->nbranches;
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
                const ka_avro_node_t *bt =
                        op->nbranches ? type->branches[i] : type;

                if (!classify(bt, fname, reader, array, time, &op->branches[i],
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
        ka_avro_schema_t *schema;
        ka_avro_resolver_t *res;
        char why[512];

        if (!(schema = ka_avro_schema_parse(writer_schema_json, why,
                                            sizeof(why)))) {
                set_err(errstr, errstr_size, "invalid writer schema: %s", why);
                return NULL;
        }
        res = ka_avro_resolver_new_parsed(schema, src, errstr, errstr_size);
        ka_avro_schema_destroy(schema);
        return res;
}

ka_avro_resolver_t *ka_avro_resolver_new_parsed(const ka_avro_schema_t *schema,
                                                const ka_agent_source_t *src,
                                                char *errstr,
                                                size_t errstr_size)
{
        ka_avro_resolver_t *res = NULL;
        const ka_avro_node_t *root;
        name_idx_t *names = NULL;
        size_t i;
        bool time_found = false;

        res = calloc(1, sizeof(*res));
        if (!res) {
                set_err(errstr, errstr_size, "out of memory");
                return NULL;
        }
        res->first_field = src->first_field;
        res->nfields = src->nfields;
        res->first_array = src->first_array;
        res->narrays = src->narrays;
        root = ka_avro_schema_root(schema);
        if (root->type != KA_AVRO_RECORD) {
                set_err(errstr, errstr_size,
                        "writer schema is a '%s', not a record",
                        ka_avro_type_name(root->type));
                goto fail;
        }

        names = calloc(src->nfields + src->narrays + 1, sizeof(*names));
        res->ops = calloc(root->nfields ? root->nfields : 1, sizeof(*res->ops));
        if (!names || !res->ops) {
                set_err(errstr, errstr_size, "out of memory");
                goto fail;
        }
        for (i = 0; i < src->nfields; i++)
                names[i] = (name_idx_t){src->fields[i].name, i, false};
        for (i = 0; i < src->narrays; i++)
                names[src->nfields + i] =
                        (name_idx_t){src->arrays[i].name, i, true};
        qsort(names, src->nfields + src->narrays, sizeof(*names), name_idx_cmp);

        for (i = 0; i < root->nfields; i++) {
                const ka_avro_field_t *wf = &root->fields[i];
                name_idx_t key = {wf->name, 0, false}, *hit = NULL;
                const ka_agent_field_t *reader = NULL;
                ptrdiff_t slot = -1;
                bool time, array = false;

                if (src->nfields + src->narrays)
                        hit = bsearch(&key, names, src->nfields + src->narrays,
                                      sizeof(*names), name_idx_cmp);
                time = src->time_field && !strcmp(wf->name, src->time_field);
                if (hit && hit->array) {
                        reader = &src->arrays[hit->idx];
                        slot = (ptrdiff_t)(src->first_array + hit->idx);
                        array = true;
                } else if (hit) {
                        reader = &src->fields[hit->idx];
                        slot = (ptrdiff_t)(src->first_field + hit->idx);
                }
                time_found |= time;
                if (!reader && !time) {
                        if (!add_skip(res, wf->type, wf->name, errstr,
                                      errstr_size))
                                goto fail;
                        continue;
                }
                if (!add_value(res, wf->type, wf->name, reader, slot,
                               array && !time, time, errstr, errstr_size))
                        goto fail;
        }
        if (src->time_field && !time_found) {
                set_err(errstr, errstr_size,
                        "writer schema lacks the time field '%s'",
                        src->time_field);
                goto fail;
        }
        goto out;
fail:
        ka_avro_resolver_destroy(res);
        res = NULL;
out:
        free(names);
        return res;
}

void ka_avro_resolver_destroy(ka_avro_resolver_t *res)
{
        size_t i;

        if (!res)
                return;
        for (i = 0; i < res->nops; i++) {
                free(res->ops[i].prog);
                free(res->ops[i].branches);
        }
        free(res->ops);
        free(res);
}

static ka_err_t read_value(ka_avro_reader_t *r, const op_t *op, ka_row_t *row,
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
        if (op->array) {
                ka_row_array_t *arr = &row->arrays[op->slot];

                if (br->val == VAL_ARRAY)
                        return ka_row_read_array(r, br->items, arr);
                arr->len = 0;
                return KA_OK;
        }
        switch ((val_t)br->val) {
        case VAL_NULL:
                /* A null time leaves the message without a window. */
                if (op->time)
                        return KA_ERR_INVALID;
                break;
        case VAL_ARRAY:
                return KA_ERR_INVALID; /* not classified for a scalar */
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
                row->vals[op->slot] = d;
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
                                 const uint8_t *buf, size_t len, ka_row_t *row,
                                 int64_t *event_ms)
{
        ka_avro_reader_t r;
        size_t i;
        ka_err_t err = KA_OK;

        for (i = 0; i < res->nfields; i++)
                row->vals[res->first_field + i] = NAN;
        for (i = 0; i < res->narrays; i++)
                row->arrays[res->first_array + i].len = 0;
        ka_avro_reader_init(&r, buf, len);
        for (i = 0; i < res->nops && !err; i++) {
                const op_t *op = &res->ops[i];

                switch (op->kind) {
                case OP_SKIP_BYTES:
                        if (op->size > ka_avro_reader_left(&r))
                                return KA_ERR_TRUNCATED;
                        r.p += op->size;
                        break;
                case OP_SKIP:
                        err = ka_avro_skip_program(&r, op->prog, op->prog_len);
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
