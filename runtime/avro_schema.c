/*
 * Avro schemas as a whole: a resolver of our own builds the tree that
 * canonical form and compatibility need (avro-c keeps neither defaults nor
 * aliases), then avro-c validates the text as well.
 */
#include "avro_schema.h"
#include "hash.h"

#include <avro.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ka_avro_schema_s {
        json_t *json; /* the parsed text: defaults point into it */
        ka_avro_node_t *root;
        void **allocs; /* every block of the tree, freed together */
        size_t nallocs, allocs_cap;
        ka_strmap_t named; /* fullname -> definition */
};

/*
 * The parser's state for one schema text. Every lookup goes through a
 * hash map: schemas come from registries, and one of 100k fields or
 * symbols must not take quadratic time.
 */
typedef struct parser_s {
        ka_avro_schema_t *schema;
        /* enum fullname -> a malloc'd ka_strmap_t of its symbols (each
         * symbol its own value), for defaults */
        ka_strmap_t enums;
        /* (type, default value) -> 1 valid, 2 not: a default is checked
         * against each branch of a union, and through a union of types
         * that hold that union again that takes polynomial time of any
         * degree without a memo (5 KB of schema, hours). */
        ka_ptrmap_t defaults;
        char *errstr;
        size_t errstr_size;
        bool failed;
} parser_t;

static const struct {
        const char *name;
        ka_avro_type_t type;
} primitives[] = {
        {"null", KA_AVRO_NULL},   {"boolean", KA_AVRO_BOOLEAN},
        {"int", KA_AVRO_INT},     {"long", KA_AVRO_LONG},
        {"float", KA_AVRO_FLOAT}, {"double", KA_AVRO_DOUBLE},
        {"bytes", KA_AVRO_BYTES}, {"string", KA_AVRO_STRING},
};

static const char *const type_names[] = {
        [KA_AVRO_NULL] = "null",     [KA_AVRO_BOOLEAN] = "boolean",
        [KA_AVRO_INT] = "int",       [KA_AVRO_LONG] = "long",
        [KA_AVRO_FLOAT] = "float",   [KA_AVRO_DOUBLE] = "double",
        [KA_AVRO_BYTES] = "bytes",   [KA_AVRO_STRING] = "string",
        [KA_AVRO_RECORD] = "record", [KA_AVRO_ENUM] = "enum",
        [KA_AVRO_ARRAY] = "array",   [KA_AVRO_MAP] = "map",
        [KA_AVRO_UNION] = "union",   [KA_AVRO_FIXED] = "fixed",
};

const char *ka_avro_type_name(ka_avro_type_t type)
{
        if ((size_t)type >= KA_ARRAY_SIZE(type_names))
                return "?";
        return type_names[type];
}

__attribute__((format(printf, 2, 3))) static void perr(parser_t *p,
                                                       const char *fmt, ...)
{
        va_list ap;

        /* The first error is the cause; later ones are consequences. */
        if (p->failed)
                return;
        p->failed = true;
        if (!p->errstr || !p->errstr_size)
                return;
        va_start(ap, fmt);
        vsnprintf(p->errstr, p->errstr_size, fmt, ap);
        va_end(ap);
}

static void *salloc(parser_t *p, size_t size)
{
        ka_avro_schema_t *s = p->schema;
        void *mem;

        if (s->nallocs == s->allocs_cap) {
                size_t cap = s->allocs_cap ? s->allocs_cap * 2 : 32;
                void **allocs = realloc(s->allocs, cap * sizeof(*allocs));

                if (!allocs) {
                        perr(p, "out of memory");
                        return NULL;
                }
                s->allocs = allocs;
                s->allocs_cap = cap;
        }
        mem = calloc(1, size ? size : 1);
        if (!mem) {
                perr(p, "out of memory");
                return NULL;
        }
        s->allocs[s->nallocs++] = mem;
        return mem;
}

static char *sstrdup(parser_t *p, const char *str)
{
        size_t len = strlen(str);
        char *copy = salloc(p, len + 1);

        if (copy)
                memcpy(copy, str, len + 1);
        return copy;
}

