/*
 * Avro schema resolution as a yes/no question with a reason, and the
 * Schema Registry's compatibility levels on top of it.
 */
#include "schema_compat.h"
#include "hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct pair_s {
        const ka_avro_node_t *reader, *writer;
} pair_t;

typedef struct ctx_s {
        pair_t *active; /* pairs under check: recursion ends there */
        size_t nactive, active_cap;
        /*
         * Named pairs found compatible, in order, and a hash index of them:
         * a named type used twice in another, used twice in another, ...
         * would otherwise be checked 2^depth times. A union branch tried
         * in vain takes back what it added (it may have relied on pairs
         * under check that then failed).
         */
        pair_t *proven;
        size_t nproven, proven_cap;
        ka_ptrmap_t index; /* pair -> its place in proven, maybe stale */
        char path[512];
        size_t pathlen;
        int quiet; /* > 0 while trying union branches */
        char *why;
        size_t why_size;
        bool reported;
} ctx_t;

__attribute__((format(printf, 2, 3))) static bool fail(ctx_t *ctx,
                                                       const char *fmt, ...)
{
        va_list ap;
        int n;

        if (ctx->quiet || ctx->reported || !ctx->why || !ctx->why_size)
                return false;
        ctx->reported = true;
        n = snprintf(ctx->why, ctx->why_size,
                     "%s: ", ctx->pathlen ? ctx->path : "/");
        if (n < 0 || (size_t)n >= ctx->why_size)
                return false;
        va_start(ap, fmt);
        vsnprintf(ctx->why + n, ctx->why_size - (size_t)n, fmt, ap);
        va_end(ap);
        return false;
}

/* Appends a path segment; returns the length to restore. */
__attribute__((format(printf, 2, 3))) static size_t push(ctx_t *ctx,
                                                         const char *fmt, ...)
{
        size_t old = ctx->pathlen;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(ctx->path + old, sizeof(ctx->path) - old, fmt, ap);
        va_end(ap);
        if (n > 0)
                ctx->pathlen = old + (size_t)n < sizeof(ctx->path)
                                       ? old + (size_t)n
                                       : sizeof(ctx->path) - 1;
        return old;
}

static void pop(ctx_t *ctx, size_t old)
{
        ctx->pathlen = old;
        ctx->path[old] = '\0';
}

/* "int", "record 'ns.R'", ... for messages. */
static const char *describe(const ka_avro_node_t *node, char *buf, size_t size)
{
        if (node->fullname)
                snprintf(buf, size, "%s '%s'", ka_avro_type_name(node->type),
                         node->fullname);
        else
                snprintf(buf, size, "%s", ka_avro_type_name(node->type));
        return buf;
}

static bool promotes(ka_avro_type_t writer, ka_avro_type_t reader)
{
        switch (writer) {
        case KA_AVRO_INT:
                return reader == KA_AVRO_LONG || reader == KA_AVRO_FLOAT ||
                       reader == KA_AVRO_DOUBLE;
        case KA_AVRO_LONG:
                return reader == KA_AVRO_FLOAT || reader == KA_AVRO_DOUBLE;
        case KA_AVRO_FLOAT:
                return reader == KA_AVRO_DOUBLE;
        case KA_AVRO_STRING:
                return reader == KA_AVRO_BYTES;
        case KA_AVRO_BYTES:
                return reader == KA_AVRO_STRING;
        default:
                return false;
        }
}

/* Same unqualified name, or a reader alias naming the writer. */
static bool names_match(const ka_avro_node_t *reader,
                        const ka_avro_node_t *writer)
{
        if (!strcmp(reader->name, writer->name))
                return true;
        for (size_t i = 0; i < reader->naliases; i++)
                if (!strcmp(reader->aliases[i], writer->fullname))
                        return true;
        return false;
}

static bool check(ctx_t *ctx, const ka_avro_node_t *reader,
                  const ka_avro_node_t *writer);

/* The writer's field that rf reads: by name, else by one of its aliases.
 * byname maps the writer's field names to its fields. */
static const ka_avro_field_t *writer_field(const ka_strmap_t *byname,
                                           const ka_avro_field_t *rf)
{
        const ka_avro_field_t *wf = ka_strmap_get(byname, rf->name);

        for (size_t a = 0; !wf && a < rf->naliases; a++)
                wf = ka_strmap_get(byname, rf->aliases[a]);
        return wf;
}

