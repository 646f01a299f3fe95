/*
 * The embedded dev stack (SPEC §13): librdkafka's mock cluster and a
 * Confluent-compatible Schema Registry in one process on 127.0.0.1.
 */
#ifndef KA_DEVSTACK_H
#define KA_DEVSTACK_H

/* `kafkaaggregator dev-stack`: runs until SIGINT/SIGTERM. */
int ka_devstack_main(int argc, char **argv);

#endif
