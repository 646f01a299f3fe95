/*
 * The example commands of SPEC §3: `init-example` creates the source topics
 * of a config and registers their example schema; `produce` fills them with
 * random Confluent Avro records at a fixed rate.
 */
#ifndef KA_EXAMPLE_H
#define KA_EXAMPLE_H

#include <stddef.h>

/* Namespace of every example record schema. */
#define KA_EXAMPLE_NAMESPACE "kafkaaggregator.example"

/* Largest --nfields: a record of 8 * (1 + N) bytes stays far below Kafka's
 * default 1 MB message limit. */
#define KA_EXAMPLE_MAX_FIELDS 10000

/*
 * The example record schema of topic as compact JSON: a record named after
 * the topic (ka_names_record_name()) in KA_EXAMPLE_NAMESPACE, with the
 * double fields `time`, then `value0` ... `value{nfields-1}`. nfields is
 * in [0, KA_EXAMPLE_MAX_FIELDS]. Returns a malloc'd string, or NULL when
 * out of memory or nfields is out of range.
 */
char *ka_example_schema_json(const char *topic, int nfields);

/*
 * `kafkaaggregator init-example [--config-file F] [--nfields N]
 * [--partitions P]`: creates every source topic of the config with the
 * Admin API (on a broker without CreateTopics, such as the dev stack's
 * mock, it uses the topics already there and says so) and registers the
 * example schema under `<topic>-value` in SCHEMA_REGISTRY_URL. One line
 * per topic on stdout. Returns the exit status: 0, 1 on failure, 2 on a
 * usage error.
 */
int ka_init_example_main(int argc, char **argv);

/*
 * `kafkaaggregator produce [--frequency HZ] [--max-messages N]
 * [--config-file F] [--array-length L]`: one Confluent Avro message per
 * source topic per tick (topic patterns expanded against the registry's
 * subjects), plausible random values of any schema (plausible.h), using
 * the latest `<topic>-value` schema. N < 1 runs until SIGINT/SIGTERM; a
 * run longer than 10 s logs its progress every 10 s. Prints a summary
 * line; returns 0, 1 when a message was not delivered or on failure, 2 on
 * a usage error.
 */
int ka_produce_main(int argc, char **argv);

#endif
