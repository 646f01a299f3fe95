/*
 * The dev stack's Schema Registry: libmicrohttpd for HTTP, jansson for the
 * bodies, avro_schema and schema_compat for the schemas. Everything lives
 * in memory under one mutex; requests are few and small.
 */
#include "registry_server.h"

#include "avro_schema.h"
#include "ka.h"
#include "log.h"
#include "schema_compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONTENT_TYPE "application/vnd.schemaregistry.v1+json"
#define MAX_BODY     (16u << 20)
#define MAX_SEGMENTS 8

typedef struct schema_rec_s {
        int id;
        char *text; /* as first registered */
        char *normalized;
        ka_avro_schema_t *parsed;
} schema_rec_t;

typedef struct version_s {
        int version;
        schema_rec_t *schema;
} version_t;

typedef struct subject_s {
        char *name;
        version_t *versions; /* live versions, ascending */
        size_t nversions, cap;
        int next_version;
        bool has_level;
        ka_compat_level_t level;
} subject_t;

struct ka_registry_server_s {
        struct MHD_Daemon *mhd;
        uint16_t port;
        pthread_mutex_t lock;
        ka_compat_level_t level; /* global */
        schema_rec_t **schemas;  /* schemas[id - 1] */
        size_t nschemas, schemas_cap;
        subject_t **subjects;
        size_t nsubjects, subjects_cap;
};

/* One request's body, gathered across the access handler's calls. */
typedef struct request_s {
        char *body;
        size_t len, cap;
        bool too_large;
        bool oom;
} request_t;

/* An answer: status and JSON body, or raw text for /schema. */
typedef struct reply_s {
        unsigned status;
        json_t *json;
        char *text;
} reply_t;

__attribute__((format(printf, 3, 4))) static void
reply_error(reply_t *rep, int code, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* Confluent's five-digit codes carry the HTTP status in front. */
        rep->status = (unsigned)(code >= 10000 ? code / 100 : code);
        json_decref(rep->json);
        rep->json = json_pack("{s:i,s:s}", "error_code", code, "message", msg);
        if (!rep->json) {
                /* Not UTF-8 (a name cut inside a character by the
                 * buffer): what is not ASCII becomes '?'. */
                for (char *c = msg; *c; c++)
                        if ((unsigned char)*c >= 0x80)
                                *c = '?';
                rep->json = json_pack("{s:i,s:s}", "error_code", code,
                                      "message", msg);
        }
}

static void reply_json(reply_t *rep, json_t *json)
{
        json_decref(rep->json);
        rep->status = 200;
        rep->json = json;
        if (!json)
                reply_error(rep, 500, "out of memory");
}

static void not_found_path(reply_t *rep)
{
        reply_error(rep, 404, "HTTP 404 Not Found");
}

static void bad_method(reply_t *rep)
{
        reply_error(rep, 405, "HTTP 405 Method Not Allowed");
}

static void schema_rec_free(schema_rec_t *rec)
{
        if (!rec)
                return;
        free(rec->text);
        free(rec->normalized);
        ka_avro_schema_destroy(rec->parsed);
        free(rec);
}

static void subject_free(subject_t *sub)
{
        if (!sub)
                return;
        free(sub->name);
        free(sub->versions);
        free(sub);
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
        size_t ncap;
        void *mem;

        if (n < *cap)
                return true;
        ncap = *cap ? *cap * 2 : 16;
        mem = realloc(*arr, ncap * elem);
        if (!mem)
                return false;
        *arr = mem;
        *cap = ncap;
        return true;
}

static subject_t *subject_find(ka_registry_server_t *srv, const char *name)
{
        for (size_t i = 0; i < srv->nsubjects; i++)
                if (!strcmp(srv->subjects[i]->name, name))
                        return srv->subjects[i];
        return NULL;
}

/* A subject with versions; config alone does not make one visible. */
static subject_t *subject_live(ka_registry_server_t *srv, const char *name)
{
        subject_t *sub = subject_find(srv, name);

        return sub && sub->nversions ? sub : NULL;
}