static bool check_record(ctx_t *ctx, const ka_avro_node_t *reader,
                         const ka_avro_node_t *writer)
{
        ka_strmap_t byname = {0};
        bool ok = true;

        /* A map, not a search per field: records of 100k fields come in
         * from registry clients. Field names are unique in a record. */
        for (size_t i = 0; i < writer->nfields; i++) {
                if (ka_strmap_put(&byname, writer->fields[i].name,
                                  (void *)&writer->fields[i],
                                  NULL) == KA_ERR_NOMEM) {
                        ka_strmap_release(&byname);
                        return fail(ctx, "out of memory");
                }
        }
        for (size_t i = 0; ok && i < reader->nfields; i++) {
                const ka_avro_field_t *rf = &reader->fields[i];
                const ka_avro_field_t *wf = writer_field(&byname, rf);
                size_t old = push(ctx, "/fields/%s", rf->name);

                if (wf)
                        ok = check(ctx, rf->type, wf->type);
                else
                        ok = rf->def ||
                             fail(ctx,
                                  "reader field '%s' of record '%s' has no "
                                  "default and the writer lacks it",
                                  rf->name, reader->fullname);
                pop(ctx, old);
        }
        ka_strmap_release(&byname);
        return ok;
}

static bool check_enum(ctx_t *ctx, const ka_avro_node_t *reader,
                       const ka_avro_node_t *writer)
{
        ka_strmap_t symbols = {0};
        bool ok = true;

        if (reader->enum_default)
                return true;
        for (size_t k = 0; k < reader->nsymbols; k++) {
                if (ka_strmap_put(&symbols, reader->symbols[k],
                                  (void *)reader->symbols[k],
                                  NULL) == KA_ERR_NOMEM) {
                        ka_strmap_release(&symbols);
                        return fail(ctx, "out of memory");
                }
        }
        for (size_t i = 0; ok && i < writer->nsymbols; i++)
                if (!ka_strmap_get(&symbols, writer->symbols[i]))
                        ok = fail(ctx,
                                  "writer symbol '%s' of enum '%s' is "
                                  "missing in the reader",
                                  writer->symbols[i], reader->fullname);
        ka_strmap_release(&symbols);
        return ok;
}

/* A name of a reader union's branch: its unqualified name or an alias. */
typedef struct branch_key_s {
        const char *key;
        size_t branch;
} branch_key_t;

static int key_cmp(const void *a, const void *b)
{
        const branch_key_t *x = a, *y = b;
        int c = strcmp(x->key, y->key);

        if (c)
                return c;
        return x->branch < y->branch ? -1 : x->branch > y->branch;
}

/*
 * Which branches of a reader union may read a writer type. Only a branch
 * of its unqualified name, or with an alias naming its fullname, can read
 * a named type; an unnamed type, only an unnamed branch, of which a union
 * has a handful (each unnamed type once). Built once for a union read
 * against a writer union, so that matching every writer branch does not
 * try every reader branch: unions of 20k records come from registry
 * clients too.
 */
typedef struct union_index_s {
        branch_key_t *names, *aliases; /* sorted */
        size_t nnames, naliases;
        size_t unnamed[KA_AVRO_FIXED + 1];
        size_t nunnamed;
} union_index_t;

static bool index_union(union_index_t *ix, const ka_avro_node_t *u)
{
        size_t nal = 0;

        memset(ix, 0, sizeof(*ix));
        for (size_t i = 0; i < u->nbranches; i++)
                nal += u->branches[i]->naliases;
        ix->names = malloc((u->nbranches + 1) * sizeof(*ix->names));
        ix->aliases = malloc((nal + 1) * sizeof(*ix->aliases));
        if (!ix->names || !ix->aliases)
                return false;
        for (size_t i = 0; i < u->nbranches; i++) {
                const ka_avro_node_t *b = u->branches[i];

                if (!b->fullname) {
                        if (ix->nunnamed < KA_ARRAY_SIZE(ix->unnamed))
                                ix->unnamed[ix->nunnamed++] = i;
                        continue;
                }
                ix->names[ix->nnames++] = (branch_key_t){b->name, i};
                for (size_t a = 0; a < b->naliases; a++)
                        ix->aliases[ix->naliases++] =
                                (branch_key_t){b->aliases[a], i};
        }
        qsort(ix->names, ix->nnames, sizeof(*ix->names), key_cmp);
        qsort(ix->aliases, ix->naliases, sizeof(*ix->aliases), key_cmp);
        return true;
}

