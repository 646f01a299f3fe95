/*
 * Source schema -> field model. runtime/avro_schema resolves the schema
 * (names, references); this classifies the top-level fields and compiles
 * every field the agent does not read into a skip program.
 */
#include "schema.h"
#include "avro_schema.h"
#include "avro_skip.h"
#include "hash.h"
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* "double", "union", "array of double", "record lsst.X", ... for
 * messages. */
static char *describe(const ka_avro_node_t *t)
{
        char *s;

        if (t->type == KA_AVRO_ARRAY && t->items) {
                const ka_avro_node_t *it = t->items;

                if (asprintf(&s, "array of %s",
                             it->fullname ? it->fullname
                                          : ka_avro_type_name(it->type)) < 0)
                        return NULL;
                return s;
        }
        if (t->fullname) {
                if (asprintf(&s, "%s %s", ka_avro_type_name(t->type),
                             t->fullname) < 0)
                        return NULL;
                return s;
        }
        return strdup(ka_avro_type_name(t->type));
}

/* A number, or an array of numbers (*array set). */
static bool num_or_array(const ka_avro_node_t *t, ka_num_type_t *num,
                         bool *array)
{
        *array = t->type == KA_AVRO_ARRAY;
        return *array ? num_type(t->items, num) : num_type(t, num);
}

/* Numeric or not, and how to read past the field when it is not read.
 * KA_ERR_INVALID when the type cannot be compiled into a skip program. */
static ka_err_t classify(ka_schema_field_t *f, const ka_avro_node_t *type)
{
        const ka_avro_node_t *t = type;

        if (num_or_array(t, &f->num, &f->array)) {
                f->numeric = true;
        } else if (type->type == KA_AVRO_UNION && type->nbranches == 2) {
                for (int32_t b = 0; b < 2; b++) {
                        if (type->branches[1 - b]->type == KA_AVRO_NULL &&
                            num_or_array(type->branches[b], &f->num,
                                         &f->array)) {
                                f->numeric = f->nullable = true;
                                f->value_branch = b;
                                t = type->branches[b];
                        }
                }
                if (!f->numeric)
                        f->array = false;
        }
        if (!(f->type_desc = describe(type)))
                return KA_ERR_NOMEM;
        if (f->numeric && !f->array && t->logical_type &&
            !(f->logical_type = strdup(t->logical_type)))
                return KA_ERR_NOMEM;

        if (type->type <= KA_AVRO_STRING) {
                f->skip_prim = ka_avro_type_name(type->type);
                return KA_OK;
        }
        return ka_avro_skip_compile(type, &f->skip_prog, &f->skip_prog_len);
}

ka_schema_t *ka_schema_parse(const char *json, char *errstr, size_t errstr_size)
{
        ka_avro_schema_t *avro =
                ka_avro_schema_parse(json, errstr, errstr_size);
        const ka_avro_node_t *root;
        ka_schema_t *schema = NULL;
        ka_strmap_t idents = {0}; /* C identifier -> its field */
        size_t total = 0;         /* skip program entries */
        ka_schema_field_t *same;
        ka_err_t err;

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
                err = ka_strmap_put(&idents, f->ident, f, (void **)&same);
                if (err == KA_ERR_NOMEM)
                        goto nomem;
                if (err) {
                        snprintf(errstr, errstr_size,
                                 "fields '%s' and '%s' map to one C "
                                 "identifier '%s'",
                                 same->name, name, f->ident);
                        goto fail;
                }
                err = classify(f, root->fields[i].type);
                /* Every program goes into the agent's source. */
                if (!err && (total += f->skip_prog_len) > KA_SKIP_MAX_TOTAL)
                        err = KA_ERR_INVALID;
                if (err == KA_ERR_NOMEM)
                        goto nomem;
                if (err) {
                        snprintf(errstr, errstr_size,
                                 "field '%s': types nested deeper than %d or "
                                 "too large to skip",
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
        ka_strmap_release(&idents);
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
