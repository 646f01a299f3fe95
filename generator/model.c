/*
 * Config topic + source schemas -> checked agent model -> Mustache context.
 * Every rule of SPEC §4, §5 and §8 that needs the schemas is checked here;
 * the templates only print what this builds.
 */
#include "model.h"
#include "names.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Characters of C string literal content per generated line, so that a
 * line `        "..."` stays within 80 columns. */
#define LITERAL_CHUNK 68

static const char *const reserved_names[] = {"time", "window_size", "count"};

static bool is_reserved(const char *name)
{
        for (size_t i = 0; i < KA_ARRAY_SIZE(reserved_names); i++)
                if (!strcmp(name, reserved_names[i]))
                        return true;
        return false;
}

static const char *num_enum(ka_num_type_t num)
{
        switch (num) {
        case KA_NUM_INT:
                return "KA_NUM_INT";
        case KA_NUM_LONG:
                return "KA_NUM_LONG";
        case KA_NUM_FLOAT:
                return "KA_NUM_FLOAT";
        case KA_NUM_DOUBLE:
                return "KA_NUM_DOUBLE";
        }
        return "?";
}

static const char *num_ctype(ka_num_type_t num)
{
        switch (num) {
        case KA_NUM_INT:
                return "int32_t";
        case KA_NUM_LONG:
                return "int64_t";
        case KA_NUM_FLOAT:
                return "float";
        case KA_NUM_DOUBLE:
                return "double";
        }
        return "?";
}

static const char *op_enum(ka_op_t op)
{
        static const char *const names[KA_OP__COUNT] = {
                [KA_OP_MIN] = "KA_OP_MIN",     [KA_OP_Q1] = "KA_OP_Q1",
                [KA_OP_MEAN] = "KA_OP_MEAN",   [KA_OP_MEDIAN] = "KA_OP_MEDIAN",
                [KA_OP_STDEV] = "KA_OP_STDEV", [KA_OP_Q3] = "KA_OP_Q3",
                [KA_OP_MAX] = "KA_OP_MAX",     [KA_OP_SUM] = "KA_OP_SUM",
        };

        return names[op];
}

/*
 * s as the lines of a C string literal: {"text": escaped chunk, "last":
 * bool}. Escapes are never split; bytes outside printable ASCII become
 * three-digit octal escapes, which cannot swallow a following digit.
 */
static json_t *literal_lines(const char *s)
{
        json_t *lines = json_array();
        char chunk[LITERAL_CHUNK + 8];
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)s;; p++) {
                char esc[8];

                if (!*p || n + 4 > LITERAL_CHUNK) {
                        json_t *line;

                        chunk[n] = '\0';
                        line = json_pack("{s:s, s:b}", "text", chunk, "last",
                                         !*p);
                        json_array_append_new(lines, line);
                        n = 0;
                        if (!*p)
                                break;
                }
                if (*p == '"' || *p == '\\')
                        snprintf(esc, sizeof(esc), "\\%c", *p);
                else if (*p < 0x20 || *p >= 0x7f || *p == '?')
                        snprintf(esc, sizeof(esc), "\\%03o", *p);
                else
                        snprintf(esc, sizeof(esc), "%c", *p);
                memcpy(chunk + n, esc, strlen(esc));
                n += strlen(esc);
        }
        return lines;
}

/*
 * `.key = "value",` as a line of a designated initializer indented by
 * indent columns, broken after `=` the way clang-format breaks it: when
 * the line is longer than 80 columns and the break saves room (a key longer
 * than the continuation indent of 8).
 */
static json_t *init_line(const char *key, const char *value, int indent)
{
        size_t keylen = strlen(key) + 4; /* ".key = " */
        bool wrap =
                (size_t)indent + keylen + strlen(value) + 3 > 80 && keylen > 8;
        char *line;
        json_t *j;

        if (asprintf(&line, ".%s =%s%*s\"%s\",", key, wrap ? "\n" : " ",
                     wrap ? indent + 8 : 0, "", value) < 0)
                return NULL;
        j = json_string(line);
        free(line);
        return j;
}

/* s with what would end a C comment or string made harmless. */
static char *comment_safe(const char *s)
{
        char *out = strdup(s);

        for (char *p = out; p && *p; p++)
                if ((p[0] == '*' && p[1] == '/') || *p == '"' || *p == '\\' ||
                    (unsigned char)*p < 0x20)
                        *p = '_';
        return out;
}

