/*
 * The agent model: one aggregated topic of the config joined with its
 * source schemas, checked (SPEC §4, §5, §8), and turned into the aggregated
 * record schema and the Mustache context the templates render.
 */
#ifndef KA_MODEL_H
#define KA_MODEL_H

#include "config.h"
#include "schema.h"

#include <jansson.h>
#include <stdint.h>

/* A source topic's writer schema as the schema source gave it. */
typedef struct ka_model_source_s {
        const ka_config_source_t *cfg;
        const ka_schema_t *schema;
        const char *schema_json; /* Parsing Canonical Form */
        const char *subject;
        const char *origin; /* for a comment: where the schema came from */
        int32_t schema_id;  /* 0: unknown (from a file) */
        int32_t schema_version;
} ka_model_source_t;

/*
 * Builds the rendering context of one agent (sources[] parallel to
 * topic->sources); config_name is the config's path as generated files
 * name it. On success returns a new json_t and sets *record_schema to the
 * aggregated record schema (malloc'd JSON). Errors that the config can be
 * blamed for come as "FILE:LINE:COL: error: ..." in errstr; the result is
 * then NULL.
 */
json_t *ka_model_agent(const ka_config_t *cfg, const ka_config_topic_t *topic,
                       const ka_model_source_t *sources, const char *version,
                       const char *config_name, char **record_schema,
                       char *errstr, size_t errstr_size);

/* The context of the agents table: the model contexts of every agent. */
json_t *ka_model_table(json_t *const *agents, size_t nagents,
                       const char *version, const char *config_name);

#endif