static subject_t *subject_get(ka_registry_server_t *srv, const char *name)
{
        subject_t *sub = subject_find(srv, name);

        if (sub)
                return sub;
        if (!grow((void **)&srv->subjects, &srv->subjects_cap, srv->nsubjects,
                  sizeof(*srv->subjects)))
                return NULL;
        sub = calloc(1, sizeof(*sub));
        if (!sub)
                return NULL;
        sub->name = strdup(name);
        if (!sub->name) {
                free(sub);
                return NULL;
        }
        sub->next_version = 1;
        srv->subjects[srv->nsubjects++] = sub;
        return sub;
}

static schema_rec_t *schema_by_normalized(ka_registry_server_t *srv,
                                          const char *normalized)
{
        for (size_t i = 0; i < srv->nschemas; i++)
                if (!strcmp(srv->schemas[i]->normalized, normalized))
                        return srv->schemas[i];
        return NULL;
}

static version_t *version_by_normalized(subject_t *sub, const char *normalized)
{
        for (size_t i = 0; i < sub->nversions; i++)
                if (!strcmp(sub->versions[i].schema->normalized, normalized))
                        return &sub->versions[i];
        return NULL;
}

/*
 * "latest", -1 or 1..2^31-1 into *version (-1 for latest); false (42202
 * written into rep) for anything else.
 */
static bool parse_version(const char *str, int *version, reply_t *rep)
{
        const char *c = str;
        long v = 0;

        if (!strcmp(str, "latest") || !strcmp(str, "-1")) {
                *version = -1;
                return true;
        }
        for (; *c >= '0' && *c <= '9' && v <= INT_MAX; c++)
                v = v * 10 + (*c - '0');
        if (c == str || *c || v < 1 || v > INT_MAX) {
                reply_error(rep, 42202,
                            "The specified version '%s' is not a valid version "
                            "id. Allowed values are between [1, 2^31-1] and "
                            "the string \"latest\"",
                            str);
                return false;
        }
        *version = (int)v;
        return true;
}

/* The live subject called name, or NULL after replying 40401. */
static subject_t *subject_or_404(ka_registry_server_t *srv, const char *name,
                                 reply_t *rep)
{
        subject_t *sub = subject_live(srv, name);

        if (!sub)
                reply_error(rep, 40401, "Subject '%s' not found.", name);
        return sub;
}

static version_t *version_find(subject_t *sub, int version)
{
        if (version == -1)
                return sub->nversions ? &sub->versions[sub->nversions - 1]
                                      : NULL;
        for (size_t i = 0; i < sub->nversions; i++)
                if (sub->versions[i].version == version)
                        return &sub->versions[i];
        return NULL;
}

/* The subject and one of its versions, or a 40401/40402/42202 reply. */
static version_t *lookup_version(ka_registry_server_t *srv, const char *name,
                                 const char *vstr, subject_t **subp,
                                 reply_t *rep)
{
        subject_t *sub;
        version_t *ver;
        int version;

        if (!parse_version(vstr, &version, rep))
                return NULL;
        sub = subject_or_404(srv, name, rep);
        if (!sub)
                return NULL;
        ver = version_find(sub, version);
        if (!ver) {
                reply_error(rep, 40402, "Version %s not found.", vstr);
                return NULL;
        }
        if (subp)
                *subp = sub;
        return ver;
}

static json_t *version_json(const subject_t *sub, const version_t *ver)
{
        return json_pack("{s:s,s:i,s:i,s:s}", "subject", sub->name, "version",
                         ver->version, "id", ver->schema->id, "schema",
                         ver->schema->text);
}

static ka_compat_level_t subject_level(const ka_registry_server_t *srv,
                                       const subject_t *sub)
{
        return sub && sub->has_level ? sub->level : srv->level;
}

/*
 * The request body as a JSON object, or NULL with a 400/422 reply.
 */
static json_t *body_object(const request_t *req, reply_t *rep)
{
        json_error_t jerr;
        json_t *json;

        json = json_loadb(req->body ? req->body : "", req->len, 0, &jerr);
        if (!json) {
                reply_error(rep, 400, "malformed JSON body: %s", jerr.text);
                return NULL;
        }
        if (!json_is_object(json)) {
                json_decref(json);
                reply_error(rep, 400, "the body must be a JSON object");
                return NULL;
        }
        return json;
}

/*
 * The "schema" of a register or lookup body, parsed, with its normalized
 * form; NULL with a 400/422 reply. *text points into *body.
 */