__attribute__((format(printf, 5, 6))) static void
blame(const ka_config_t *cfg, ka_config_pos_t pos, char *errstr,
      size_t errstr_size, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ka_config_errorf(cfg, pos, errstr, errstr_size, "%s", msg);
}

/* Position of `name` in the source's `fields` list, or the source's. */
static ka_config_pos_t field_pos(const ka_config_source_t *src,
                                 const char *name)
{
        for (size_t i = 0; i < src->nfields; i++)
                if (!strcmp(src->fields[i], name))
                        return src->field_pos[i];
        for (size_t i = 0; i < src->nmap; i++)
                if (!strcmp(src->map_from[i], name))
                        return src->map_pos[i];
        return src->pos;
}

static bool listed(const ka_config_source_t *src, const char *name)
{
        for (size_t i = 0; i < src->nfields; i++)
                if (!strcmp(src->fields[i], name))
                        return true;
        return false;
}

static bool aggregated(const ka_config_source_t *src,
                       const ka_schema_field_t *f)
{
        if (src->fields_given && src->nfields)
                return listed(src, f->name);
        return f->numeric && !is_reserved(f->name);
}

/* Checks of the config against one source schema that the field loop
 * does not see: listed fields and map keys that are absent or not numbers,
 * and the time field. */
static bool check_source(const ka_config_t *cfg, const ka_config_topic_t *topic,
                         const ka_model_source_t *ms, char *errstr,
                         size_t errstr_size)
{
        const ka_config_source_t *src = ms->cfg;
        const ka_schema_field_t *f;

        for (size_t i = 0; i < src->nfields; i++) {
                f = ka_schema_field(ms->schema, src->fields[i]);
                if (!f) {
                        blame(cfg, src->field_pos[i], errstr, errstr_size,
                              "field '%s' is not in the schema of topic '%s' "
                              "(subject '%s' version %d)",
                              src->fields[i], src->name, ms->subject,
                              (int)ms->schema_version);
                        return false;
                }
                if (!f->numeric) {
                        blame(cfg, src->field_pos[i], errstr, errstr_size,
                              "field '%s' of topic '%s' is of type %s, not a "
                              "number (int, long, float, double or a union "
                              "of null and one of them)",
                              f->name, src->name, f->type_desc);
                        return false;
                }
        }
        for (size_t i = 0; i < src->nmap; i++) {
                f = ka_schema_field(ms->schema, src->map_from[i]);
                if (!f || !aggregated(src, f)) {
                        blame(cfg, src->map_pos[i], errstr, errstr_size,
                              "map: field '%s' of topic '%s' is not "
                              "aggregated",
                              src->map_from[i], src->name);
                        return false;
                }
        }
        if (topic->time_field) {
                f = ka_schema_field(ms->schema, topic->time_field);
                if (!f || !f->numeric || f->nullable ||
                    !(f->num == KA_NUM_DOUBLE || f->num == KA_NUM_FLOAT ||
                      (f->num == KA_NUM_LONG && f->logical_type &&
                       (!strcmp(f->logical_type, "timestamp-millis") ||
                        !strcmp(f->logical_type, "timestamp-micros"))))) {
                        blame(cfg, topic->time_field_pos, errstr, errstr_size,
                              "time_field '%s' of topic '%s' must be a double "
                              "(seconds) or a long with logical type "
                              "timestamp-millis or timestamp-micros",
                              topic->time_field, src->name);
                        return false;
                }
        }
        return true;
}

/*
 * Spaces aligning the second line of `static ka_err_t sourceN_decode(`
 * under its first parameter, as clang-format does: the width depends on
 * the digits of N.
 */
static const char *decode_pad(size_t index)
{
        static char pad[64];
        int n = snprintf(NULL, 0, "static ka_err_t source%zu_decode(", index);

        memset(pad, ' ', (size_t)n);
        pad[n] = '\0';
        return pad;
}

