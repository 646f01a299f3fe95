/*
 * The dev stack's control endpoint (SPEC §13): faults of the mock cluster
 * over HTTP on 127.0.0.1, for the fault tests and for anyone trying how
 * the worker copes. Every request is a POST; the answer is `ok` or a
 * one-line reason:
 *
 *   POST /brokers/{id|all}/down          connections dropped and refused
 *   POST /brokers/{id|all}/up            accepted again
 *   POST /brokers/{id|all}/rtt/{ms}      every answer delayed (0: none)
 *   POST /requests/{api}/fail/{n}/{err}  the next n requests of the Kafka
 *                                        API fail with err (n 0 clears)
 *   POST /brokers/{id}/requests/{api}/fail/{n}/{err}
 *                                        the same, to that broker only
 *   POST /topics/{topic}/{partition}/leader/{id}
 *                                        the partition led by broker id
 *
 * api is a name (Produce, Fetch, ListOffsets, Metadata, OffsetCommit,
 * OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup,
 * SyncGroup) or a number; err a librdkafka error name (MSG_SIZE_TOO_LARGE,
 * NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, ...) or a number.
 */
#ifndef KA_CONTROL_H
#define KA_CONTROL_H

#include "mock_cluster.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ka_control_s ka_control_t;

/* Serves mc (borrowed) on 127.0.0.1:port (0: any free port). NULL with
 * errstr, which reads `port P is already in use` when it is. */
ka_control_t *ka_control_new(ka_mock_cluster_t *mc, uint16_t port, char *errstr,
                             size_t errstr_size);

uint16_t ka_control_port(const ka_control_t *ctl);

/* Stops serving; NULL is a no-op. */
void ka_control_destroy(ka_control_t *ctl);

#endif