static void index_release(union_index_t *ix)
{
        free(ix->names);
        free(ix->aliases);
}

/* The first of keys[0..n) whose key is key, or NULL. */
static const branch_key_t *first_key(const branch_key_t *keys, size_t n,
                                     const char *key)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(keys[mid].key, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n && !strcmp(keys[lo].key, key) ? &keys[lo] : NULL;
}

/* One reader branch tried (quietly) against writer; what it proved is
 * taken back when it fails. */
static bool try_branch(ctx_t *ctx, const ka_avro_node_t *branch,
                       const ka_avro_node_t *writer)
{
        size_t mark = ctx->nproven;

        if (check(ctx, branch, writer))
                return true;
        ctx->nproven = mark;
        return false;
}

/* Whether a candidate branch of reader (indexed by ix) reads writer,
 * which is not a union. */
static bool union_reads(ctx_t *ctx, const ka_avro_node_t *reader,
                        const union_index_t *ix, const ka_avro_node_t *writer)
{
        const branch_key_t *k, *end;

        if (!writer->fullname) {
                for (size_t i = 0; i < ix->nunnamed; i++)
                        if (try_branch(ctx, reader->branches[ix->unnamed[i]],
                                       writer))
                                return true;
                return false;
        }
        for (k = first_key(ix->names, ix->nnames, writer->name),
            end = ix->names + ix->nnames;
             k && k < end && !strcmp(k->key, writer->name); k++)
                if (try_branch(ctx, reader->branches[k->branch], writer))
                        return true;
        for (k = first_key(ix->aliases, ix->naliases, writer->fullname),
            end = ix->aliases + ix->naliases;
             k && k < end && !strcmp(k->key, writer->fullname); k++)
                if (try_branch(ctx, reader->branches[k->branch], writer))
                        return true;
        return false;
}

static bool check_union_writer(ctx_t *ctx, const ka_avro_node_t *reader,
                               const ka_avro_node_t *writer)
{
        union_index_t ix;
        char desc[300];
        bool ok = true;

        if (reader->type == KA_AVRO_UNION && !index_union(&ix, reader)) {
                index_release(&ix);
                return fail(ctx, "out of memory");
        }
        for (size_t i = 0; ok && i < writer->nbranches; i++) {
                const ka_avro_node_t *wb = writer->branches[i];
                size_t old = push(ctx, "/%zu", i);

                if (reader->type != KA_AVRO_UNION) {
                        ok = check(ctx, reader, wb);
                } else {
                        ctx->quiet++;
                        ok = union_reads(ctx, reader, &ix, wb);
                        ctx->quiet--;
                        if (!ok)
                                fail(ctx,
                                     "no branch of the reader's union reads "
                                     "writer type %s",
                                     describe(wb, desc, sizeof(desc)));
                }
                pop(ctx, old);
        }
        if (reader->type == KA_AVRO_UNION)
                index_release(&ix);
        return ok;
}

static bool check_union_reader(ctx_t *ctx, const ka_avro_node_t *reader,
                               const ka_avro_node_t *writer)
{
        char desc[300];

        ctx->quiet++;
        for (size_t i = 0; i < reader->nbranches; i++) {
                if (try_branch(ctx, reader->branches[i], writer)) {
                        ctx->quiet--;
                        return true;
                }
        }
        ctx->quiet--;
        return fail(ctx, "no branch of the reader's union reads writer type %s",
                    describe(writer, desc, sizeof(desc)));
}

static bool same_pair(pair_t a, pair_t b)
{
        return a.reader == b.reader && a.writer == b.writer;
}

static bool proven(const ctx_t *ctx, pair_t pair)
{
        size_t idx;

        return ka_ptrmap_get(&ctx->index, pair.reader, pair.writer, &idx) &&
               idx < ctx->nproven && same_pair(ctx->proven[idx], pair);
}