static ka_avro_schema_t *body_schema(const request_t *req, reply_t *rep,
                                     json_t **body, const char **text,
                                     char **normalized)
{
        json_t *type, *refs, *schema;
        ka_avro_schema_t *parsed;
        char errstr[512];

        *body = body_object(req, rep);
        if (!*body)
                return NULL;
        type = json_object_get(*body, "schemaType");
        if (type && !json_is_null(type) &&
            (!json_is_string(type) ||
             strcasecmp(json_string_value(type), "AVRO"))) {
                reply_error(rep, 42201,
                            "Invalid schema: unsupported schema type (this "
                            "registry knows AVRO only)");
                return NULL;
        }
        refs = json_object_get(*body, "references");
        if (json_is_array(refs) && json_array_size(refs)) {
                reply_error(rep, 42201,
                            "Invalid schema: schema references are not "
                            "supported");
                return NULL;
        }
        schema = json_object_get(*body, "schema");
        if (!json_is_string(schema) || !*json_string_value(schema)) {
                reply_error(rep, 42201, "Invalid schema: empty schema");
                return NULL;
        }
        *text = json_string_value(schema);
        parsed = ka_avro_schema_parse(*text, errstr, sizeof(errstr));
        if (!parsed) {
                reply_error(rep, 42201, "Invalid schema: %s", errstr);
                return NULL;
        }
        *normalized = ka_avro_schema_normalized_of(parsed);
        if (!*normalized) {
                ka_avro_schema_destroy(parsed);
                reply_error(rep, 500, "out of memory");
                return NULL;
        }
        return parsed;
}

static bool add_version(subject_t *sub, schema_rec_t *rec)
{
        if (!grow((void **)&sub->versions, &sub->cap, sub->nversions,
                  sizeof(*sub->versions)))
                return false;
        sub->versions[sub->nversions++] =
                (version_t){.version = sub->next_version++, .schema = rec};
        return true;
}

/* Checks candidate against sub's versions at its level; 409 on refusal. */
static bool compatible(ka_registry_server_t *srv, subject_t *sub,
                       const ka_avro_node_t *candidate, reply_t *rep)
{
        const ka_avro_node_t **nodes = NULL;
        int *versions = NULL;
        char why[900];
        ka_err_t err;

        if (!sub->nversions)
                return true;
        nodes = calloc(sub->nversions, sizeof(*nodes));
        versions = calloc(sub->nversions, sizeof(*versions));
        if (!nodes || !versions) {
                free(nodes);
                free(versions);
                reply_error(rep, 500, "out of memory");
                return false;
        }
        for (size_t i = 0; i < sub->nversions; i++) {
                nodes[i] = ka_avro_schema_root(sub->versions[i].schema->parsed);
                versions[i] = sub->versions[i].version;
        }
        err = ka_schema_compat_level(subject_level(srv, sub), candidate, nodes,
                                     versions, sub->nversions, why,
                                     sizeof(why));
        free(nodes);
        free(versions);
        if (err)
                reply_error(rep, 409,
                            "Schema being registered is incompatible with an "
                            "earlier schema for subject \"%s\" (%s), details: "
                            "[%s]",
                            sub->name,
                            ka_compat_level_name(subject_level(srv, sub)), why);
        return !err;
}

