/*
 * Where generate-agents takes the source topics' writer schemas from: the
 * Schema Registry (the latest version of subject `<topic>-value`), or a
 * directory of `<topic>.avsc` files, which needs no network (golden tests,
 * offline builds).
 */
#ifndef KA_SCHEMA_SOURCE_H
#define KA_SCHEMA_SOURCE_H

#include "ka.h"
#include "registry.h"

#include <stddef.h>

typedef struct ka_schema_source_s ka_schema_source_t;

/* Schemas from the registry reg (borrowed: it must outlive the source). */
ka_schema_source_t *ka_schema_source_registry(ka_registry_t *reg);

/* Schemas from dir/<topic>.avsc (dir is copied). */
ka_schema_source_t *ka_schema_source_dir(const char *dir);

void ka_schema_source_destroy(ka_schema_source_t *src);

/*
 * The writer schema of topic. From the registry, *info is the latest
 * version of `<topic>-value`; from a directory, info->subject is
 * `<topic>-value`, info->schema the file's text, and info->id and
 * info->version are 0 (unknown: the worker learns the ids of the schema
 * from the messages). Release *info with ka_schema_info_release().
 * Errors as ka_registry_latest(); KA_ERR_NOT_FOUND when the file is
 * missing, KA_ERR_IO when it cannot be read.
 */
ka_err_t ka_schema_source_get(ka_schema_source_t *src, const char *topic,
                              ka_schema_info_t *info, char *errstr,
                              size_t errstr_size);

/*
 * The topics the source knows, sorted by name (for topic patterns, SPEC
 * §4): from the registry, those of its `<topic>-value` subjects; from a
 * directory, those of its `<topic>.avsc` files. *topics is a malloc'd
 * array of *n malloc'd strings; free it with ka_schema_source_topics_free().
 * Errors as ka_registry_subjects(); KA_ERR_IO when the directory cannot be
 * read.
 */
ka_err_t ka_schema_source_topics(ka_schema_source_t *src, char ***topics,
                                 size_t *n, char *errstr, size_t errstr_size);

void ka_schema_source_topics_free(char **topics, size_t n);

/* Where the topics come from, for messages: "the <topic>-value subjects of
 * the registry URL" or "the .avsc files of DIR" (malloc'd). */
char *ka_schema_source_where(const ka_schema_source_t *src);

/*
 * "subject S, version V, schema id I" or "file DIR/T.avsc" style words
 * for generated comments, naming where info came from (malloc'd).
 */
char *ka_schema_source_origin(const ka_schema_source_t *src,
                              const ka_schema_info_t *info);

#endif
