/*
 * The generate-agents command: loads the config, fetches each source
 * topic's latest schema, builds and checks the agent models, registers the
 * aggregated schemas and renders agents/ from templates/.
 */
#include "generate.h"
#include "avro_schema.h"
#include "cli.h"
#include "config.h"
#include "emit.h"
#include "log.h"
#include "model.h"
#include "registry.h"
#include "schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CMD "generate-agents"

static const char usage[] =
        "usage: kafkaaggregator generate-agents [--config-file F] "
        "[--output-dir D]\n"
        "                                       [--template-dir T] "
        "[--compatibility LEVEL]\n\n"
        "Fetches the schema of every source topic of the config from "
        "SCHEMA_REGISTRY_URL,\n"
        "renders one C agent per aggregated topic into the output "
        "directory and\n"
        "registers each aggregated schema in INTERNAL_SCHEMA_REGISTRY_URL. "
        "Then run make.\n\n"
        "  --config-file F      config (env AGGREGATOR_CONFIG_FILE, default\n"
        "                       example/aggregator-config.yaml)\n"
        "  --output-dir D       generated sources (env AGENTS_OUTPUT_DIR, "
        "default agents)\n"
        "  --template-dir T     templates (default templates)\n"
        "  --compatibility L    set the compatibility level of each "
        "aggregated subject\n"
        "                       before registering (NONE, BACKWARD, "
        "FORWARD, FULL, ...)\n";

/* One source topic's schema as fetched, shared by every agent using it. */
typedef struct fetched_s {
        ka_schema_info_t info;
        char *canonical;
        ka_schema_t *schema;
} fetched_t;

static void fetched_release(fetched_t *f)
{
        ka_schema_info_release(&f->info);
        free(f->canonical);
        ka_schema_destroy(f->schema);
}