static void do_register(ka_registry_server_t *srv, const char *name,
                        const request_t *req, reply_t *rep)
{
        ka_avro_schema_t *parsed;
        const char *text;
        char *normalized = NULL;
        json_t *body = NULL;
        subject_t *sub;
        version_t *ver;
        schema_rec_t *rec, *fresh = NULL;

        parsed = body_schema(req, rep, &body, &text, &normalized);
        if (!parsed)
                goto out;
        sub = subject_get(srv, name);
        if (!sub) {
                reply_error(rep, 500, "out of memory");
                goto out;
        }
        ver = version_by_normalized(sub, normalized);
        if (ver) {
                reply_json(rep, json_pack("{s:i}", "id", ver->schema->id));
                goto out;
        }
        if (!compatible(srv, sub, ka_avro_schema_root(parsed), rep))
                goto out;
        rec = schema_by_normalized(srv, normalized);
        if (!rec) {
                if (!grow((void **)&srv->schemas, &srv->schemas_cap,
                          srv->nschemas, sizeof(*srv->schemas)))
                        goto oom;
                fresh = calloc(1, sizeof(*fresh));
                if (!fresh)
                        goto oom;
                fresh->text = strdup(text);
                if (!fresh->text)
                        goto oom;
                fresh->normalized = normalized;
                fresh->parsed = parsed;
                normalized = NULL;
                parsed = NULL;
                fresh->id = (int)srv->nschemas + 1;
                rec = fresh;
        }
        if (!add_version(sub, rec))
                goto oom;
        if (fresh)
                srv->schemas[srv->nschemas++] = fresh;
        fresh = NULL;
        ka_debug("registry: subject '%s' version %d is schema id %d", name,
                 sub->versions[sub->nversions - 1].version, rec->id);
        reply_json(rep, json_pack("{s:i}", "id", rec->id));
        goto out;
oom:
        reply_error(rep, 500, "out of memory");
out:
        schema_rec_free(fresh);
        free(normalized);
        ka_avro_schema_destroy(parsed);
        json_decref(body);
}

static void do_lookup(ka_registry_server_t *srv, const char *name,
                      const request_t *req, reply_t *rep)
{
        ka_avro_schema_t *parsed;
        const char *text;
        char *normalized = NULL;
        json_t *body = NULL;
        subject_t *sub;
        version_t *ver;

        sub = subject_or_404(srv, name, rep);
        if (!sub)
                return;
        parsed = body_schema(req, rep, &body, &text, &normalized);
        if (!parsed)
                goto out;
        ver = version_by_normalized(sub, normalized);
        if (ver)
                reply_json(rep, version_json(sub, ver));
        else
                reply_error(rep, 40403, "Schema not found");
out:
        free(normalized);
        ka_avro_schema_destroy(parsed);
        json_decref(body);
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void do_list_subjects(ka_registry_server_t *srv, reply_t *rep)
{
        const char **names = calloc(srv->nsubjects + 1, sizeof(*names));
        json_t *arr = json_array();
        size_t n = 0;

        if (!names || !arr) {
                free(names);
                json_decref(arr);
                reply_error(rep, 500, "out of memory");
                return;
        }
        for (size_t i = 0; i < srv->nsubjects; i++)
                if (srv->subjects[i]->nversions)
                        names[n++] = srv->subjects[i]->name;
        qsort(names, n, sizeof(*names), cmp_names);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, json_string(names[i]));
        free(names);
        reply_json(rep, arr);
}

static void do_list_versions(ka_registry_server_t *srv, const char *name,
                             reply_t *rep)
{
        subject_t *sub = subject_or_404(srv, name, rep);
        json_t *arr;

        if (!sub)
                return;
        arr = json_array();
        for (size_t i = 0; arr && i < sub->nversions; i++)
                json_array_append_new(arr,
                                      json_integer(sub->versions[i].version));
        reply_json(rep, arr);
}

static void do_delete_subject(ka_registry_server_t *srv, const char *name,
                              reply_t *rep)
{
        subject_t *sub = subject_or_404(srv, name, rep);
        json_t *arr;

        if (!sub)
                return;
        arr = json_array();
        if (!arr) {
                reply_error(rep, 500, "out of memory");
                return;
        }
        for (size_t i = 0; i < sub->nversions; i++)
                json_array_append_new(arr,
                                      json_integer(sub->versions[i].version));
        sub->nversions = 0;
        reply_json(rep, arr);
}

static void do_delete_version(ka_registry_server_t *srv, const char *name,
                              const char *vstr, reply_t *rep)
{
        subject_t *sub;
        version_t *ver = lookup_version(srv, name, vstr, &sub, rep);
        int version;

        if (!ver)
                return;
        version = ver->version;
        memmove(ver, ver + 1,
                (size_t)(sub->versions + sub->nversions - (ver + 1)) *
                        sizeof(*ver));
        sub->nversions--;
        reply_json(rep, json_integer(version));
}

