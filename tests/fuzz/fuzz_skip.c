/*
 * Skip programs over untrusted Avro data: a generated schema (fuzz.h)
 * compiled into a program, which then reads past the bytes left. When
 * the program claims a constant width, a successful skip must consume
 * exactly that many bytes. A first byte of 0xff instead takes a raw
 * program from the input (int32 words up to a 0x7fffffff word, then the
 * data): the interpreter must survive damaged programs too.
 */
#include "fuzz.h"

#include "avro_schema.h"
#include "avro_skip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run(const int32_t *prog, size_t len, const uint8_t *data,
                size_t size)
{
        uint8_t *copy = fuzz_copy(data, size, false);
        ka_avro_reader_t r;
        size_t width;
        bool fixed = ka_avro_skip_width(prog, len, &width);

        ka_avro_reader_init(&r, copy, size);
        if (!ka_avro_skip_program(&r, prog, len) && fixed &&
            (size_t)(r.p - copy) != width) {
                fprintf(stderr, "width %zu, skipped %zu\n", width,
                        (size_t)(r.p - copy));
                abort();
        }
        if (r.p < copy || r.p > copy + size)
                abort();
        free(copy);
}

static void raw(const uint8_t *data, size_t size)
{
        int32_t prog[256];
        size_t n = 0;

        while (size >= 4 && n < 256) {
                int32_t w;

                memcpy(&w, data, 4);
                data += 4;
                size -= 4;
                if (w == INT32_MAX)
                        break;
                prog[n++] = w;
        }
        run(prog, n, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fuzz_in_t in = {data, data + size};
        char errstr[256];
        ka_avro_schema_t *schema;
        int32_t *prog;
        size_t len;
        char *text;

        if (size && data[0] == 0xff) {
                raw(data + 1, size - 1);
                return 0;
        }
        text = fuzz_schema_gen(&in, NULL, 0, false);
        schema = ka_avro_schema_parse(text, errstr, sizeof(errstr));
        if (schema &&
            !ka_avro_skip_compile(ka_avro_schema_root(schema), &prog, &len)) {
                run(prog, len, in.p, fuzz_left(&in));
                free(prog);
        }
        ka_avro_schema_destroy(schema);
        free(text);
        return 0;
}