/* ns "." name, or name alone in the null namespace. */
static char *sjoin(parser_t *p, const char *ns, const char *name)
{
        size_t nslen = ns ? strlen(ns) : 0, len = strlen(name);
        char *full;

        if (!nslen)
                return sstrdup(p, name);
        full = salloc(p, nslen + 1 + len + 1);
        if (!full)
                return NULL;
        memcpy(full, ns, nslen);
        full[nslen] = '.';
        memcpy(full + nslen + 1, name, len + 1);
        return full;
}

static bool primitive_type(const char *name, ka_avro_type_t *type)
{
        for (size_t i = 0; i < KA_ARRAY_SIZE(primitives); i++) {
                if (!strcmp(primitives[i].name, name)) {
                        *type = primitives[i].type;
                        return true;
                }
        }
        return false;
}

/* [A-Za-z_][A-Za-z0-9_]* */
static bool simple_name_ok(const char *name, size_t len)
{
        if (!len || !((name[0] >= 'A' && name[0] <= 'Z') ||
                      (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
                return false;
        for (size_t i = 1; i < len; i++) {
                char c = name[i];

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '_'))
                        return false;
        }
        return true;
}

/* Dotted parts, each a simple name. */
static bool fullname_ok(const char *name)
{
        const char *part = name, *dot;

        for (;;) {
                dot = strchr(part, '.');
                if (!simple_name_ok(part,
                                    dot ? (size_t)(dot - part) : strlen(part)))
                        return false;
                if (!dot)
                        return true;
                part = dot + 1;
        }
}

static ka_avro_node_t *find_named(const ka_avro_schema_t *s,
                                  const char *fullname)
{
        return ka_strmap_get(&s->named, fullname);
}

static bool add_named(parser_t *p, ka_avro_node_t *node)
{
        switch (ka_strmap_put(&p->schema->named, node->fullname, node, NULL)) {
        case KA_OK:
                return true;
        case KA_ERR_CONFLICT:
                perr(p, "type '%s' is defined twice", node->fullname);
                return false;
        default:
                perr(p, "out of memory");
                return false;
        }
}

static ka_avro_node_t *parse(parser_t *p, json_t *j, const char *ns);

/*
 * A type named by a string: a primitive or a defined named type. obj is
 * the object {"type": name, ...} when the name came in one.
 */
static ka_avro_node_t *parse_name(parser_t *p, const char *name, const char *ns,
                                  const json_t *obj)
{
        json_t *logical = json_object_get(obj, "logicalType");
        ka_avro_type_t type;
        ka_avro_node_t *node;
        char *full;

        if (primitive_type(name, &type)) {
                node = salloc(p, sizeof(*node));
                if (!node)
                        return NULL;
                node->type = type;
                node->json = obj;
                if (json_is_string(logical))
                        node->logical_type =
                                sstrdup(p, json_string_value(logical));
                return node;
        }
        /* A short name is looked up in the enclosing namespace first,
         * then in the null namespace. */
        if (!strchr(name, '.') && ns && *ns) {
                full = sjoin(p, ns, name);
                if (!full)
                        return NULL;
                node = find_named(p->schema, full);
                if (node)
                        return node;
        }
        node = find_named(p->schema, name);
        if (!node)
                perr(p, "unknown type '%s'", name);
        return node;
}

/* A string array attribute (aliases, symbols) copied into the arena. */
static bool parse_strings(parser_t *p, json_t *arr, const char *what,
                          const char *owner, const char ***out, size_t *n)
{
        const char **strs;
        size_t i;

        *out = NULL;
        *n = 0;
        if (!arr)
                return true;
        if (!json_is_array(arr)) {
                perr(p, "'%s': '%s' must be an array of strings", owner, what);
                return false;
        }
        strs = salloc(p, json_array_size(arr) * sizeof(*strs));
        if (!strs)
                return false;
        for (i = 0; i < json_array_size(arr); i++) {
                json_t *v = json_array_get(arr, i);

                if (!json_is_string(v)) {
                        perr(p, "'%s': '%s' must be an array of strings", owner,
                             what);
                        return false;
                }
                strs[i] = sstrdup(p, json_string_value(v));
                if (!strs[i])
                        return false;
        }
        *out = strs;
        *n = i;
        return true;
}

/* Aliases of a named type become fullnames in the type's namespace. */
static bool parse_aliases(parser_t *p, ka_avro_node_t *node, json_t *obj,
                          const char *space)
{
        const char **aliases;
        size_t n;

        if (!parse_strings(p, json_object_get(obj, "aliases"), "aliases",
                           node->fullname, &aliases, &n))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!fullname_ok(aliases[i])) {
                        perr(p, "'%s': invalid alias '%s'", node->fullname,
                             aliases[i]);
                        return false;
                }
                if (!strchr(aliases[i], '.')) {
                        aliases[i] = sjoin(p, space, aliases[i]);
                        if (!aliases[i])
                                return false;
                }
        }
        node->aliases = aliases;
        node->naliases = n;
        return true;
}