/* A schema id path segment; NULL with a 404/40403 reply. */
static schema_rec_t *schema_by_id(ka_registry_server_t *srv, const char *str,
                                  reply_t *rep)
{
        size_t digits = strspn(str, "0123456789");
        long id = 0;

        if (!digits || str[digits]) {
                not_found_path(rep);
                return NULL;
        }
        for (size_t i = 0; i < digits && id <= INT_MAX; i++)
                id = id * 10 + (str[i] - '0');
        if (id < 1 || (size_t)id > srv->nschemas) {
                reply_error(rep, 40403, "Schema %s not found", str);
                return NULL;
        }
        return srv->schemas[id - 1];
}

/* GET /schemas/ids/{id}/versions or .../subjects */
static void do_schema_usage(ka_registry_server_t *srv, schema_rec_t *rec,
                            bool versions, reply_t *rep)
{
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < srv->nsubjects; i++) {
                subject_t *sub = srv->subjects[i];

                for (size_t k = 0; k < sub->nversions; k++) {
                        if (sub->versions[k].schema != rec)
                                continue;
                        if (versions)
                                json_array_append_new(
                                        arr,
                                        json_pack("{s:s,s:i}", "subject",
                                                  sub->name, "version",
                                                  sub->versions[k].version));
                        else
                                json_array_append_new(arr,
                                                      json_string(sub->name));
                        if (!versions)
                                break;
                }
        }
        reply_json(rep, arr);
}

static bool body_level(const request_t *req, reply_t *rep,
                       ka_compat_level_t *level)
{
        json_t *body = body_object(req, rep);
        json_t *value;
        bool ok;

        if (!body)
                return false;
        value = json_object_get(body, "compatibility");
        if (!value)
                value = json_object_get(body, "compatibilityLevel");
        ok = json_is_string(value) &&
             ka_compat_level_parse(json_string_value(value), level);
        json_decref(body);
        if (!ok)
                reply_error(rep, 42203,
                            "Invalid compatibility level. Valid values are "
                            "none, backward, forward, full, "
                            "backward_transitive, forward_transitive, and "
                            "full_transitive");
        return ok;
}

static void do_config(ka_registry_server_t *srv, const char *method,
                      const char *name, const request_t *req, reply_t *rep)
{
        ka_compat_level_t level;
        subject_t *sub = name ? subject_find(srv, name) : NULL;

        if (!strcmp(method, "GET")) {
                reply_json(rep, json_pack("{s:s}", "compatibilityLevel",
                                          ka_compat_level_name(
                                                  subject_level(srv, sub))));
                return;
        }
        if (!strcmp(method, "PUT")) {
                if (!body_level(req, rep, &level))
                        return;
                if (name) {
                        sub = subject_get(srv, name);
                        if (!sub) {
                                reply_error(rep, 500, "out of memory");
                                return;
                        }
                        sub->has_level = true;
                        sub->level = level;
                } else {
                        srv->level = level;
                }
                reply_json(rep, json_pack("{s:s}", "compatibility",
                                          ka_compat_level_name(level)));
                return;
        }
        if (name && !strcmp(method, "DELETE")) {
                if (!sub) {
                        reply_error(rep, 40401, "Subject '%s' not found.",
                                    name);
                        return;
                }
                level = subject_level(srv, sub);
                sub->has_level = false;
                reply_json(rep, json_pack("{s:s}", "compatibilityLevel",
                                          ka_compat_level_name(level)));
                return;
        }
        bad_method(rep);
}

/* POST /compatibility/subjects/{s}/versions/{v} */
static void do_test_compat(ka_registry_server_t *srv, const char *name,
                           const char *vstr, const request_t *req, reply_t *rep)
{
        ka_avro_schema_t *parsed = NULL;
        const ka_avro_node_t *old;
        const char *text;
        char *normalized = NULL;
        json_t *body = NULL;
        subject_t *sub;
        version_t *ver;
        ka_compat_level_t level;
        char why[900];
        ka_err_t err;

        ver = lookup_version(srv, name, vstr, &sub, rep);
        if (!ver)
                return;
        parsed = body_schema(req, rep, &body, &text, &normalized);
        if (!parsed)
                goto out;
        /* One version named: the transitive levels reduce to theirs. */
        level = subject_level(srv, sub);
        if (level == KA_COMPAT_BACKWARD_TRANSITIVE)
                level = KA_COMPAT_BACKWARD;
        else if (level == KA_COMPAT_FORWARD_TRANSITIVE)
                level = KA_COMPAT_FORWARD;
        else if (level == KA_COMPAT_FULL_TRANSITIVE)
                level = KA_COMPAT_FULL;
        old = ka_avro_schema_root(ver->schema->parsed);
        err = ka_schema_compat_level(level, ka_avro_schema_root(parsed), &old,
                                     &ver->version, 1, why, sizeof(why));
        if (err)
                reply_json(rep, json_pack("{s:b,s:[s]}", "is_compatible", 0,
                                          "messages", why));
        else
                reply_json(rep, json_pack("{s:b}", "is_compatible", 1));
out:
        free(normalized);
        ka_avro_schema_destroy(parsed);
        json_decref(body);
}

