/*
 * Source schema -> field model. runtime/avro_schema resolves the schema
 * (names, references); this classifies the top-level fields and compiles
 * every field the agent does not read into a skip program.
 */
#include "schema.h"
#include "avro_schema.h"
#include "avro_skip.h"
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct compiler_s {
        /* records being compiled, for recursive references */
        const ka_avro_node_t *stack[KA_SKIP_MAX_DEPTH];
        size_t stack_pos[KA_SKIP_MAX_DEPTH];
        size_t depth;
        int32_t *prog;
        size_t len, cap;
        bool nomem;
} compiler_t;

const char *ka_num_type_name(ka_num_type_t num)
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

static bool num_type(const ka_avro_node_t *t, ka_num_type_t *num)
{
        switch (t->type) {
        case KA_AVRO_INT:
                *num = KA_NUM_INT;
                return true;
        case KA_AVRO_LONG:
                *num = KA_NUM_LONG;
                return true;
        case KA_AVRO_FLOAT:
                *num = KA_NUM_FLOAT;
                return true;
        case KA_AVRO_DOUBLE:
                *num = KA_NUM_DOUBLE;
                return true;
        default:
                return false;
        }
}

static void emit(compiler_t *c, int64_t v)
{
        if (c->len == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                int32_t *p = realloc(c->prog, cap * sizeof(*p));

                if (!p) {
                        c->nomem = true;
                        return;
                }
                c->prog = p;
                c->cap = cap;
        }
        c->prog[c->len++] = (int32_t)v;
}

/* Appends the skip program of t (prefix order, see avro_skip.h). */
static bool compile(compiler_t *c, const ka_avro_node_t *t)
{
        static const int32_t prim_ops[] = {
                [KA_AVRO_NULL] = KA_SKIP_NULL,
                [KA_AVRO_BOOLEAN] = KA_SKIP_BOOLEAN,
                [KA_AVRO_INT] = KA_SKIP_INT,
                [KA_AVRO_LONG] = KA_SKIP_LONG,
                [KA_AVRO_FLOAT] = KA_SKIP_FLOAT,
                [KA_AVRO_DOUBLE] = KA_SKIP_DOUBLE,
                [KA_AVRO_BYTES] = KA_SKIP_BYTES,
                [KA_AVRO_STRING] = KA_SKIP_STRING,
        };
        bool ok = true;

        switch (t->type) {
        case KA_AVRO_FIXED:
                emit(c, KA_SKIP_FIXED);
                emit(c, (int64_t)t->size);
                break;
        case KA_AVRO_ENUM:
                emit(c, KA_SKIP_ENUM);
                emit(c, (int64_t)t->nsymbols);
                break;
        case KA_AVRO_ARRAY:
                emit(c, KA_SKIP_ARRAY);
                ok = compile(c, t->items);
                break;
        case KA_AVRO_MAP:
                emit(c, KA_SKIP_MAP);
                ok = compile(c, t->items);
                break;
        case KA_AVRO_UNION:
                emit(c, KA_SKIP_UNION);
                emit(c, (int64_t)t->nbranches);
                for (size_t i = 0; ok && i < t->nbranches; i++)
                        ok = compile(c, t->branches[i]);
                break;
        case KA_AVRO_RECORD:
                for (size_t i = 0; i < c->depth; i++) {
                        if (c->stack[i] == t) {
                                emit(c, KA_SKIP_REF);
                                emit(c, (int64_t)c->stack_pos[i]);
                                return !c->nomem;
                        }
                }
                if (c->depth == KA_SKIP_MAX_DEPTH)
                        return false;
                c->stack[c->depth] = t;
                c->stack_pos[c->depth++] = c->len;
                emit(c, KA_SKIP_RECORD);
                emit(c, (int64_t)t->nfields);
                for (size_t i = 0; ok && i < t->nfields; i++)
                        ok = compile(c, t->fields[i].type);
                c->depth--;
                break;
        default:
                emit(c, prim_ops[t->type]);
                break;
        }
        return ok && !c->nomem;
}

