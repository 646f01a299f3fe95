/*
 * `kafkaaggregator consume` (SPEC §3): prints the messages of any topic as
 * JSON lines, decoding Confluent Avro through the Schema Registry, as
 * kafka-avro-console-consumer does. A debugging and testing aid.
 */
#ifndef KA_CONSUME_H
#define KA_CONSUME_H

/*
 * `kafkaaggregator consume --topic T [--max-messages N] [--from-beginning]
 * [--timeout S]`: assigns every partition of T (no consumer group offsets
 * are read or committed) at the beginning or the end, and prints one JSON
 * line per message on stdout: Confluent Avro decoded with the writer
 * schema fetched by id from SCHEMA_REGISTRY_URL and printed by
 * ka_avro_json() (avro-c's JSON, with NaN and infinities as the strings
 * "NaN", "Infinity", "-Infinity"), JSON payloads as they are, null
 * payloads as `null`. Anything else is skipped with a warning on
 * stderr. Stops after N messages, after S seconds without a message
 * (default 10, 0 = never) or on SIGINT/SIGTERM. Returns 0, 1 when the
 * topic does not exist or Kafka cannot be reached, 2 on a usage error.
 */
int ka_consume_main(int argc, char **argv);

#endif