static bool is(const char *method, const char *want)
{
        return !strcmp(method, want);
}

/* Routes one request; seg[] are the percent-decoded path segments. */
static void route(ka_registry_server_t *srv, const char *method, char **seg,
                  size_t n, const request_t *req, reply_t *rep)
{
        schema_rec_t *rec;
        subject_t *sub;
        version_t *ver;

        if (n == 0) {
                if (is(method, "GET"))
                        reply_json(rep, json_object());
                else
                        bad_method(rep);
        } else if (!strcmp(seg[0], "subjects") && n == 1) {
                if (is(method, "GET"))
                        do_list_subjects(srv, rep);
                else
                        bad_method(rep);
        } else if (!strcmp(seg[0], "subjects") && n == 2) {
                if (is(method, "POST"))
                        do_lookup(srv, seg[1], req, rep);
                else if (is(method, "DELETE"))
                        do_delete_subject(srv, seg[1], rep);
                else
                        bad_method(rep);
        } else if (!strcmp(seg[0], "subjects") && n == 3 &&
                   !strcmp(seg[2], "versions")) {
                if (is(method, "GET"))
                        do_list_versions(srv, seg[1], rep);
                else if (is(method, "POST"))
                        do_register(srv, seg[1], req, rep);
                else
                        bad_method(rep);
        } else if (!strcmp(seg[0], "subjects") && n == 4 &&
                   !strcmp(seg[2], "versions")) {
                if (is(method, "GET")) {
                        ver = lookup_version(srv, seg[1], seg[3], &sub, rep);
                        if (ver)
                                reply_json(rep, version_json(sub, ver));
                } else if (is(method, "DELETE")) {
                        do_delete_version(srv, seg[1], seg[3], rep);
                } else {
                        bad_method(rep);
                }
        } else if (!strcmp(seg[0], "subjects") && n == 5 &&
                   !strcmp(seg[2], "versions") &&
                   (!strcmp(seg[4], "schema") ||
                    !strcmp(seg[4], "referencedby"))) {
                if (!is(method, "GET")) {
                        bad_method(rep);
                        return;
                }
                ver = lookup_version(srv, seg[1], seg[3], NULL, rep);
                if (ver && seg[4][0] == 's') {
                        rep->status = 200;
                        rep->text = strdup(ver->schema->text);
                        if (!rep->text)
                                reply_error(rep, 500, "out of memory");
                } else if (ver) {
                        reply_json(rep, json_array());
                }
        } else if (!strcmp(seg[0], "schemas") && n == 2 &&
                   !strcmp(seg[1], "types")) {
                if (is(method, "GET"))
                        reply_json(rep, json_pack("[s]", "AVRO"));
                else
                        bad_method(rep);
        } else if (!strcmp(seg[0], "schemas") && (n == 3 || n == 4) &&
                   !strcmp(seg[1], "ids") &&
                   (n == 3 || !strcmp(seg[3], "versions") ||
                    !strcmp(seg[3], "subjects"))) {
                if (!is(method, "GET")) {
                        bad_method(rep);
                        return;
                }
                rec = schema_by_id(srv, seg[2], rep);
                if (rec && n == 3)
                        reply_json(rep,
                                   json_pack("{s:s}", "schema", rec->text));
                else if (rec)
                        do_schema_usage(srv, rec, seg[3][0] == 'v', rep);
        } else if (!strcmp(seg[0], "config") && n <= 2) {
                do_config(srv, method, n == 2 ? seg[1] : NULL, req, rep);
        } else if (!strcmp(seg[0], "mode") && n == 1) {
                if (is(method, "GET"))
                        reply_json(rep,
                                   json_pack("{s:s}", "mode", "READWRITE"));
                else
                        bad_method(rep);
        } else if (!strcmp(seg[0], "compatibility") && n == 5 &&
                   !strcmp(seg[1], "subjects") && !strcmp(seg[3], "versions")) {
                if (is(method, "POST"))
                        do_test_compat(srv, seg[2], seg[4], req, rep);
                else
                        bad_method(rep);
        } else {
                not_found_path(rep);
        }
}