static bool default_ok(parser_t *p, const ka_avro_node_t *node,
                       const json_t *def);

static bool enum_has(const parser_t *p, const ka_avro_node_t *node,
                     const char *symbol)
{
        const ka_strmap_t *symbols = ka_strmap_get(&p->enums, node->fullname);

        return symbols && ka_strmap_get(symbols, symbol);
}

static bool record_default_ok(parser_t *p, const ka_avro_node_t *node,
                              const json_t *def)
{
        if (!json_is_object(def))
                return false;
        for (size_t i = 0; i < node->nfields; i++) {
                const ka_avro_field_t *f = &node->fields[i];
                const json_t *v = json_object_get(def, f->name);

                if (v ? !default_ok(p, f->type, v) : !f->def)
                        return false;
        }
        return true;
}

/* Whether def is a valid value of node's type in JSON encoding. */
static bool default_check(parser_t *p, const ka_avro_node_t *node,
                          const json_t *def)
{
        size_t i;
        const char *key;
        json_t *v;

        switch (node->type) {
        case KA_AVRO_NULL:
                return json_is_null(def);
        case KA_AVRO_BOOLEAN:
                return json_is_boolean(def);
        case KA_AVRO_INT:
                return json_is_integer(def) &&
                       json_integer_value(def) >= INT32_MIN &&
                       json_integer_value(def) <= INT32_MAX;
        case KA_AVRO_LONG:
                return json_is_integer(def);
        case KA_AVRO_FLOAT:
        case KA_AVRO_DOUBLE:
                /* Java's Avro also takes "NaN" and "Infinity" strings. */
                return json_is_number(def) ||
                       (json_is_string(def) &&
                        (!strcmp(json_string_value(def), "NaN") ||
                         !strcmp(json_string_value(def), "Infinity") ||
                         !strcmp(json_string_value(def), "-Infinity")));
        case KA_AVRO_BYTES:
        case KA_AVRO_STRING:
                return json_is_string(def);
        case KA_AVRO_FIXED:
                /* Bytes as code points 0-255, one character each; the
                 * length check counts UTF-8 bytes, so be lenient. */
                return json_is_string(def);
        case KA_AVRO_ENUM:
                return json_is_string(def) &&
                       enum_has(p, node, json_string_value(def));
        case KA_AVRO_ARRAY:
                if (!json_is_array(def))
                        return false;
                json_array_foreach(def, i, v)
                {
                        if (!default_ok(p, node->items, v))
                                return false;
                }
                return true;
        case KA_AVRO_MAP:
                if (!json_is_object(def))
                        return false;
                json_object_foreach((json_t *)def, key, v)
                {
                        if (!default_ok(p, node->items, v))
                                return false;
                }
                return true;
        case KA_AVRO_RECORD:
                return record_default_ok(p, node, def);
        case KA_AVRO_UNION:
                /* The specification wants the first branch; Java's Avro
                 * and Confluent accept any, and so do we. */
                for (i = 0; i < node->nbranches; i++)
                        if (default_ok(p, node->branches[i], def))
                                return true;
                return false;
        }
        return false;
}

static bool default_ok(parser_t *p, const ka_avro_node_t *node,
                       const json_t *def)
{
        size_t known;
        bool ok;

        if (ka_ptrmap_get(&p->defaults, node, def, &known))
                return known == 1;
        ok = default_check(p, node, def);
        if (ka_ptrmap_put(&p->defaults, node, def, ok ? 1 : 2))
                perr(p, "out of memory");
        return ok;
}