/* Fetches and models the latest schema of `<topic>-value`. */
static int fetch_source(ka_registry_t *reg, const char *topic, fetched_t *f)
{
        char errstr[1024], subject[300];

        snprintf(subject, sizeof(subject), "%s-value", topic);
        if (ka_registry_latest(reg, subject, &f->info, errstr, sizeof(errstr)))
                return ka_cli_fail(CMD, "source topic '%s': %s", topic, errstr);
        if (!(f->canonical = ka_avro_schema_canonical(f->info.schema, errstr,
                                                      sizeof(errstr))) ||
            !(f->schema =
                      ka_schema_parse(f->info.schema, errstr, sizeof(errstr))))
                return ka_cli_fail(CMD, "subject '%s' version %d (id %d): %s",
                                   subject, (int)f->info.version,
                                   (int)f->info.id, errstr);
        return KA_EXIT_OK;
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

static int register_aggregated(ka_registry_t *reg, const char *topic,
                               const char *schema, const char *compat)
{
        char errstr[1024], subject[300], change[512];
        ka_schema_info_t latest = {0};
        int32_t id;
        ka_err_t err;

        snprintf(subject, sizeof(subject), "%s-value", topic);
        if (compat && ka_registry_set_compatibility(reg, subject, compat,
                                                    errstr, sizeof(errstr)))
                return ka_cli_fail(CMD, "subject '%s': %s", subject, errstr);
        err = ka_registry_register(reg, subject, schema, &id, errstr,
                                   sizeof(errstr));
        if (err == KA_ERR_CONFLICT) {
                if (!ka_registry_latest(reg, subject, &latest, change,
                                        sizeof(change)))
                        describe_change(latest.schema, schema, change,
                                        sizeof(change));
                ka_schema_info_release(&latest);
                return ka_cli_fail(
                        CMD,
                        "the aggregated schema of '%s' is incompatible with "
                        "the latest version of subject '%s' (%s); change the "
                        "config back, or pass --compatibility NONE: %s",
                        topic, subject, change, errstr);
        }
        if (err)
                return ka_cli_fail(CMD, "subject '%s': %s", subject, errstr);
        ka_debug("registered %s as schema id %d", subject, (int)id);
        return KA_EXIT_OK;
}

/* The agents' file names; each also collides with no other. */
static int check_idents(const ka_config_t *cfg, json_t *const *ctxs)
{
        for (size_t i = 0; i < cfg->ntopics; i++) {
                const char *a =
                        json_string_value(json_object_get(ctxs[i], "ident"));

                if (!strcmp(a, "agents_table"))
                        return ka_cli_usage_error(
                                CMD,
                                "aggregated topic '%s' would overwrite "
                                "the agents table",
                                cfg->topics[i].name);
                for (size_t j = 0; j < i; j++) {
                        if (strcmp(a, json_string_value(json_object_get(
                                              ctxs[j], "ident"))))
                                continue;
                        return ka_cli_usage_error(
                                CMD,
                                "aggregated topics '%s' and '%s' map to one "
                                "C identifier '%s'",
                                cfg->topics[j].name, cfg->topics[i].name, a);
                }
        }
        return KA_EXIT_OK;
}

int ka_generate_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config-file", required_argument, 0, 'c'},
                {"output-dir", required_argument, 0, 'o'},
                {"template-dir", required_argument, 0, 't'},
                {"compatibility", required_argument, 0, 'C'},
                {"help", no_argument, 0, 'h'},
                {0, 0, 0, 0},
        };
        const char *config_file = ka_cli_env("AGGREGATOR_CONFIG_FILE",
                                             "example/aggregator-config.yaml");
        const char *out_dir = ka_cli_env("AGENTS_OUTPUT_DIR", "agents");
        const char *tpl_dir = "templates", *compat = NULL;
        const char *src_url, *int_url;
        ka_registry_t *src_reg = NULL, *int_reg = NULL;
        ka_mustache_t *agent_tpl = NULL, *table_tpl = NULL;
        ka_config_t *cfg = NULL;
        fetched_t *fetched = NULL;
        json_t **ctxs = NULL, *table = NULL;
        char **schemas = NULL, **files = NULL;
        ka_emit_stats_t stats = {0};
        char errstr[2048];
        size_t nsources = 0, k;
        int rc = KA_EXIT_FAIL, c;

        while ((c = ka_cli_getopt(argc, argv, ":h", opts)) != -1) {
                switch (c) {
                case 'c':
                        config_file = optarg;
                        break;
                case 'o':
                        out_dir = optarg;
                        break;
                case 't':
                        tpl_dir = optarg;
                        break;
                case 'C':
                        compat = optarg;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return KA_EXIT_OK;
                default:
                        return KA_EXIT_USAGE;
                }
        }
        src_url = ka_cli_env("SCHEMA_REGISTRY_URL", "http://localhost:8081");
        int_url = ka_cli_env("INTERNAL_SCHEMA_REGISTRY_URL", src_url);

        if (!(cfg = ka_config_load(config_file, errstr, sizeof(errstr)))) {
                fprintf(stderr, "%s\n", errstr);
                return KA_EXIT_USAGE;
        }
        if (!(agent_tpl = ka_emit_load_template(tpl_dir, "agent.c.mustache",
                                                errstr, sizeof(errstr))) ||
            !(table_tpl =
                      ka_emit_load_template(tpl_dir, "agents_table.c.mustache",
                                            errstr, sizeof(errstr)))) {
                rc = ka_cli_fail(CMD, "%s", errstr);
                goto out;
        }
        if (!(src_reg =
                      ka_registry_new(src_url, NULL, errstr, sizeof(errstr))) ||
            !(int_reg =
                      ka_registry_new(int_url, NULL, errstr, sizeof(errstr)))) {
                rc = ka_cli_usage_error(CMD, "%s", errstr);
                goto out;
        }

        for (size_t t = 0; t < cfg->ntopics; t++)
                nsources += cfg->topics[t].nsources;
        fetched = calloc(nsources + 1, sizeof(*fetched));
        ctxs = calloc(cfg->ntopics + 1, sizeof(*ctxs));
        schemas = calloc(cfg->ntopics + 1, sizeof(*schemas));
        files = calloc(cfg->ntopics + 2, sizeof(*files));
        if (!fetched || !ctxs || !schemas || !files) {
                rc = ka_cli_fail(CMD, "out of memory");
                goto out;
        }

        /* Every schema and every model first: nothing is written or
         * registered unless the whole config is good. */
        k = 0;
        for (size_t t = 0; t < cfg->ntopics; t++) {
                const ka_config_topic_t *topic = &cfg->topics[t];
                ka_model_source_t *ms =
                        calloc(topic->nsources + 1, sizeof(*ms));
                if (!ms) {
                        rc = ka_cli_fail(CMD, "out of memory");
                        goto out;
                }
                for (size_t s = 0; s < topic->nsources; s++, k++) {
                        fetched_t *f = &fetched[k];

                        rc = fetch_source(src_reg, topic->sources[s].name, f);
                        if (rc) {
                                free(ms);
                                goto out;
                        }
                        ms[s] = (ka_model_source_t){
                                .cfg = &topic->sources[s],
                                .schema = f->schema,
                                .schema_json = f->canonical,
                                .subject = f->info.subject,
                                .schema_id = f->info.id,
                                .schema_version = f->info.version,
                        };
                }
                ctxs[t] = ka_model_agent(cfg, topic, ms, KA_VERSION,
                                         &schemas[t], errstr, sizeof(errstr));
                free(ms);
                if (!ctxs[t]) {
                        fprintf(stderr, "%s\n", errstr);
                        rc = KA_EXIT_USAGE;
                        goto out;
                }
        }
        if ((rc = check_idents(cfg, ctxs)))
                goto out;

        for (size_t t = 0; t < cfg->ntopics; t++) {
                rc = register_aggregated(int_reg, cfg->topics[t].name,
                                         schemas[t], compat);
                if (rc)
                        goto out;
        }

        rc = KA_EXIT_FAIL;
        if (mkdir(out_dir, 0777) && errno != EEXIST) {
                rc = ka_cli_fail(CMD, "%s: %s", out_dir, strerror(errno));
                goto out;
        }
        for (size_t t = 0; t < cfg->ntopics; t++) {
                if (asprintf(&files[t], "%s.c",
                             json_string_value(
                                     json_object_get(ctxs[t], "ident"))) < 0) {
                        files[t] = NULL;
                        goto out;
                }
                if (ka_emit_render(agent_tpl, ctxs[t], out_dir, files[t],
                                   &stats, errstr, sizeof(errstr))) {
                        rc = ka_cli_fail(CMD, "%s", errstr);
                        goto out;
                }
        }
        files[cfg->ntopics] = strdup("agents_table.c");
        table = ka_model_table(cfg, ctxs, cfg->ntopics, KA_VERSION);
        if (!files[cfg->ntopics] || !table ||
            ka_emit_render(table_tpl, table, out_dir, files[cfg->ntopics],
                           &stats, errstr, sizeof(errstr)) ||
            ka_emit_remove_stale(out_dir, (const char *const *)files,
                                 cfg->ntopics + 1, &stats, errstr,
                                 sizeof(errstr))) {
                rc = ka_cli_fail(CMD, "%s", errstr);
                goto out;
        }
        printf("generate-agents: %zu agents from %s into %s/ (%zu files "
               "written, %zu unchanged, %zu removed); now run make\n",
               cfg->ntopics, config_file, out_dir, stats.written,
               stats.unchanged, stats.removed);
        rc = KA_EXIT_OK;

out:
        for (size_t i = 0; fetched && i < nsources; i++)
                fetched_release(&fetched[i]);
        for (size_t t = 0; cfg && t < cfg->ntopics; t++) {
                if (ctxs)
                        json_decref(ctxs[t]);
                if (schemas)
                        free(schemas[t]);
        }
        for (size_t t = 0; cfg && files && t <= cfg->ntopics; t++)
                free(files[t]);
        free(fetched);
        free(ctxs);
        free(schemas);
        free(files);
        json_decref(table);
        ka_mustache_destroy(agent_tpl);
        ka_mustache_destroy(table_tpl);
        ka_registry_destroy(src_reg);
        ka_registry_destroy(int_reg);
        ka_config_destroy(cfg);
        return rc;
}
