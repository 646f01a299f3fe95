/*
 * The embedded dev stack (SPEC §13): librdkafka's mock cluster and a
 * Confluent-compatible Schema Registry (registry_server.h) in one process
 * on 127.0.0.1, for development, tests and the demo.
 *
 * What the mock cluster of librdkafka 2.0.2 is like, for its clients:
 *   - no CreateTopics: a topic is created on first use (a producer's or an
 *     auto-creating consumer's metadata request) with 4 partitions; the
 *     topics of --config-file are created at start with --partitions;
 *   - about 5 MiB of messages kept per partition; transactions are not
 *     enforced;
 *   - a consumer group's first join waits 3 s, and a rebalance waits for
 *     the members for session.timeout.ms - 1 s: clients in tests should
 *     use session.timeout.ms=6000 to keep rebalances short.
 *
 * The mock binds ephemeral ports and has no API to choose them; the dev
 * stack interposes bind() (this module defines it for the whole process)
 * to move each broker's listener to the port asked for. Outside that call
 * bind() passes straight through to the C library's.
 */
#ifndef KA_DEVSTACK_H
#define KA_DEVSTACK_H

/*
 * `kafkaaggregator dev-stack [--brokers N] [--kafka-port P]
 * [--registry-port P] [--config-file F] [--partitions P] [--env-file F]`:
 * starts both services, prints one line per service on stdout, writes
 * --env-file (KAFKA_BROKER_URL=..., SCHEMA_REGISTRY_URL=...) atomically
 * once both serve, and runs until SIGINT or SIGTERM; then removes the env
 * file and returns 0. Port 0 means any free port. A port in use fails
 * with `kafkaaggregator: dev-stack: port P is already in use` and status
 * 1; bad options and config errors with status 2.
 */
int ka_devstack_main(int argc, char **argv);

#endif
