/*
 * Helpers shared by the cmocka unit tests: a reproducible random number
 * generator, and avro-c values (schema, generic class, value) filled with
 * random content, to encode with avro-c and compare against.
 */
#ifndef KA_TEST_H
#define KA_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>

/*
 * Random numbers: xorshift64*, so that every run of a test binary sees the
 * same sequence. The state is global to the binary; ka_test_seed() restarts
 * it (a nonzero seed; 0 is replaced by the default seed).
 */
void ka_test_seed(uint64_t seed);
uint64_t ka_test_rnd(void);
/* A number in [0, n); n must not be 0. */
size_t ka_test_rnd_below(size_t n);
/* 64-bit values biased toward every varint length and the edges. */
int64_t ka_test_rnd_long(void);

/* An avro-c schema parsed from json; fails the test when it does not parse.
 * The caller owns the reference. */
avro_schema_t ka_test_schema_parse(const char *json);

/*
 * An avro-c writer: a schema, its generic class and one value of it.
 * ka_test_writer_init() fails the test when json does not parse;
 * ka_test_writer_release() drops all three.
 */
typedef struct ka_test_writer_s {
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t value;
} ka_test_writer_t;

void ka_test_writer_init(ka_test_writer_t *w, const char *json);
void ka_test_writer_release(ka_test_writer_t *w);

/*
 * Random content for any avro-c value v (of any type): strings, bytes,
 * fixed, every varint length, any float and double bit pattern (NaN
 * included). Below depth 5, unions take their first branch and arrays and
 * maps stay empty, so that recursive types (whose first branch must then be
 * null or otherwise end) end. Call with depth 0.
 */
void ka_test_fill_random(avro_value_t *v, int depth);

#endif