/* Percent-decodes seg in place; false for a bad escape or a NUL. */
static bool pct_decode(char *seg)
{
        char *out = seg;

        for (const char *in = seg; *in; in++) {
                if (*in == '%') {
                        int hi = ka_hex_digit((unsigned char)in[1]),
                            lo = hi < 0 ? -1
                                        : ka_hex_digit((unsigned char)in[2]);

                        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                                return false;
                        *out++ = (char)(hi * 16 + lo);
                        in += 2;
                } else {
                        *out++ = *in;
                }
        }
        *out = '\0';
        return true;
}

/* Whether s is UTF-8, as every name must be to go into a JSON answer. */
static bool utf8_ok(const char *s)
{
        json_t *probe = json_string(s);
        bool ok = probe != NULL;

        json_decref(probe);
        return ok;
}

/* Splits the raw path (MHD leaves it escaped, see the unescaper). */
static void handle(ka_registry_server_t *srv, const char *method,
                   const char *url, const request_t *req, reply_t *rep)
{
        char *path = strdup(url), *seg[MAX_SEGMENTS], *c, *next;
        size_t n = 0;

        if (!path) {
                reply_error(rep, 500, "out of memory");
                return;
        }
        c = path;
        while (*c == '/')
                c++;
        while (*c) {
                next = strchr(c, '/');
                if (next)
                        *next++ = '\0';
                if (n == MAX_SEGMENTS || !*c || !pct_decode(c) || !utf8_ok(c)) {
                        not_found_path(rep);
                        free(path);
                        return;
                }
                seg[n++] = c;
                if (!next)
                        break;
                c = next;
        }
        pthread_mutex_lock(&srv->lock);
        route(srv, method, seg, n, req, rep);
        pthread_mutex_unlock(&srv->lock);
        free(path);
}

/* The body of rep as text (taken from rep, malloc'd); NULL when out of
 * memory. */