static bool parse_fields(parser_t *p, ka_avro_node_t *node, json_t *obj,
                         const char *space)
{
        json_t *fields = json_object_get(obj, "fields");
        ka_strmap_t names = {0};
        ka_avro_field_t *out;
        ka_err_t err;
        size_t i, n;
        bool ok = false;

        if (!json_is_array(fields)) {
                perr(p, "record '%s': 'fields' must be an array",
                     node->fullname);
                return false;
        }
        n = json_array_size(fields);
        out = salloc(p, n * sizeof(*out));
        if (!out)
                return false;
        node->fields = out;
        for (i = 0; i < n; i++) {
                json_t *fj = json_array_get(fields, i);
                json_t *name = json_object_get(fj, "name");
                ka_avro_field_t *f = &out[i];
                const char **aliases;

                if (!json_is_object(fj) || !json_is_string(name)) {
                        perr(p, "record '%s': field %zu has no name",
                             node->fullname, i + 1);
                        goto out;
                }
                f->name = sstrdup(p, json_string_value(name));
                if (!f->name)
                        goto out;
                if (!simple_name_ok(f->name, strlen(f->name))) {
                        perr(p, "record '%s': invalid field name '%s'",
                             node->fullname, f->name);
                        goto out;
                }
                err = ka_strmap_put(&names, f->name, f, NULL);
                if (err == KA_ERR_CONFLICT) {
                        perr(p, "record '%s': field '%s' appears twice",
                             node->fullname, f->name);
                        goto out;
                }
                if (err) {
                        perr(p, "out of memory");
                        goto out;
                }
                if (!json_object_get(fj, "type")) {
                        perr(p, "record '%s': field '%s' has no type",
                             node->fullname, f->name);
                        goto out;
                }
                f->type = parse(p, json_object_get(fj, "type"), space);
                if (!f->type)
                        goto out;
                if (!parse_strings(p, json_object_get(fj, "aliases"), "aliases",
                                   f->name, &aliases, &f->naliases))
                        goto out;
                f->aliases = aliases;
                f->json = fj;
                f->def = json_object_get(fj, "default");
                /* Counted before the check: a record default may refer to
                 * this very record's fields. */
                node->nfields = i + 1;
                if (f->def && !default_ok(p, f->type, f->def)) {
                        perr(p,
                             "record '%s': the default of field '%s' is not "
                             "a valid %s",
                             node->fullname, f->name,
                             ka_avro_type_name(f->type->type));
                        goto out;
                }
        }
        node->nfields = n;
        ok = true;
out:
        ka_strmap_release(&names);
        return ok;
}

static bool parse_symbols(parser_t *p, ka_avro_node_t *node, json_t *obj)
{
        json_t *def = json_object_get(obj, "default");
        const char **symbols;
        ka_strmap_t *set;
        ka_err_t err;
        size_t n, i;

        if (!json_is_array(json_object_get(obj, "symbols"))) {
                perr(p, "enum '%s': 'symbols' must be an array",
                     node->fullname);
                return false;
        }
        if (!parse_strings(p, json_object_get(obj, "symbols"), "symbols",
                           node->fullname, &symbols, &n))
                return false;
        /* The parser keeps the set of symbols for defaults: this one's
         * and those of fields of this type. */
        set = calloc(1, sizeof(*set));
        if (!set || ka_strmap_put(&p->enums, node->fullname, set, NULL)) {
                free(set);
                perr(p, "out of memory");
                return false;
        }
        for (i = 0; i < n; i++) {
                if (!simple_name_ok(symbols[i], strlen(symbols[i]))) {
                        perr(p, "enum '%s': invalid symbol '%s'",
                             node->fullname, symbols[i]);
                        return false;
                }
                err = ka_strmap_put(set, symbols[i], (void *)symbols[i], NULL);
                if (err == KA_ERR_CONFLICT) {
                        perr(p, "enum '%s': symbol '%s' appears twice",
                             node->fullname, symbols[i]);
                        return false;
                }
                if (err) {
                        perr(p, "out of memory");
                        return false;
                }
        }
        node->symbols = symbols;
        node->nsymbols = n;
        if (def) {
                if (!json_is_string(def) || !default_ok(p, node, def)) {
                        perr(p, "enum '%s': the default is not a symbol",
                             node->fullname);
                        return false;
                }
                node->enum_default = sstrdup(p, json_string_value(def));
                if (!node->enum_default)
                        return false;
        }
        return true;
}

