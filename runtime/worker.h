/*
 * `kafkaaggregator worker` (SPEC §9-§11): runs every compiled agent.
 */
#ifndef KA_WORKER_H
#define KA_WORKER_H

/* The command entry point: runs until SIGTERM/SIGINT; exit status 0 after
 * a clean stop. */
int ka_worker_main(int argc, char **argv);

#endif
