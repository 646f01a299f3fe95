/* Placeholder until the dev stack lands. */
#include "cli.h"
#include "devstack.h"

#include <stdio.h>

int ka_devstack_main(int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
        int c;

        while ((c = ka_cli_getopt(argc, argv, ":h", opts)) != -1) {
                if (c == 'h') {
                        printf("usage: kafkaaggregator dev-stack\n");
                        return 0;
                }
                return KA_EXIT_USAGE;
        }
        return KA_EXIT_FAIL;
}