static bool parse_size(parser_t *p, ka_avro_node_t *node, json_t *obj)
{
        json_t *size = json_object_get(obj, "size");
        const char *str, *c;

        if (json_is_integer(size) && json_integer_value(size) >= 0 &&
            json_integer_value(size) <= INT32_MAX) {
                node->size = (size_t)json_integer_value(size);
                return true;
        }
        /* Canonical form drops quotes around sizes, so some writers put
         * them there. */
        if (json_is_string(size)) {
                str = json_string_value(size);
                for (c = str; *c >= '0' && *c <= '9'; c++)
                        ;
                if (c != str && !*c && c - str < 10) {
                        node->size = (size_t)strtoul(str, NULL, 10);
                        return true;
                }
        }
        perr(p, "fixed '%s': 'size' must be a non-negative integer",
             node->fullname);
        return false;
}

static ka_avro_node_t *parse_named(parser_t *p, json_t *obj,
                                   ka_avro_type_t type, const char *ns)
{
        json_t *name = json_object_get(obj, "name");
        json_t *nsj = json_object_get(obj, "namespace");
        ka_avro_node_t *node;
        const char *str, *dot;
        char *space;
        ka_avro_type_t prim;

        if (!json_is_string(name)) {
                perr(p, "a %s needs a 'name'", ka_avro_type_name(type));
                return NULL;
        }
        if (nsj && !json_is_null(nsj) && !json_is_string(nsj)) {
                perr(p, "'%s': 'namespace' must be a string",
                     json_string_value(name));
                return NULL;
        }
        node = salloc(p, sizeof(*node));
        if (!node)
                return NULL;
        node->type = type;
        node->json = obj;
        str = json_string_value(name);
        if (strchr(str, '.'))
                node->fullname = sstrdup(p, str);
        else
                node->fullname = sjoin(
                        p, json_is_string(nsj) ? json_string_value(nsj) : ns,
                        str);
        if (!node->fullname)
                return NULL;
        if (!fullname_ok(node->fullname)) {
                perr(p, "invalid name '%s'", node->fullname);
                return NULL;
        }
        dot = strrchr(node->fullname, '.');
        node->name = dot ? dot + 1 : node->fullname;
        if (primitive_type(node->name, &prim)) {
                perr(p, "'%s' cannot be redefined", node->name);
                return NULL;
        }
        space = sstrdup(p, node->fullname);
        if (!space)
                return NULL;
        space[dot ? (size_t)(dot - node->fullname) : 0] = '\0';
        if (json_is_string(json_object_get(obj, "logicalType")))
                node->logical_type = sstrdup(
                        p,
                        json_string_value(json_object_get(obj, "logicalType")));
        /* Defined before its fields are parsed so that they may refer to
         * it (recursive types). */
        if (!add_named(p, node) || !parse_aliases(p, node, obj, space))
                return NULL;
        switch (type) {
        case KA_AVRO_RECORD:
                return parse_fields(p, node, obj, space) ? node : NULL;
        case KA_AVRO_ENUM:
                return parse_symbols(p, node, obj) ? node : NULL;
        default:
                return parse_size(p, node, obj) ? node : NULL;
        }
}

static ka_avro_node_t *parse_union(parser_t *p, json_t *arr, const char *ns)
{
        size_t n = json_array_size(arr);
        ka_avro_node_t *node = salloc(p, sizeof(*node));
        const ka_avro_node_t **branches = salloc(p, n * sizeof(*branches));
        unsigned unnamed = 0; /* bit t: a branch of unnamed type t */
        ka_strmap_t named = {0};
        ka_err_t err;

        if (!node || !branches)
                return NULL;
        node->type = KA_AVRO_UNION;
        for (size_t i = 0; i < n; i++) {
                const ka_avro_node_t *b = parse(p, json_array_get(arr, i), ns);

                if (!b)
                        goto fail;
                if (b->type == KA_AVRO_UNION) {
                        perr(p, "a union may not contain a union");
                        goto fail;
                }
                if (b->fullname) {
                        err = ka_strmap_put(&named, b->fullname, (void *)b,
                                            NULL);
                } else {
                        err = unnamed & 1u << b->type ? KA_ERR_CONFLICT : KA_OK;
                        unnamed |= 1u << b->type;
                }
                if (err == KA_ERR_CONFLICT) {
                        perr(p, "union has '%s' twice",
                             b->fullname ? b->fullname
                                         : ka_avro_type_name(b->type));
                        goto fail;
                }
                if (err) {
                        perr(p, "out of memory");
                        goto fail;
                }
                branches[i] = b;
        }
        ka_strmap_release(&named);
        node->branches = branches;
        node->nbranches = n;
        return node;
fail:
        ka_strmap_release(&named);
        return NULL;
}

