/*
 * Entry points of the commands that wrap a library of a lower layer
 * (SPEC §3): each parses its options and the environment, calls the
 * library and turns its result into an exit status. Each is called with
 * argv[0] = the command name. The example commands and consume have
 * headers of their own (example.h, consume.h).
 */
#ifndef KA_COMMANDS_H
#define KA_COMMANDS_H

/* `generate-agents`: generator/generate.h. */
int ka_generate_main(int argc, char **argv);

/* `agents [--json]`: the agents compiled into this binary. */
int ka_agents_main(int argc, char **argv);

/* `worker`: worker/worker.h. */
int ka_worker_main(int argc, char **argv);

/* `dev-stack`: devstack/devstack.h. */
int ka_devstack_main(int argc, char **argv);

#endif
