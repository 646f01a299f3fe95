/*
 * Schema compatibility as the dev registry decides it: two schema texts
 * (reader, then writer, split at the first NUL byte), checked both ways
 * and at every level. Invariant: schemas with one canonical form are
 * compatible both ways.
 */
#include "fuzz.h"

#include "avro_schema.h"
#include "schema_compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nul = memchr(data, 0, size);
        size_t n1 = nul ? (size_t)(nul - data) : size / 2;
        char *t1 = (char *)fuzz_copy(data, n1, true);
        char *t2 = (char *)fuzz_copy(data + n1 + (nul != NULL),
                                     size - n1 - (nul != NULL), true);
        char errstr[256], why[1024], *c1 = NULL, *c2 = NULL;
        ka_avro_schema_t *s1, *s2 = NULL;
        const ka_avro_node_t *r1, *r2;
        ka_err_t a, b;

        s1 = ka_avro_schema_parse(t1, errstr, sizeof(errstr));
        if (s1)
                s2 = ka_avro_schema_parse(t2, errstr, sizeof(errstr));
        if (!s2)
                goto out;
        r1 = ka_avro_schema_root(s1);
        r2 = ka_avro_schema_root(s2);
        a = ka_schema_compat_nodes(r1, r2, why, sizeof(why));
        b = ka_schema_compat_nodes(r2, r1, why, sizeof(why));
        c1 = ka_avro_schema_canonical_of(s1);
        c2 = ka_avro_schema_canonical_of(s2);
        if (!c1 || !c2)
                abort();
        if (!strcmp(c1, c2) && (a || b)) {
                fprintf(stderr, "same canonical form, incompatible: %s\n%s\n",
                        why, c1);
                abort();
        }
        for (int level = KA_COMPAT_NONE; level <= KA_COMPAT_FULL_TRANSITIVE;
             level++) {
                const ka_avro_node_t *existing[2] = {r1, r2};

                (void)ka_schema_compat_level((ka_compat_level_t)level, r2,
                                             existing, NULL, 2, why,
                                             sizeof(why));
        }
        (void)ka_schema_compat_check(t1, t2, why, sizeof(why));
out:
        free(c1);
        free(c2);
        ka_avro_schema_destroy(s1);
        ka_avro_schema_destroy(s2);
        free(t1);
        free(t2);
        return 0;
}