static ka_avro_node_t *parse_object(parser_t *p, json_t *obj, const char *ns)
{
        json_t *type = json_object_get(obj, "type");
        json_t *logical = json_object_get(obj, "logicalType");
        const char *str;
        ka_avro_node_t *node;
        const char *key;

        if (!json_is_string(type)) {
                perr(p, "'type' must be a string");
                return NULL;
        }
        str = json_string_value(type);
        if (!strcmp(str, "record") || !strcmp(str, "error"))
                return parse_named(p, obj, KA_AVRO_RECORD, ns);
        if (!strcmp(str, "enum"))
                return parse_named(p, obj, KA_AVRO_ENUM, ns);
        if (!strcmp(str, "fixed"))
                return parse_named(p, obj, KA_AVRO_FIXED, ns);
        if (!strcmp(str, "array") || !strcmp(str, "map")) {
                key = str[0] == 'a' ? "items" : "values";
                if (!json_object_get(obj, key)) {
                        perr(p, "%s without '%s'", str, key);
                        return NULL;
                }
                node = salloc(p, sizeof(*node));
                if (!node)
                        return NULL;
                node->type = str[0] == 'a' ? KA_AVRO_ARRAY : KA_AVRO_MAP;
                node->json = obj;
                node->items = parse(p, json_object_get(obj, key), ns);
                if (json_is_string(logical))
                        node->logical_type =
                                sstrdup(p, json_string_value(logical));
                return node->items ? node : NULL;
        }
        /* {"type": "int"} or {"type": "some.Named"} */
        return parse_name(p, str, ns, obj);
}

static ka_avro_node_t *parse(parser_t *p, json_t *j, const char *ns)
{
        if (p->failed)
                return NULL;
        if (json_is_string(j))
                return parse_name(p, json_string_value(j), ns, NULL);
        if (json_is_array(j))
                return parse_union(p, j, ns);
        if (json_is_object(j))
                return parse_object(p, j, ns);
        perr(p, "a schema must be a string, an object or an array");
        return NULL;
}

void ka_avro_schema_destroy(ka_avro_schema_t *schema)
{
        if (!schema)
                return;
        for (size_t i = 0; i < schema->nallocs; i++)
                free(schema->allocs[i]);
        free(schema->allocs);
        ka_strmap_release(&schema->named);
        json_decref(schema->json);
        free(schema);
}

/* avro-c's verdict, with its reason. */
static bool avro_c_accepts(const char *json, char *errstr, size_t errstr_size)
{
        avro_schema_t avs = NULL;
        const char *why;

        if (avro_schema_from_json_length(json, strlen(json), &avs)) {
                why = avro_strerror();
                snprintf(errstr, errstr_size, "%s",
                         why && *why ? why : "invalid Avro schema");
                return false;
        }
        avro_schema_decref(avs);
        return true;
}

ka_avro_schema_t *ka_avro_schema_parse(const char *json, char *errstr,
                                       size_t errstr_size)
{
        parser_t p = {.errstr = errstr, .errstr_size = errstr_size};
        json_error_t jerr;

        if (!json) {
                snprintf(errstr, errstr_size, "no schema");
                return NULL;
        }
        p.schema = calloc(1, sizeof(*p.schema));
        if (!p.schema) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        p.schema->json = json_loads(json, JSON_DECODE_ANY, &jerr);
        if (!p.schema->json) {
                snprintf(errstr, errstr_size, "invalid JSON: %s", jerr.text);
                ka_avro_schema_destroy(p.schema);
                return NULL;
        }
        p.schema->root = parse(&p, p.schema->json, NULL);
        for (size_t i = 0; p.enums.slots && i <= p.enums.mask; i++) {
                if (!p.enums.slots[i].key)
                        continue;
                ka_strmap_release(p.enums.slots[i].value);
                free(p.enums.slots[i].value);
        }
        ka_strmap_release(&p.enums);
        ka_ptrmap_release(&p.defaults);
        if (!p.schema->root) {
                perr(&p, "invalid schema");
                ka_avro_schema_destroy(p.schema);
                return NULL;
        }
        /* avro-c last: it leaks when a schema redefines a named type,
         * which our own resolution has refused by now. */
        if (!avro_c_accepts(json, errstr, errstr_size)) {
                ka_avro_schema_destroy(p.schema);
                return NULL;
        }
        return p.schema;
}