static char *reply_text(reply_t *rep)
{
        char *text = rep->text;

        if (!text && rep->json)
                text = json_dumps(rep->json, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text) {
                /* Not even an error body could be made. */
                text = strdup("{\"error_code\":500,\"message\":\"out of "
                              "memory\"}");
                rep->status = 500;
        }
        rep->text = NULL;
        return text;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, reply_t *rep)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;
        char *text = reply_text(rep);
        const char *type = CONTENT_TYPE;

        if (!text)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(text), text,
                                               MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(text);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        ret = MHD_queue_response(conn, rep->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static bool append_body(request_t *req, const char *data, size_t len)
{
        size_t cap;
        char *body;

        if (req->too_large || req->oom)
                return true;
        if (req->len + len > MAX_BODY) {
                req->too_large = true;
                return true;
        }
        if (req->len + len + 1 > req->cap) {
                cap = req->cap ? req->cap : 4096;
                while (cap < req->len + len + 1)
                        cap *= 2;
                body = realloc(req->body, cap);
                if (!body) {
                        req->oom = true;
                        return true;
                }
                req->body = body;
                req->cap = cap;
        }
        memcpy(req->body + req->len, data, len);
        req->len += len;
        req->body[req->len] = '\0';
        return true;
}

/* The answer to a request whose body has been gathered. */
static void respond(ka_registry_server_t *srv, const char *method,
                    const char *url, const request_t *req, reply_t *rep)
{
        if (req->too_large)
                reply_error(rep, 413, "request body over %u bytes", MAX_BODY);
        else if (req->oom)
                reply_error(rep, 500, "out of memory");
        else
                handle(srv, method, url, req, rep);
        ka_debug("registry: %s %s: %u", method, url, rep->status);
}

unsigned ka_registry_server_handle(ka_registry_server_t *srv,
                                   const char *method, const char *path,
                                   const char *body, size_t len, char **reply)
{
        request_t req = {0};
        reply_t rep = {0};

        if (len)
                append_body(&req, body, len);
        respond(srv, method, path, &req, &rep);
        *reply = reply_text(&rep);
        json_decref(rep.json);
        free(req.body);
        return rep.status;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
        ka_registry_server_t *srv = cls;
        request_t *req = *con_cls;
        reply_t rep = {0};
        enum MHD_Result ret;

        (void)version;
        if (!req) {
                req = calloc(1, sizeof(*req));
                if (!req)
                        return MHD_NO;
                *con_cls = req;
                return MHD_YES;
        }
        if (*upload_size) {
                append_body(req, upload, *upload_size);
                *upload_size = 0;
                return MHD_YES;
        }
        respond(srv, method, url, req, &rep);
        ret = send_reply(conn, &rep);
        json_decref(rep.json);
        free(rep.text);
        return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        request_t *req = *con_cls;

        (void)cls;
        (void)conn;
        (void)toe;
        if (req) {
                free(req->body);
                free(req);
                *con_cls = NULL;
        }
}

/* Keeps the path escaped so that %2F stays inside one segment; nothing
 * reads the query arguments. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
        (void)cls;
        (void)conn;
        return strlen(s);
}

/* Binds and listens on 127.0.0.1:port; -1 with errstr. */
static int listen_on(uint16_t port, uint16_t *bound, char *errstr,
                     size_t errstr_size)
{
        struct sockaddr_in sin = {.sin_family = AF_INET,
                                  .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sin);
        int fd, on = 1;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                snprintf(errstr, errstr_size, "socket: %s", strerror(errno));
                return -1;
        }
        /* Like Kafka's listeners: a port in TIME_WAIT may be reused. */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
                if (errno == EADDRINUSE)
                        snprintf(errstr, errstr_size,
                                 "port %u is already in use", port);
                else
                        snprintf(errstr, errstr_size,
                                 "cannot bind 127.0.0.1:%u: %s", port,
                                 strerror(errno));
                close(fd);
                return -1;
        }
        if (listen(fd, 64) < 0 ||
            getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
                snprintf(errstr, errstr_size, "cannot listen on port %u: %s",
                         port, strerror(errno));
                close(fd);
                return -1;
        }
        *bound = ntohs(sin.sin_port);
        return fd;
}

ka_registry_server_t *ka_registry_server_new_detached(void)
{
        ka_registry_server_t *srv = calloc(1, sizeof(*srv));

        if (!srv)
                return NULL;
        srv->level = KA_COMPAT_BACKWARD;
        pthread_mutex_init(&srv->lock, NULL);
        return srv;
}

ka_registry_server_t *ka_registry_server_new(uint16_t port, char *errstr,
                                             size_t errstr_size)
{
        ka_registry_server_t *srv;
        int fd;

        srv = ka_registry_server_new_detached();
        if (!srv) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        fd = listen_on(port, &srv->port, errstr, errstr_size);
        if (fd < 0) {
                ka_registry_server_destroy(srv);
                return NULL;
        }
        srv->mhd = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL,
                                    on_request, srv, MHD_OPTION_LISTEN_SOCKET,
                                    (MHD_socket)fd, MHD_OPTION_NOTIFY_COMPLETED,
                                    on_completed, (void *)NULL,
                                    MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped,
                                    (void *)NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned int)60, MHD_OPTION_END);
        if (!srv->mhd) {
                snprintf(errstr, errstr_size,
                         "cannot start the HTTP server on port %u", srv->port);
                close(fd);
                ka_registry_server_destroy(srv);
                return NULL;
        }
        return srv;
}

uint16_t ka_registry_server_port(const ka_registry_server_t *srv)
{
        return srv->port;
}

void ka_registry_server_destroy(ka_registry_server_t *srv)
{
        if (!srv)
                return;
        /* Stops the server thread first: no handler runs after this. */
        if (srv->mhd)
                MHD_stop_daemon(srv->mhd);
        for (size_t i = 0; i < srv->nsubjects; i++)
                subject_free(srv->subjects[i]);
        free(srv->subjects);
        for (size_t i = 0; i < srv->nschemas; i++)
                schema_rec_free(srv->schemas[i]);
        free(srv->schemas);
        pthread_mutex_destroy(&srv->lock);
        free(srv);
}
