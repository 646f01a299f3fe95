/*
 * Hostile schemas built from the fuzz bytes (fuzz_schema_gen(): huge,
 * deep, recursive, with mistakes) through every check of
 * fuzz_check_schema(), then a second generated schema checked for
 * compatibility with the first both ways.
 */
#include "fuzz.h"

#include "avro_schema.h"
#include "schema_compat.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_in_t in = {data, data + size};
        char *t1 = fuzz_schema_gen(&in, NULL, 0, fuzz_u8(&in) & 1);
        char *t2 = NULL, why[1024];
        ka_avro_schema_t *s1 = fuzz_check_schema(t1), *s2 = NULL;

        if (s1 && fuzz_left(&in)) {
                t2 = fuzz_schema_gen(&in, NULL, 0, true);
                s2 = fuzz_check_schema(t2);
        }
        if (s2) {
                (void)ka_schema_compat_nodes(ka_avro_schema_root(s1),
                                             ka_avro_schema_root(s2), why,
                                             sizeof(why));
                (void)ka_schema_compat_nodes(ka_avro_schema_root(s2),
                                             ka_avro_schema_root(s1), why,
                                             sizeof(why));
        }
        ka_avro_schema_destroy(s1);
        ka_avro_schema_destroy(s2);
        free(t1);
        free(t2);
        return 0;
}