const ka_avro_node_t *ka_avro_schema_root(const ka_avro_schema_t *schema)
{
        return schema->root;
}

/* A growable string for the canonical form. */
typedef struct buf_s {
        char *data;
        size_t len, cap;
        bool oom;
        bool full;        /* the normalized form: extra attributes too */
        ka_strmap_t done; /* fullnames of named types written out */
} buf_t;

static void put(buf_t *b, const char *str, size_t len)
{
        if (b->oom)
                return;
        if (b->len + len + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 64;
                char *data;

                while (cap < b->len + len + 1)
                        cap *= 2;
                data = realloc(b->data, cap);
                if (!data) {
                        b->oom = true;
                        return;
                }
                b->data = data;
                b->cap = cap;
        }
        memcpy(b->data + b->len, str, len);
        b->len += len;
        b->data[b->len] = '\0';
}

static void puts_(buf_t *b, const char *str)
{
        put(b, str, strlen(str));
}

/* A JSON string literal: UTF-8 as is, only what JSON requires escaped. */
static void put_string(buf_t *b, const char *str)
{
        char esc[8];

        put(b, "\"", 1);
        for (const char *c = str; *c; c++) {
                unsigned char u = (unsigned char)*c;

                if (u == '"' || u == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)u;
                        put(b, esc, 2);
                } else if (u < 0x20) {
                        snprintf(esc, sizeof(esc), "\\u%04x", u);
                        put(b, esc, 6);
                } else {
                        put(b, c, 1);
                }
        }
        put(b, "\"", 1);
}

static bool first_time(buf_t *b, const ka_avro_node_t *node)
{
        switch (ka_strmap_put(&b->done, node->fullname, (void *)node, NULL)) {
        case KA_OK:
                return true;
        case KA_ERR_CONFLICT:
                return false;
        default:
                b->oom = true;
                return false;
        }
}

/* Attributes the canonical form has already, or that never count. */
static const char *const type_keys[] = {
        "name",   "type", "fields",    "symbols", "items",
        "values", "size", "namespace", "doc",     NULL,
};
static const char *const field_keys[] = {"name", "type", "doc", NULL};

static bool is_key(const char *key, const char *const *keys)
{
        for (; *keys; keys++)
                if (!strcmp(key, *keys))
                        return true;
        return false;
}

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The extra attributes of obj, sorted: `,"key":value` each. Returns how
 * many there were (with b NULL, only counts). */
static size_t put_extras(buf_t *b, const json_t *obj, const char *const *std)
{
        const char **keys;
        const char *key;
        json_t *value;
        size_t n = 0;
        char *dump;

        if (!json_is_object(obj))
                return 0;
        keys = calloc(json_object_size(obj) + 1, sizeof(*keys));
        if (!keys) {
                if (b)
                        b->oom = true;
                return 0;
        }
        json_object_foreach((json_t *)obj, key, value)
        {
                if (!is_key(key, std))
                        keys[n++] = key;
        }
        qsort(keys, n, sizeof(*keys), cmp_keys);
        for (size_t i = 0; b && i < n; i++) {
                dump = json_dumps(json_object_get(obj, keys[i]),
                                  JSON_COMPACT | JSON_SORT_KEYS |
                                          JSON_ENCODE_ANY);
                if (!dump) {
                        b->oom = true;
                        break;
                }
                puts_(b, ",");
                put_string(b, keys[i]);
                puts_(b, ":");
                puts_(b, dump);
                free(dump);
        }
        free(keys);
        return n;
}

static void extras(buf_t *b, const json_t *obj, const char *const *std)
{
        if (b->full)
                put_extras(b, obj, std);
}

