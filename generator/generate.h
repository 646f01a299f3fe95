/*
 * `kafkaaggregator generate-agents` (SPEC §3, §12): config -> schemas ->
 * templates -> agents/.
 */
#ifndef KA_GENERATE_H
#define KA_GENERATE_H

/* The command entry point; returns the exit status (2 for config errors). */
int ka_generate_main(int argc, char **argv);

#endif
