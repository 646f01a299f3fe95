/*
 * generate-agents as a library: loads the config, takes each source
 * topic's writer schema from a schema source, builds and checks the agent
 * models, registers the aggregated schemas and renders the agents from the
 * templates.
 */
#include "generate.h"
#include "avro_schema.h"
#include "config.h"
#include "log.h"
#include "model.h"
#include "schema.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One source topic's schema as fetched, shared by every agent using it. */
typedef struct fetched_s {
        ka_schema_info_t info;
        char *canonical;
        char *origin;
        ka_schema_t *schema;
} fetched_t;

static void fetched_release(fetched_t *f)
{
        ka_schema_info_release(&f->info);
        free(f->canonical);
        free(f->origin);
        ka_schema_destroy(f->schema);
}

/* Fetches and models the writer schema of topic. */
static ka_err_t fetch_source(ka_schema_source_t *schemas, const char *topic,
                             fetched_t *f, char *errstr, size_t errstr_size)
{
        char reason[1024];
        ka_err_t err;

        err = ka_schema_source_get(schemas, topic, &f->info, reason,
                                   sizeof(reason));
        if (err) {
                snprintf(errstr, errstr_size, "source topic '%s': %s", topic,
                         reason);
                /* Not the config's fault: a missing subject or file is
                 * as much an outage as an unreachable registry. */
                return err == KA_ERR_INVALID ? KA_ERR_IO : err;
        }
        if (!(f->origin = ka_schema_source_origin(schemas, &f->info))) {
                snprintf(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        if (!(f->canonical = ka_avro_schema_canonical(f->info.schema, reason,
                                                      sizeof(reason))) ||
            !(f->schema = ka_schema_parse(f->info.schema, reason,
                                          sizeof(reason)))) {
                snprintf(errstr, errstr_size, "%s: %s", f->origin, reason);
                return KA_ERR_IO;
        }
        return KA_OK;
}

/* Output field names of a record schema JSON, for telling what changed. */
static json_t *field_names(const char *schema)
{
        json_t *root = json_loads(schema, 0, NULL), *names = json_array();
        const json_t *f;
        size_t i;

        json_array_foreach(json_object_get(root, "fields"), i, f)
                json_array_append(names, json_object_get(f, "name"));
        json_decref(root);
        return names;
}

static bool has_name(const json_t *names, const json_t *name)
{
        const json_t *v;
        size_t i;

        json_array_foreach(names, i, v) if (json_equal(v, name)) return true;
        return false;
}

/* "fields removed: a, b; fields added: c" between two record schemas. */
static void describe_change(const char *old_schema, const char *new_schema,
                            char *buf, size_t size)
{
        json_t *old_names = field_names(old_schema);
        json_t *new_names = field_names(new_schema);
        const json_t *v;
        size_t i, len = 0;
        const char *sep = "fields removed: ";

        buf[0] = '\0';
        json_array_foreach(old_names, i, v)
        {
                if (has_name(new_names, v) || len >= size)
                        continue;
                len += (size_t)snprintf(buf + len, size - len, "%s%s", sep,
                                        json_string_value(v));
                sep = ", ";
        }
        sep = len ? "; fields added: " : "fields added: ";
        json_array_foreach(new_names, i, v)
        {
                if (has_name(old_names, v) || len >= size)
                        continue;
                len += (size_t)snprintf(buf + len, size - len, "%s%s", sep,
                                        json_string_value(v));
                sep = ", ";
        }
        if (!len)
                snprintf(buf, size, "field types or order changed");
        json_decref(old_names);
        json_decref(new_names);
}

static ka_err_t register_aggregated(ka_registry_t *reg, const char *topic,
                                    const char *schema, const char *compat,
                                    char *errstr, size_t errstr_size)
{
        char reason[1024], subject[300], change[512];
        ka_schema_info_t latest = {0};
        int32_t id;
        ka_err_t err;

        snprintf(subject, sizeof(subject), "%s-value", topic);
        if (compat && (err = ka_registry_set_compatibility(
                               reg, subject, compat, reason, sizeof(reason)))) {
                snprintf(errstr, errstr_size, "subject '%s': %s", subject,
                         reason);
                return err == KA_ERR_INVALID ? KA_ERR_IO : err;
        }
        err = ka_registry_register(reg, subject, schema, &id, reason,
                                   sizeof(reason));
        if (err == KA_ERR_CONFLICT) {
                if (!ka_registry_latest(reg, subject, &latest, change,
                                        sizeof(change)))
                        describe_change(latest.schema, schema, change,
                                        sizeof(change));
                ka_schema_info_release(&latest);
                snprintf(errstr, errstr_size,
                         "the aggregated schema of '%s' is incompatible with "
                         "the latest version of subject '%s' (%s); change the "
                         "config back, or pass --compatibility NONE: %s",
                         topic, subject, change, reason);
                return err;
        }
        if (err) {
                snprintf(errstr, errstr_size, "subject '%s': %s", subject,
                         reason);
                return err == KA_ERR_INVALID ? KA_ERR_IO : err;
        }
        ka_debug("registered %s as schema id %d", subject, (int)id);
        return KA_OK;
}

/* The agents' file names; each also collides with no other. */
static ka_err_t check_idents(const ka_config_t *cfg, json_t *const *ctxs,
                             char *errstr, size_t errstr_size)
{
        for (size_t i = 0; i < cfg->ntopics; i++) {
                const ka_config_topic_t *topic = &cfg->topics[i];
                const char *a =
                        json_string_value(json_object_get(ctxs[i], "ident"));

                if (!strcmp(a, "agents_table")) {
                        ka_config_errorf(cfg, topic->pos, errstr, errstr_size,
                                         "aggregated topic '%s' would "
                                         "overwrite the agents table",
                                         topic->name);
                        return KA_ERR_INVALID;
                }
                for (size_t j = 0; j < i; j++) {
                        if (strcmp(a, json_string_value(json_object_get(
                                              ctxs[j], "ident"))))
                                continue;
                        ka_config_errorf(cfg, topic->pos, errstr, errstr_size,
                                         "aggregated topics '%s' and '%s' "
                                         "map to one C identifier '%s'",
                                         cfg->topics[j].name, topic->name, a);
                        return KA_ERR_INVALID;
                }
        }
        return KA_OK;
}

/*
 * path relative to the working directory, however it was typed
 * ("./x.yaml", "/abs/dir/x.yaml" and "x.yaml" all give "x.yaml"), so that
 * generated files do not depend on it; path itself when it cannot be
 * resolved. malloc'd.
 */
static char *display_path(const char *path)
{
        char *abs = realpath(path, NULL), *cwd = getcwd(NULL, 0);
        char *out = NULL;
        size_t common = 0, size = 0;
        FILE *mem;

        if (!abs || !cwd) {
                free(abs);
                free(cwd);
                return strdup(path);
        }
        /* Both are absolute and canonical: the longest common run of
         * whole components, then one "../" per component of cwd left. */
        for (size_t i = 1;; i++) {
                bool end_a = !abs[i] || abs[i] == '/';
                bool end_c = !cwd[i] || cwd[i] == '/';

                if (end_a && end_c)
                        common = i;
                if (!abs[i] || !cwd[i] || abs[i] != cwd[i])
                        break;
        }
        if ((mem = open_memstream(&out, &size))) {
                for (const char *p = cwd + common; *p; p++)
                        if (*p == '/' && p[1])
                                fputs("../", mem);
                fputs(abs + common + (abs[common] == '/'), mem);
                fclose(mem);
        }
        free(abs);
        free(cwd);
        return out;
}

/* Every schema and every model first: nothing is written or registered
 * unless the whole config is good. */
static ka_err_t build_models(const ka_config_t *cfg, const char *config_name,
                             ka_schema_source_t *schemas, fetched_t *fetched,
                             json_t **ctxs, char **record_schemas, char *errstr,
                             size_t errstr_size)
{
        ka_err_t err;
        size_t k = 0;

        for (size_t t = 0; t < cfg->ntopics; t++) {
                const ka_config_topic_t *topic = &cfg->topics[t];
                ka_model_source_t *ms =
                        calloc(topic->nsources + 1, sizeof(*ms));

                if (!ms) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return KA_ERR_NOMEM;
                }
                for (size_t s = 0; s < topic->nsources; s++, k++) {
                        fetched_t *f = &fetched[k];

                        err = fetch_source(schemas, topic->sources[s].name, f,
                                           errstr, errstr_size);
                        if (err) {
                                free(ms);
                                return err;
                        }
                        ms[s] = (ka_model_source_t){
                                .cfg = &topic->sources[s],
                                .schema = f->schema,
                                .schema_json = f->canonical,
                                .subject = f->info.subject,
                                .origin = f->origin,
                                .schema_id = f->info.id,
                                .schema_version = f->info.version,
                        };
                }
                ctxs[t] =
                        ka_model_agent(cfg, topic, ms, KA_VERSION, config_name,
                                       &record_schemas[t], errstr, errstr_size);
                free(ms);
                if (!ctxs[t])
                        return KA_ERR_INVALID;
        }
        return check_idents(cfg, ctxs, errstr, errstr_size);
}

/* Whether field name is a number in the schema of fetched source f. */
static bool numeric_in(const fetched_t *f, const char *name)
{
        const ka_schema_field_t *sf = ka_schema_field(f->schema, name);

        return sf && sf->numeric;
}

/*
 * A pattern's `fields` and `map` apply to each matched topic where they can;
 * one that applies to none is a mistake (a typo, or the wrong pattern).
 * fetched[] is parallel to the sources of cfg's topics.
 */
static ka_err_t check_pattern_lists(const ka_config_t *cfg,
                                    const fetched_t *fetched, char *errstr,
                                    size_t errstr_size)
{
        size_t k = 0;

        for (size_t t = 0; t < cfg->ntopics;
             k += cfg->topics[t].nsources, t++) {
                const ka_config_topic_t *first = &cfg->topics[t];
                const ka_config_source_t *src = &first->sources[0];
                size_t nlist = src->nfields + src->nmap;

                /* Once per template: at the first topic it made. */
                if (!first->from_pattern ||
                    (t > 0 && cfg->topics[t - 1].from_pattern &&
                     cfg->topics[t - 1].template_index ==
                             first->template_index))
                        continue;
                for (size_t i = 0; i < nlist; i++) {
                        const char *name =
                                i < src->nfields
                                        ? src->fields[i]
                                        : src->map_from[i - src->nfields];
                        ka_config_pos_t pos =
                                i < src->nfields
                                        ? src->field_pos[i]
                                        : src->map_pos[i - src->nfields];
                        size_t u, kk = k, nmatched = 0;
                        bool found = false;

                        for (u = t;
                             u < cfg->ntopics && cfg->topics[u].from_pattern &&
                             cfg->topics[u].template_index ==
                                     first->template_index;
                             kk += cfg->topics[u].nsources, u++) {
                                nmatched++;
                                found |= numeric_in(&fetched[kk], name);
                        }
                        if (found)
                                continue;
                        ka_config_errorf(cfg, pos, errstr, errstr_size,
                                         "field '%s' is a number in none of "
                                         "the %zu topics the pattern matched "
                                         "(first '%s')",
                                         name, nmatched, src->name);
                        return KA_ERR_INVALID;
                }
        }
        return KA_OK;
}

/* The topic patterns of cfg expanded against the topics schemas knows. */
static ka_err_t expand_patterns(const ka_generate_opts_t *opts,
                                ka_config_t *cfg, ka_schema_source_t *schemas,
                                char *errstr, size_t errstr_size)
{
        char **topics = NULL, *where = NULL, reason[1024];
        size_t n = 0;
        ka_err_t err;

        if (!cfg->npatterns)
                return KA_OK;
        err = ka_schema_source_topics(schemas, &topics, &n, reason,
                                      sizeof(reason));
        if (err) {
                snprintf(errstr, errstr_size,
                         "listing the topics for the patterns of %s: %s",
                         cfg->path, reason);
                /* Not the config's fault. */
                return err == KA_ERR_INVALID ? KA_ERR_IO : err;
        }
        if (!(where = ka_schema_source_where(schemas))) {
                ka_schema_source_topics_free(topics, n);
                snprintf(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        err = ka_config_expand(cfg, (const char *const *)topics, n, where,
                               opts->report, errstr, errstr_size);
        free(where);
        ka_schema_source_topics_free(topics, n);
        return err;
}

/* Renders the agents and the table into the output directory. */
static ka_err_t render(const ka_generate_opts_t *opts, const ka_config_t *cfg,
                       const char *config_name, json_t *const *ctxs,
                       ka_emit_stats_t *stats, char *errstr, size_t errstr_size)
{
        ka_mustache_t *agent_tpl = NULL, *table_tpl = NULL;
        char **files = calloc(cfg->ntopics + 2, sizeof(*files));
        json_t *table = NULL;
        ka_err_t err = KA_ERR_NOMEM;

        if (!files) {
                snprintf(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        err = KA_ERR_IO;
        if (!(agent_tpl = ka_emit_load_template(opts->template_dir,
                                                "agent.c.mustache", errstr,
                                                errstr_size)) ||
            !(table_tpl = ka_emit_load_template(opts->template_dir,
                                                "agents_table.c.mustache",
                                                errstr, errstr_size)))
                goto out;
        if (mkdir(opts->output_dir, 0777) && errno != EEXIST) {
                snprintf(errstr, errstr_size, "%s: %s", opts->output_dir,
                         strerror(errno));
                goto out;
        }
        for (size_t t = 0; t < cfg->ntopics; t++) {
                if (asprintf(&files[t], "%s.c",
                             json_string_value(
                                     json_object_get(ctxs[t], "ident"))) < 0) {
                        files[t] = NULL;
                        snprintf(errstr, errstr_size, "out of memory");
                        goto out;
                }
                if ((err = ka_emit_render(agent_tpl, ctxs[t], opts->output_dir,
                                          files[t], stats, errstr,
                                          errstr_size)))
                        goto out;
        }
        err = KA_ERR_IO;
        files[cfg->ntopics] = strdup("agents_table.c");
        table = ka_model_table(ctxs, cfg->ntopics, KA_VERSION, config_name);
        if (!files[cfg->ntopics] || !table) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }
        if ((err = ka_emit_render(table_tpl, table, opts->output_dir,
                                  files[cfg->ntopics], stats, errstr,
                                  errstr_size)))
                goto out;
        err = ka_emit_remove_stale(opts->output_dir, (const char *const *)files,
                                   cfg->ntopics + 1, stats, errstr,
                                   errstr_size);
out:
        for (size_t t = 0; t <= cfg->ntopics; t++)
                free(files[t]);
        free(files);
        json_decref(table);
        ka_mustache_destroy(agent_tpl);
        ka_mustache_destroy(table_tpl);
        return err;
}

ka_err_t ka_generate(const ka_generate_opts_t *opts,
                     ka_schema_source_t *schemas, ka_generate_result_t *res,
                     char *errstr, size_t errstr_size)
{
        ka_config_t *cfg = NULL;
        fetched_t *fetched = NULL;
        json_t **ctxs = NULL;
        char **record_schemas = NULL, *config_name = NULL;
        size_t nsources = 0;
        ka_err_t err;

        memset(res, 0, sizeof(*res));
        if (!(cfg = ka_config_load(opts->config_file, errstr, errstr_size)))
                return KA_ERR_INVALID;
        if ((err = expand_patterns(opts, cfg, schemas, errstr, errstr_size))) {
                ka_config_destroy(cfg);
                return err;
        }
        for (size_t t = 0; t < cfg->ntopics; t++)
                nsources += cfg->topics[t].nsources;
        err = KA_ERR_NOMEM;
        fetched = calloc(nsources + 1, sizeof(*fetched));
        ctxs = calloc(cfg->ntopics + 1, sizeof(*ctxs));
        record_schemas = calloc(cfg->ntopics + 1, sizeof(*record_schemas));
        config_name = display_path(opts->config_file);
        if (!fetched || !ctxs || !record_schemas || !config_name) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
        }

        if ((err = build_models(cfg, config_name, schemas, fetched, ctxs,
                                record_schemas, errstr, errstr_size)) ||
            (err = check_pattern_lists(cfg, fetched, errstr, errstr_size)))
                goto out;
        for (size_t t = 0; opts->registry && t < cfg->ntopics; t++)
                if ((err = register_aggregated(
                             opts->registry, cfg->topics[t].name,
                             record_schemas[t], opts->compatibility, errstr,
                             errstr_size)))
                        goto out;
        if ((err = render(opts, cfg, config_name, ctxs, &res->files, errstr,
                          errstr_size)))
                goto out;
        res->nagents = cfg->ntopics;

out:
        for (size_t i = 0; fetched && i < nsources; i++)
                fetched_release(&fetched[i]);
        for (size_t t = 0; t < cfg->ntopics; t++) {
                if (ctxs)
                        json_decref(ctxs[t]);
                if (record_schemas)
                        free(record_schemas[t]);
        }
        free(fetched);
        free(ctxs);
        free(record_schemas);
        free(config_name);
        ka_config_destroy(cfg);
        return err;
}