/* "double", "union", "array", "record lsst.X", ... for messages. */
static char *describe(const ka_avro_node_t *t)
{
        char *s;

        if (t->fullname) {
                if (asprintf(&s, "%s %s", ka_avro_type_name(t->type),
                             t->fullname) < 0)
                        return NULL;
                return s;
        }
        return strdup(ka_avro_type_name(t->type));
}

/* Numeric or not, and how to read past the field when it is not read. */
static bool classify(ka_schema_field_t *f, const ka_avro_node_t *type)
{
        const ka_avro_node_t *t = type;
        compiler_t c = {0};

        if (num_type(t, &f->num)) {
                f->numeric = true;
        } else if (type->type == KA_AVRO_UNION && type->nbranches == 2) {
                for (int32_t b = 0; b < 2; b++) {
                        if (type->branches[1 - b]->type == KA_AVRO_NULL &&
                            num_type(type->branches[b], &f->num)) {
                                f->numeric = f->nullable = true;
                                f->value_branch = b;
                                t = type->branches[b];
                        }
                }
        }
        if (!(f->type_desc = describe(type)))
                return false;
        if (f->numeric && t->logical_type &&
            !(f->logical_type = strdup(t->logical_type)))
                return false;

        if (type->type <= KA_AVRO_STRING) {
                f->skip_prim = ka_avro_type_name(type->type);
                return true;
        }
        if (!compile(&c, type)) {
                free(c.prog);
                return false;
        }
        f->skip_prog = c.prog;
        f->skip_prog_len = c.len;
        return true;
}

ka_schema_t *ka_schema_parse(const char *json, char *errstr, size_t errstr_size)
{
        ka_avro_schema_t *avro =
                ka_avro_schema_parse(json, errstr, errstr_size);
        const ka_avro_node_t *root;
        ka_schema_t *schema = NULL;

        if (!avro)
                return NULL;
        root = ka_avro_schema_root(avro);
        if (root->type != KA_AVRO_RECORD) {
                snprintf(errstr, errstr_size,
                         "the schema is a %s, not a record",
                         ka_avro_type_name(root->type));
                goto out;
        }
        schema = calloc(1, sizeof(*schema));
        if (!schema || !(schema->fullname = strdup(root->fullname)) ||
            !(schema->fields =
                      calloc(root->nfields + 1, sizeof(*schema->fields))))
                goto nomem;

        for (size_t i = 0; i < root->nfields; i++) {
                ka_schema_field_t *f = &schema->fields[i];
                const char *name = root->fields[i].name;

                schema->nfields = i + 1;
                if (!(f->name = strdup(name)) ||
                    !(f->ident = ka_names_field_ident(name)))
                        goto nomem;
                for (size_t j = 0; j < i; j++) {
                        if (strcmp(schema->fields[j].ident, f->ident))
                                continue;
                        snprintf(errstr, errstr_size,
                                 "fields '%s' and '%s' map to one C "
                                 "identifier '%s'",
                                 schema->fields[j].name, name, f->ident);
                        goto fail;
                }
                if (!classify(f, root->fields[i].type)) {
                        snprintf(errstr, errstr_size,
                                 "field '%s': out of memory or types nested "
                                 "deeper than %d",
                                 name, KA_SKIP_MAX_DEPTH);
                        goto fail;
                }
        }
        goto out;

nomem:
        snprintf(errstr, errstr_size, "out of memory");
fail:
        ka_schema_destroy(schema);
        schema = NULL;
out:
        ka_avro_schema_destroy(avro);
        return schema;
}

void ka_schema_destroy(ka_schema_t *schema)
{
        if (!schema)
                return;
        for (size_t i = 0; i < schema->nfields; i++) {
                ka_schema_field_t *f = &schema->fields[i];

                free(f->name);
                free(f->ident);
                free(f->logical_type);
                free(f->skip_prog);
                free(f->type_desc);
        }
        free(schema->fields);
        free(schema->fullname);
        free(schema);
}

const ka_schema_field_t *ka_schema_field(const ka_schema_t *schema,
                                         const char *name)
{
        for (size_t i = 0; i < schema->nfields; i++)
                if (!strcmp(schema->fields[i].name, name))
                        return &schema->fields[i];
        return NULL;
}
