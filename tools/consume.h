/*
 * `kafkaaggregator consume` (SPEC §3): prints the messages of any topic as
 * JSON lines, decoding Confluent Avro through the Schema Registry, as
 * kafka-avro-console-consumer does. A debugging and testing aid.
 */
#ifndef KA_CONSUME_H
#define KA_CONSUME_H

/*
 * `kafkaaggregator consume --topic T [--partition N] [--offset O]
 * [--from-beginning] [-e] [--print-key] [--print-metadata]
 * [--max-messages N] [--timeout S]`: assigns every partition of T (or
 * partition N; no consumer group offsets are read or committed) at the
 * end, the beginning (--from-beginning, --offset beginning), offset O
 * (clamped to the offsets the partition holds) or -O: O messages before
 * the end, and prints one JSON line per message on stdout: Confluent Avro
 * decoded with the writer schema fetched by id from SCHEMA_REGISTRY_URL
 * and printed by ka_avro_json() (avro-c's JSON with numbers in their
 * shortest text and NaN and infinities as the strings "NaN", "Infinity",
 * "-Infinity"), JSON payloads as they are, null payloads as `null`.
 * Anything else is skipped with a warning on stderr. With --print-key or
 * --print-metadata each line is an object holding what was asked for, in
 * this order: "partition", "offset", "timestamp" (milliseconds, or null),
 * "key" (decoded as a value is, other keys as JSON strings, null), then
 * "value". Stops after N messages, after S seconds without a message
 * (default 10, 0 = never), with -e once every partition was read up to the
 * high watermark it had at start (later messages are not printed), or on
 * SIGINT/SIGTERM. Returns 0, 1 when the topic or the partition does not
 * exist or Kafka cannot be reached, 2 on a usage error.
 */
int ka_consume_main(int argc, char **argv);

#endif
