/*
 * librdkafka's mock cluster (rdkafka_mock.h) on 127.0.0.1, on ports of our
 * choosing: the Kafka half of the embedded dev stack (SPEC §13).
 *
 * What the mock cluster of librdkafka 2.0.2 is like, for its clients:
 *   - no CreateTopics: a topic is created on first use (a producer's or an
 *     auto-creating consumer's metadata request) with 4 partitions, or in
 *     process with ka_mock_cluster_create_topic();
 *   - about 5 MiB of messages kept per partition; transactions are not
 *     enforced;
 *   - a consumer group's first join waits 3 s, and a rebalance waits for
 *     the members for session.timeout.ms - 1 s: clients in tests should
 *     use session.timeout.ms=6000 to keep rebalances short.
 *
 * The mock binds ephemeral ports and has no API to choose them; this
 * module interposes bind() (it defines it for the whole process) to move
 * each broker's listener to the port asked for. Outside
 * ka_mock_cluster_new() bind() passes straight through to the C
 * library's.
 */
#ifndef KA_MOCK_CLUSTER_H
#define KA_MOCK_CLUSTER_H

#include "ka.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KA_MOCK_MAX_BROKERS 32

/* Partitions of a topic the mock creates on first use. */
#define KA_MOCK_DEFAULT_PARTITIONS 4

typedef struct ka_mock_cluster_s ka_mock_cluster_t;

/* Whether 127.0.0.1:port can be bound now (errno in *err when not). */
bool ka_mock_port_free(uint16_t port, int *err);

/*
 * Starts nbrokers (1..KA_MOCK_MAX_BROKERS) brokers on first_port and the
 * ports after it, or on ephemeral ports when first_port is 0. Returns
 * NULL with errstr, which reads `port P is already in use` when a port
 * is taken.
 */
ka_mock_cluster_t *ka_mock_cluster_new(int nbrokers, uint16_t first_port,
                                       char *errstr, size_t errstr_size);

/* "127.0.0.1:P1,127.0.0.1:P2,..." (owned by mc). */
const char *ka_mock_cluster_bootstraps(const ka_mock_cluster_t *mc);

/*
 * Creates topic name with partitions partitions (replication: the broker
 * count, at most 3). KA_ERR_CONFLICT when it exists already; another
 * error with errstr.
 */
ka_err_t ka_mock_cluster_create_topic(ka_mock_cluster_t *mc, const char *name,
                                      int partitions, char *errstr,
                                      size_t errstr_size);

/*
 * Faults, for tests (SPEC §13; devstack/control.h serves them over HTTP).
 * broker is a broker id (1..nbrokers) or -1 for every broker.
 */

/* Down: connections dropped and refused (up: accepted again). */
ka_err_t ka_mock_cluster_set_up(ka_mock_cluster_t *mc, int32_t broker, bool up);

/* Every answer of broker delayed by rtt_ms (0: none). */
ka_err_t ka_mock_cluster_set_rtt(ka_mock_cluster_t *mc, int32_t broker,
                                 int rtt_ms);

/*
 * The next count requests of Kafka API api_key (0 Produce, 1 Fetch, 8
 * OffsetCommit, ...) to broker (-1: to any broker) fail with error err
 * (librdkafka's code); count 0 with broker -1 clears what is queued for
 * api_key.
 */
ka_err_t ka_mock_cluster_fail_requests(ka_mock_cluster_t *mc, int32_t broker,
                                       int16_t api_key, size_t count, int err);

/* Moves the leadership of a partition to broker (so that faults of one
 * broker hit chosen topics only). */
ka_err_t ka_mock_cluster_set_leader(ka_mock_cluster_t *mc, const char *topic,
                                    int32_t partition, int32_t broker);

/* Stops the brokers; NULL is a no-op. */
void ka_mock_cluster_destroy(ka_mock_cluster_t *mc);

#endif
