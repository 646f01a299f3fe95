/*
 * Keyed hashing: SipHash-2-4 against the 64 test vectors of the reference
 * implementation (key 00..0f, message 00..len-1; vector 15 is the one the
 * paper prints, a129ca6149be45e5), SipHash-1-3 against CPython's own
 * (PYTHONHASHSEED=0 makes its key zero: hash(bytes(range(n)))), the keyed
 * form against its definition, and the string map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"

/* SipHash-2-4, key 00..0f, of the len bytes 00..len-1, len = 0..63. */
static const uint64_t sip24_vectors[64] = {
        UINT64_C(0x726fdb47dd0e0e31), UINT64_C(0x74f839c593dc67fd),
        UINT64_C(0x0d6c8009d9a94f5a), UINT64_C(0x85676696d7fb7e2d),
        UINT64_C(0xcf2794e0277187b7), UINT64_C(0x18765564cd99a68d),
        UINT64_C(0xcbc9466e58fee3ce), UINT64_C(0xab0200f58b01d137),
        UINT64_C(0x93f5f5799a932462), UINT64_C(0x9e0082df0ba9e4b0),
        UINT64_C(0x7a5dbbc594ddb9f3), UINT64_C(0xf4b32f46226bada7),
        UINT64_C(0x751e8fbc860ee5fb), UINT64_C(0x14ea5627c0843d90),
        UINT64_C(0xf723ca908e7af2ee), UINT64_C(0xa129ca6149be45e5),
        UINT64_C(0x3f2acc7f57c29bdb), UINT64_C(0x699ae9f52cbe4794),
        UINT64_C(0x4bc1b3f0968dd39c), UINT64_C(0xbb6dc91da77961bd),
        UINT64_C(0xbed65cf21aa2ee98), UINT64_C(0xd0f2cbb02e3b67c7),
        UINT64_C(0x93536795e3a33e88), UINT64_C(0xa80c038ccd5ccec8),
        UINT64_C(0xb8ad50c6f649af94), UINT64_C(0xbce192de8a85b8ea),
        UINT64_C(0x17d835b85bbb15f3), UINT64_C(0x2f2e6163076bcfad),
        UINT64_C(0xde4daaaca71dc9a5), UINT64_C(0xa6a2506687956571),
        UINT64_C(0xad87a3535c49ef28), UINT64_C(0x32d892fad841c342),
        UINT64_C(0x7127512f72f27cce), UINT64_C(0xa7f32346f95978e3),
        UINT64_C(0x12e0b01abb051238), UINT64_C(0x15e034d40fa197ae),
        UINT64_C(0x314dffbe0815a3b4), UINT64_C(0x027990f029623981),
        UINT64_C(0xcadcd4e59ef40c4d), UINT64_C(0x9abfd8766a33735c),
        UINT64_C(0x0e3ea96b5304a7d0), UINT64_C(0xad0c42d6fc585992),
        UINT64_C(0x187306c89bc215a9), UINT64_C(0xd4a60abcf3792b95),
        UINT64_C(0xf935451de4f21df2), UINT64_C(0xa9538f0419755787),
        UINT64_C(0xdb9acddff56ca510), UINT64_C(0xd06c98cd5c0975eb),
        UINT64_C(0xe612a3cb9ecba951), UINT64_C(0xc766e62cfcadaf96),
        UINT64_C(0xee64435a9752fe72), UINT64_C(0xa192d576b245165a),
        UINT64_C(0x0a8787bf8ecb74b2), UINT64_C(0x81b3e73d20b49b6f),
        UINT64_C(0x7fa8220ba3b2ecea), UINT64_C(0x245731c13ca42499),
        UINT64_C(0xb78dbfaf3a8d83bd), UINT64_C(0xea1ad565322a1a0b),
        UINT64_C(0x60e61c23a3795013), UINT64_C(0x6606d7e446282b93),
        UINT64_C(0x6ca4ecb15c5f91e1), UINT64_C(0x9f626da15c9625f3),
        UINT64_C(0xe51b38608ef25f57), UINT64_C(0x958a324ceb064572),
};

static void siphash24_matches_the_reference_vectors(void **state)
{
        uint8_t key[16], msg[64];

        for (int i = 0; i < 16; i++)
                key[i] = (uint8_t)i;
        for (int i = 0; i < 64; i++)
                msg[i] = (uint8_t)i;
        assert_true(ka_hash_siphash24(key, msg, 15) ==
                    UINT64_C(0xa129ca6149be45e5));
        for (size_t len = 0; len < 64; len++)
                if (ka_hash_siphash24(key, msg, len) != sip24_vectors[len])
                        fail_msg("length %zu: %016llx", len,
                                 (unsigned long long)ka_hash_siphash24(key, msg,
                                                                       len));
}