static bool memo_add(ctx_t *ctx, pair_t pair)
{
        if (ctx->nproven == ctx->proven_cap) {
                size_t cap = ctx->proven_cap ? ctx->proven_cap * 2 : 64;
                pair_t *p = realloc(ctx->proven, cap * sizeof(*p));

                if (!p)
                        return false;
                ctx->proven = p;
                ctx->proven_cap = cap;
        }
        ctx->proven[ctx->nproven] = pair;
        return !ka_ptrmap_put(&ctx->index, pair.reader, pair.writer,
                              ctx->nproven++);
}

static bool active(const ctx_t *ctx, const ka_avro_node_t *reader,
                   const ka_avro_node_t *writer)
{
        for (size_t i = 0; i < ctx->nactive; i++)
                if (ctx->active[i].reader == reader &&
                    ctx->active[i].writer == writer)
                        return true;
        return false;
}

static bool check_named_once(ctx_t *ctx, const ka_avro_node_t *reader,
                             const ka_avro_node_t *writer)
{
        bool ok;

        if (!names_match(reader, writer))
                return fail(ctx,
                            "reader %s '%s' and writer %s '%s' differ "
                            "in name",
                            ka_avro_type_name(reader->type), reader->fullname,
                            ka_avro_type_name(writer->type), writer->fullname);
        if (reader->type == KA_AVRO_FIXED) {
                if (reader->size != writer->size)
                        return fail(ctx,
                                    "fixed '%s' has size %zu in the reader "
                                    "and %zu in the writer",
                                    reader->fullname, reader->size,
                                    writer->size);
                return true;
        }
        if (reader->type == KA_AVRO_ENUM)
                return check_enum(ctx, reader, writer);

        /* A record pair already under check is assumed to resolve: the
         * recursion is then decided by the other fields. */
        if (active(ctx, reader, writer))
                return true;
        if (ctx->nactive == ctx->active_cap) {
                size_t cap = ctx->active_cap ? ctx->active_cap * 2 : 16;
                pair_t *pairs = realloc(ctx->active, cap * sizeof(*pairs));

                if (!pairs)
                        return fail(ctx, "out of memory");
                ctx->active = pairs;
                ctx->active_cap = cap;
        }
        ctx->active[ctx->nactive++] = (pair_t){reader, writer};
        ok = check_record(ctx, reader, writer);
        ctx->nactive--;
        return ok;
}

static bool check_named(ctx_t *ctx, const ka_avro_node_t *reader,
                        const ka_avro_node_t *writer)
{
        pair_t pair = {reader, writer};

        if (proven(ctx, pair))
                return true;
        if (!check_named_once(ctx, reader, writer))
                return false;
        return memo_add(ctx, pair) || fail(ctx, "out of memory");
}

static bool check(ctx_t *ctx, const ka_avro_node_t *reader,
                  const ka_avro_node_t *writer)
{
        char rdesc[300], wdesc[300];
        size_t old;
        bool ok;

        if (writer->type == KA_AVRO_UNION)
                return check_union_writer(ctx, reader, writer);
        if (reader->type == KA_AVRO_UNION)
                return check_union_reader(ctx, reader, writer);
        if (reader->type != writer->type) {
                if (promotes(writer->type, reader->type))
                        return true;
                return fail(ctx, "reader type %s cannot read writer type %s",
                            describe(reader, rdesc, sizeof(rdesc)),
                            describe(writer, wdesc, sizeof(wdesc)));
        }
        switch (reader->type) {
        case KA_AVRO_RECORD:
        case KA_AVRO_ENUM:
        case KA_AVRO_FIXED:
                return check_named(ctx, reader, writer);
        case KA_AVRO_ARRAY:
        case KA_AVRO_MAP:
                old = push(ctx, reader->type == KA_AVRO_ARRAY ? "/items"
                                                              : "/values");
                ok = check(ctx, reader->items, writer->items);
                pop(ctx, old);
                return ok;
        default:
                return true;
        }
}

ka_err_t ka_schema_compat_nodes(const ka_avro_node_t *reader,
                                const ka_avro_node_t *writer, char *why,
                                size_t why_size)
{
        ctx_t ctx = {.why = why, .why_size = why_size};
        bool ok = check(&ctx, reader, writer);

        free(ctx.active);
        free(ctx.proven);
        ka_ptrmap_release(&ctx.index);
        if (ok)
                return KA_OK;
        if (!ctx.reported && why && why_size)
                snprintf(why, why_size, "incompatible");
        return KA_ERR_CONFLICT;
}