static void canon(buf_t *b, const ka_avro_node_t *node)
{
        char num[32];
        size_t i;

        if (b->oom)
                return;
        if (node->fullname && !first_time(b, node)) {
                put_string(b, node->fullname);
                return;
        }
        switch (node->type) {
        case KA_AVRO_RECORD:
                puts_(b, "{\"name\":");
                put_string(b, node->fullname);
                puts_(b, ",\"type\":\"record\",\"fields\":[");
                for (i = 0; i < node->nfields; i++) {
                        puts_(b, i ? ",{\"name\":" : "{\"name\":");
                        put_string(b, node->fields[i].name);
                        puts_(b, ",\"type\":");
                        canon(b, node->fields[i].type);
                        extras(b, node->fields[i].json, field_keys);
                        puts_(b, "}");
                }
                puts_(b, "]");
                extras(b, node->json, type_keys);
                puts_(b, "}");
                break;
        case KA_AVRO_ENUM:
                puts_(b, "{\"name\":");
                put_string(b, node->fullname);
                puts_(b, ",\"type\":\"enum\",\"symbols\":[");
                for (i = 0; i < node->nsymbols; i++) {
                        if (i)
                                puts_(b, ",");
                        put_string(b, node->symbols[i]);
                }
                puts_(b, "]");
                extras(b, node->json, type_keys);
                puts_(b, "}");
                break;
        case KA_AVRO_FIXED:
                puts_(b, "{\"name\":");
                put_string(b, node->fullname);
                snprintf(num, sizeof(num), ",\"type\":\"fixed\",\"size\":%zu",
                         node->size);
                puts_(b, num);
                extras(b, node->json, type_keys);
                puts_(b, "}");
                break;
        case KA_AVRO_ARRAY:
                puts_(b, "{\"type\":\"array\",\"items\":");
                canon(b, node->items);
                extras(b, node->json, type_keys);
                puts_(b, "}");
                break;
        case KA_AVRO_MAP:
                puts_(b, "{\"type\":\"map\",\"values\":");
                canon(b, node->items);
                extras(b, node->json, type_keys);
                puts_(b, "}");
                break;
        case KA_AVRO_UNION:
                puts_(b, "[");
                for (i = 0; i < node->nbranches; i++) {
                        if (i)
                                puts_(b, ",");
                        canon(b, node->branches[i]);
                }
                puts_(b, "]");
                break;
        default:
                /* A primitive with a logical type or other attributes
                 * keeps its object form in the normalized form. */
                if (b->full && put_extras(NULL, node->json, type_keys)) {
                        puts_(b, "{\"type\":");
                        put_string(b, ka_avro_type_name(node->type));
                        put_extras(b, node->json, type_keys);
                        puts_(b, "}");
                } else {
                        put_string(b, ka_avro_type_name(node->type));
                }
                break;
        }
}

static char *form_of(const ka_avro_schema_t *schema, bool full)
{
        buf_t b = {.full = full};

        canon(&b, schema->root);
        ka_strmap_release(&b.done);
        if (b.oom) {
                free(b.data);
                return NULL;
        }
        return b.data;
}

char *ka_avro_schema_canonical_of(const ka_avro_schema_t *schema)
{
        return form_of(schema, false);
}

char *ka_avro_schema_normalized_of(const ka_avro_schema_t *schema)
{
        return form_of(schema, true);
}

char *ka_avro_schema_canonical(const char *json, char *errstr,
                               size_t errstr_size)
{
        ka_avro_schema_t *schema;
        char *canonical;

        schema = ka_avro_schema_parse(json, errstr, errstr_size);
        if (!schema)
                return NULL;
        canonical = ka_avro_schema_canonical_of(schema);
        if (!canonical)
                snprintf(errstr, errstr_size, "out of memory");
        ka_avro_schema_destroy(schema);
        return canonical;
}

/* CRC-64-AVRO: the Rabin fingerprint of the Avro specification. */
#define FP_EMPTY 0xc15d213aa4d7a795ULL

static uint64_t fp_table[256];
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;

static void fp_init(void)
{
        for (unsigned i = 0; i < 256; i++) {
                uint64_t fp = i;

                for (int j = 0; j < 8; j++)
                        fp = (fp >> 1) ^ (FP_EMPTY & (0 - (fp & 1)));
                fp_table[i] = fp;
        }
}

uint64_t ka_avro_fingerprint64(const void *buf, size_t len)
{
        const unsigned char *c = buf;
        uint64_t fp = FP_EMPTY;

        pthread_once(&fp_once, fp_init);
        for (size_t i = 0; i < len; i++)
                fp = (fp >> 8) ^ fp_table[(fp ^ c[i]) & 0xff];
        return fp;
}