/* The decode step of one schema field: read into the struct or skip. */
static json_t *step(const ka_schema_field_t *f, bool member)
{
        json_t *st =
                json_pack("{s:s, s:s}", "name", f->name, "ident", f->ident);

        if (member) {
                json_object_set_new(st, "read", json_true());
                json_object_set_new(st, "avro",
                                    json_string(ka_num_type_name(f->num)));
                json_object_set_new(st, "nullable", json_boolean(f->nullable));
                json_object_set_new(st, "value_branch",
                                    json_integer(f->value_branch));
        } else if (f->skip_prim) {
                json_object_set_new(st, "skip_prim", json_string(f->skip_prim));
        } else {
                char *prog = NULL;
                size_t len = 0;
                FILE *mem = open_memstream(&prog, &len);

                if (mem) {
                        for (size_t i = 0; i < f->skip_prog_len; i++)
                                fprintf(mem, "%s%d", i ? ", " : "{",
                                        (int)f->skip_prog[i]);
                        fputc('}', mem);
                        fclose(mem);
                }
                json_object_set_new(st, "skip_prog",
                                    json_pack("{s:s, s:s}", "type",
                                              f->type_desc, "prog",
                                              prog ? prog : ""));
                free(prog);
        }
        return st;
}

static json_t *time_field_ctx(const ka_schema_field_t *f)
{
        const char *conv = "seconds";

        if (f->num == KA_NUM_LONG)
                conv = strcmp(f->logical_type, "timestamp-micros") ? "millis"
                                                                   : "micros";
        return json_pack("{s:s, s:o, s:s, s:b}", "name", f->name,
                         "time_field_init",
                         init_line("time_field", f->name, 16), "ident",
                         f->ident, conv, true);
}