ka_err_t ka_schema_compat_check(const char *reader_json,
                                const char *writer_json, char *why,
                                size_t why_size)
{
        ka_avro_schema_t *reader = NULL, *writer = NULL;
        char errstr[256];
        ka_err_t err;

        reader = ka_avro_schema_parse(reader_json, errstr, sizeof(errstr));
        if (!reader) {
                snprintf(why, why_size, "reader schema: %s", errstr);
                return KA_ERR_INVALID;
        }
        writer = ka_avro_schema_parse(writer_json, errstr, sizeof(errstr));
        if (!writer) {
                snprintf(why, why_size, "writer schema: %s", errstr);
                err = KA_ERR_INVALID;
                goto out;
        }
        err = ka_schema_compat_nodes(ka_avro_schema_root(reader),
                                     ka_avro_schema_root(writer), why,
                                     why_size);
out:
        ka_avro_schema_destroy(reader);
        ka_avro_schema_destroy(writer);
        return err;
}

static const char *const level_names[] = {
        [KA_COMPAT_NONE] = "NONE",
        [KA_COMPAT_BACKWARD] = "BACKWARD",
        [KA_COMPAT_BACKWARD_TRANSITIVE] = "BACKWARD_TRANSITIVE",
        [KA_COMPAT_FORWARD] = "FORWARD",
        [KA_COMPAT_FORWARD_TRANSITIVE] = "FORWARD_TRANSITIVE",
        [KA_COMPAT_FULL] = "FULL",
        [KA_COMPAT_FULL_TRANSITIVE] = "FULL_TRANSITIVE",
};

const char *ka_compat_level_name(ka_compat_level_t level)
{
        if ((size_t)level >= KA_ARRAY_SIZE(level_names))
                return NULL;
        return level_names[level];
}

bool ka_compat_level_parse(const char *name, ka_compat_level_t *level)
{
        for (size_t i = 0; i < KA_ARRAY_SIZE(level_names); i++) {
                if (!strcasecmp(name, level_names[i])) {
                        *level = (ka_compat_level_t)i;
                        return true;
                }
        }
        return false;
}

/* One direction against one earlier version, with the context in why. */
static ka_err_t check_one(const ka_avro_node_t *reader,
                          const ka_avro_node_t *writer, bool new_reads,
                          int version, char *why, size_t why_size)
{
        char reason[768];

        if (!ka_schema_compat_nodes(reader, writer, reason, sizeof(reason)))
                return KA_OK;
        if (new_reads)
                snprintf(why, why_size,
                         "the new schema cannot read data written with "
                         "version %d: %s",
                         version, reason);
        else
                snprintf(why, why_size,
                         "version %d cannot read data written with the new "
                         "schema: %s",
                         version, reason);
        return KA_ERR_CONFLICT;
}

ka_err_t ka_schema_compat_level(ka_compat_level_t level,
                                const ka_avro_node_t *candidate,
                                const ka_avro_node_t *const *existing,
                                const int *versions, size_t n, char *why,
                                size_t why_size)
{
        bool backward = false, forward = false, transitive = false;
        ka_err_t err;

        switch (level) {
        case KA_COMPAT_NONE:
                return KA_OK;
        case KA_COMPAT_BACKWARD_TRANSITIVE:
                transitive = true;
                /* fall through */
        case KA_COMPAT_BACKWARD:
                backward = true;
                break;
        case KA_COMPAT_FORWARD_TRANSITIVE:
                transitive = true;
                /* fall through */
        case KA_COMPAT_FORWARD:
                forward = true;
                break;
        case KA_COMPAT_FULL_TRANSITIVE:
                transitive = true;
                /* fall through */
        case KA_COMPAT_FULL:
                backward = forward = true;
                break;
        }
        /* Latest first: it is the likeliest to disagree and the most
         * useful to name. */
        for (size_t i = n; i-- > 0;) {
                int version = versions ? versions[i] : (int)i + 1;

                if (backward) {
                        err = check_one(candidate, existing[i], true, version,
                                        why, why_size);
                        if (err)
                                return err;
                }
                if (forward) {
                        err = check_one(existing[i], candidate, false, version,
                                        why, why_size);
                        if (err)
                                return err;
                }
                if (!transitive)
                        break;
        }
        return KA_OK;
}