static void siphash13_matches_cpython(void **state)
{
        /* PYTHONHASHSEED=0 python3 -c 'print(hash(bytes(range(n))))',
         * as unsigned. */
        static const struct {
                size_t len;
                uint64_t hash;
        } want[] = {
                {1, UINT64_C(0x68a914128e01e473)},
                {3, UINT64_C(0x4d4c9a4a8ef6e0ad)},
                {7, UINT64_C(0x2f098ab0c751325a)},
                {8, UINT64_C(0xead411e67ebe2eea)},
                {9, UINT64_C(0x75927f9d95124362)},
                {15, UINT64_C(0xf30eb725bb91c9ea)},
                {16, UINT64_C(0x8972188433a5c5b7)},
                {17, UINT64_C(0x4883c49a2c009c1d)},
                {63, UINT64_C(0x385d3e39e5f37359)},
        };
        uint8_t key[16] = {0}, msg[64];

        for (int i = 0; i < 64; i++)
                msg[i] = (uint8_t)i;
        for (size_t i = 0; i < KA_ARRAY_SIZE(want); i++)
                assert_true(ka_hash_siphash13(key, msg, want[i].len) ==
                            want[i].hash);
}

static void keyed_hash_is_siphash13_of_word_and_data(void **state)
{
        const uint8_t *key = ka_hash_process_key();
        uint8_t buf[8 + 40];
        uint64_t word = UINT64_C(0x0102030405060708);
        int zero = 1;

        for (int i = 0; i < 16; i++)
                zero &= key[i] == 0;
        assert_false(zero);
        for (int i = 0; i < 8; i++)
                buf[i] = (uint8_t)(word >> (8 * i));
        for (int i = 0; i < 40; i++)
                buf[8 + i] = (uint8_t)(i * 7);
        for (size_t len = 0; len <= 40; len++)
                assert_true(ka_hash_keyed(word, buf + 8, len) ==
                            ka_hash_siphash13(key, buf, 8 + len));
        assert_true(ka_hash_keyed(word, NULL, 0) ==
                    ka_hash_siphash13(key, buf, 8));
}

static void strmap_finds_what_was_put(void **state)
{
        enum { N = 100000 };
        char(*keys)[16] = malloc(N * sizeof(*keys));
        ka_strmap_t map;
        void *old = NULL;

        assert_non_null(keys);
        ka_strmap_init(&map);
        assert_null(ka_strmap_get(&map, "x"));
        for (size_t i = 0; i < N; i++) {
                snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
                assert_int_equal(ka_strmap_put(&map, keys[i], keys[i], NULL),
                                 KA_OK);
        }
        assert_int_equal(map.n, N);
        for (size_t i = 0; i < N; i++)
                assert_ptr_equal(ka_strmap_get(&map, keys[i]), keys[i]);
        assert_null(ka_strmap_get(&map, "k100000"));
        assert_null(ka_strmap_get(&map, ""));
        /* A second put keeps the first value and reports it. */
        assert_int_equal(ka_strmap_put(&map, "k7", NULL, &old),
                         KA_ERR_CONFLICT);
        assert_ptr_equal(old, keys[7]);
        assert_ptr_equal(ka_strmap_get(&map, "k7"), keys[7]);
        ka_strmap_release(&map);
        assert_null(ka_strmap_get(&map, "k7"));
        ka_strmap_release(&map);
        free(keys);
}

static void ptrmap_keeps_pairs_apart(void **state)
{
        enum { N = 1000 };
        static char a[N], b[N];
        ka_ptrmap_t map = {0};
        size_t v = 0;

        assert_false(ka_ptrmap_get(&map, a, b, &v));
        for (size_t i = 0; i < N; i++)
                for (size_t k = 0; k < 20; k++)
                        assert_int_equal(
                                ka_ptrmap_put(&map, &a[i], &b[k], i * 100 + k),
                                KA_OK);
        assert_int_equal(map.n, N * 20);
        for (size_t i = 0; i < N; i++) {
                for (size_t k = 0; k < 20; k++) {
                        assert_true(ka_ptrmap_get(&map, &a[i], &b[k], &v));
                        assert_int_equal(v, i * 100 + k);
                }
                assert_false(ka_ptrmap_get(&map, &b[i], &a[0], &v));
        }
        /* A second put replaces the value. */
        assert_int_equal(ka_ptrmap_put(&map, &a[3], &b[4], 7), KA_OK);
        assert_true(ka_ptrmap_get(&map, &a[3], &b[4], &v));
        assert_int_equal(v, 7);
        assert_int_equal(map.n, N * 20);
        ka_ptrmap_release(&map);
        assert_false(ka_ptrmap_get(&map, &a[3], &b[4], &v));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(siphash24_matches_the_reference_vectors),
                cmocka_unit_test(siphash13_matches_cpython),
                cmocka_unit_test(keyed_hash_is_siphash13_of_word_and_data),
                cmocka_unit_test(strmap_finds_what_was_put),
                cmocka_unit_test(ptrmap_keeps_pairs_apart),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