json_t *ka_model_agent(const ka_config_t *cfg, const ka_config_topic_t *topic,
                       const ka_model_source_t *sources, const char *version,
                       char **record_schema, char *errstr, size_t errstr_size)
{
        char *ident = ka_names_topic_ident(topic->name);
        char *record = ka_names_record_name(topic->name);
        char *config_comment = comment_safe(cfg->path);
        json_t *ctx = NULL, *srcs = json_array(), *ops = json_array();
        json_t *schema_fields = json_array(), *outputs = json_array();
        json_t *schema = NULL;
        size_t nrow = 0;
        char *schema_json = NULL;

        *record_schema = NULL;
        if (!ident || !record || !config_comment || !srcs || !ops ||
            !schema_fields || !outputs) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }

        json_array_append_new(
                schema_fields,
                json_pack("{s:s, s:s}", "name", "time", "type", "double"));
        json_array_append_new(schema_fields,
                              json_pack("{s:s, s:s}", "name", "window_size",
                                        "type", "double"));
        json_array_append_new(
                schema_fields,
                json_pack("{s:s, s:s}", "name", "count", "type", "long"));
        for (size_t o = 0; o < topic->nops; o++)
                json_array_append_new(ops,
                                      json_pack("{s:s, s:s}", "op",
                                                op_enum(topic->ops[o]), "name",
                                                ka_op_name(topic->ops[o])));

        for (size_t s = 0; s < topic->nsources; s++) {
                const ka_model_source_t *ms = &sources[s];
                const ka_config_source_t *src = ms->cfg;
                json_t *members = json_array(), *steps = json_array();
                json_t *fields = json_array(), *sctx;
                size_t first = nrow;
                const ka_schema_field_t *tf = NULL;

                if (!check_source(cfg, topic, ms, errstr, errstr_size)) {
                        json_decref(members);
                        json_decref(steps);
                        json_decref(fields);
                        goto out;
                }
                if (topic->time_field)
                        tf = ka_schema_field(ms->schema, topic->time_field);

                for (size_t i = 0; i < ms->schema->nfields; i++) {
                        const ka_schema_field_t *f = &ms->schema->fields[i];
                        bool agg = aggregated(src, f);
                        const char *out_name;

                        if (agg || f == tf)
                                json_array_append_new(
                                        members,
                                        json_pack("{s:s, s:s, s:s, s:b, s:b}",
                                                  "ctype", num_ctype(f->num),
                                                  "ident", f->ident, "name",
                                                  f->name, "nullable",
                                                  f->nullable, "renamed",
                                                  strcmp(f->name, f->ident)));
                        json_array_append_new(steps, step(f, agg || f == tf));
                        if (!agg)
                                continue;

                        out_name = ka_config_source_out_name(src, f->name);
                        for (size_t k = 0; k < json_array_size(outputs); k++) {
                                if (strcmp(json_string_value(
                                                   json_array_get(outputs, k)),
                                           out_name))
                                        continue;
                                blame(cfg, field_pos(src, f->name), errstr,
                                      errstr_size,
                                      "two aggregated fields are named '%s' "
                                      "in the output of '%s' (rename one "
                                      "with map)",
                                      out_name, topic->name);
                                json_decref(members);
                                json_decref(steps);
                                json_decref(fields);
                                goto out;
                        }
                        json_array_append_new(outputs, json_string(out_name));
                        json_array_append_new(
                                fields,
                                json_pack("{s:s, s:o, s:s, s:s, s:b, s:I}",
                                          "name", f->name, "out_name_init",
                                          init_line("out_name", out_name, 16),
                                          "ident", f->ident, "num",
                                          num_enum(f->num), "nullable",
                                          f->nullable, "row",
                                          (json_int_t)nrow));
                        nrow++;
                }

                sctx = json_pack(
                        "{s:s, s:I, s:s, s:i, s:i, s:o, s:I, s:I, s:o, s:o, "
                        "s:o, s:b, s:b}",
                        "topic", src->name, "index", (json_int_t)s, "subject",
                        ms->subject, "schema_id", (int)ms->schema_id,
                        "schema_version", (int)ms->schema_version,
                        "schema_lines", literal_lines(ms->schema_json),
                        "first_field", (json_int_t)first, "nfields",
                        (json_int_t)(nrow - first), "members", members, "steps",
                        steps, "fields", fields, "has_fields", nrow > first,
                        "has_members", json_array_size(members) > 0);
                json_object_set_new(sctx, "topic_init",
                                    init_line("topic", src->name, 16));
                if (tf)
                        json_object_set_new(sctx, "time_field",
                                            time_field_ctx(tf));
                json_object_set_new(sctx, "decode_pad",
                                    json_string(decode_pad(s)));
                json_array_append_new(srcs, sctx);
        }

        /* Output fields: each aggregated field, then each operation. */
        for (size_t k = 0; k < json_array_size(outputs); k++) {
                for (size_t o = 0; o < topic->nops; o++) {
                        char *name;

                        if (asprintf(&name, "%s_%s", ka_op_name(topic->ops[o]),
                                     json_string_value(
                                             json_array_get(outputs, k))) < 0)
                                goto out;
                        json_array_append_new(schema_fields,
                                              json_pack("{s:s, s:s}", "name",
                                                        name, "type",
                                                        "double"));
                        free(name);
                }
        }
        schema = json_pack("{s:s, s:s, s:s, s:O}", "type", "record", "name",
                           record, "namespace", "kafkaaggregator", "fields",
                           schema_fields);
        schema_json = json_dumps(schema, JSON_COMPACT);
        if (!schema_json)
                goto out;

        ctx = json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:i, s:b, "
                "s:O, s:I, s:I, s:I, s:O}",
                "version", version, "config", config_comment, "name",
                topic->name, "ident", ident, "record", record,
                "record_schema_lines", literal_lines(schema_json), "window_ms",
                (json_int_t)topic->window_ms, "expiration_ms",
                (json_int_t)topic->expiration_ms, "idle_timeout_ms",
                (json_int_t)topic->idle_timeout_ms, "min_sample_size",
                (int)topic->min_sample_size, "group_by_key",
                topic->group_by_key, "ops", ops, "nops",
                (json_int_t)topic->nops, "nfields", (json_int_t)nrow, "nvalues",
                (json_int_t)(nrow * topic->nops), "sources", srcs);
        if (ctx) {
                json_object_set_new(
                        ctx, "config_init",
                        init_line("config_file", config_comment, 8));
                json_object_set_new(ctx, "has_values",
                                    json_boolean(nrow * topic->nops > 0));
                *record_schema = schema_json;
        } else {
                free(schema_json);
        }

out:
        json_decref(schema);
        json_decref(srcs);
        json_decref(ops);
        json_decref(schema_fields);
        json_decref(outputs);
        free(ident);
        free(record);
        free(config_comment);
        return ctx;
}

json_t *ka_model_table(const ka_config_t *cfg, json_t *const *agents,
                       size_t nagents, const char *version)
{
        char *config_comment = comment_safe(cfg->path);
        json_t *list = json_array(), *ctx;

        for (size_t i = 0; i < nagents; i++)
                json_array_append_new(
                        list, json_pack("{s:O}", "ident",
                                        json_object_get(agents[i], "ident")));
        ctx = json_pack("{s:s, s:s, s:o, s:I}", "version", version, "config",
                        config_comment ? config_comment : "", "agents", list,
                        "count", (json_int_t)nagents);
        free(config_comment);
        return ctx;
}
