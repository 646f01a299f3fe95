/*
 * Avro schema texts as the registry, the generator and the worker meet
 * them, as raw text: fuzz_check_schema() (parsing, canonical and
 * normalized forms, self-compatibility, skip programs, the generator's
 * field model).
 */
#include "fuzz.h"

#include "avro_schema.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = (char *)fuzz_copy(data, size, true);

        /* A schema text is a C string: what follows a NUL is not seen. */
        ka_avro_schema_destroy(fuzz_check_schema(text));
        free(text);
        return 0;
}
