/*
 * Hashing for tables that untrusted input fills (names of schemas fetched
 * from a registry, group_by_key message keys): SipHash (Aumasson and
 * Bernstein, 2012) under a random key drawn once per process, so that no
 * one outside can compute keys that collide; and a map from strings built
 * on it, for the duplicate checks and lookups of schema parsing.
 */
#ifndef KA_HASH_H
#define KA_HASH_H

#include "ka.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 and SipHash-1-3 of data[0..len) under the 16-byte key
 * (k0 = bytes 0-7 and k1 = bytes 8-15, little-endian, as in the paper). */
uint64_t ka_hash_siphash24(const uint8_t key[16], const void *data, size_t len);
uint64_t ka_hash_siphash13(const uint8_t key[16], const void *data, size_t len);

/*
 * SipHash-1-3, under the process key, of the 8 bytes of word
 * (little-endian) followed by data[0..len): a table's hash of a key with
 * something of its own in front (a window start). The process key comes
 * from getrandom() on first use (thread-safe).
 */
uint64_t ka_hash_keyed(uint64_t word, const void *data, size_t len);

/* The process key (16 bytes), for tests. */
const uint8_t *ka_hash_process_key(void);

/*
 * A map from NUL-terminated strings to pointers, with keyed hashing.
 * Keys are borrowed: they must stay valid and unchanged while in the
 * map. Embed it; zero-initialized (or ka_strmap_init()) it is empty.
 */
typedef struct ka_strmap_slot_s {
        const char *key; /* NULL: empty */
        uint64_t hash;
        void *value;
} ka_strmap_slot_t;

typedef struct ka_strmap_s {
        ka_strmap_slot_t *slots;
        size_t mask; /* slots - 1, or 0 with no slots */
        size_t n;
} ka_strmap_t;

void ka_strmap_init(ka_strmap_t *map);
/* Frees the table (not the keys or values); the map is empty again. */
void ka_strmap_release(ka_strmap_t *map);

/* The value of key, or NULL when absent. */
void *ka_strmap_get(const ka_strmap_t *map, const char *key);

/*
 * Adds key -> value. KA_ERR_CONFLICT when key is there already (its value
 * is kept and, when old is not NULL, stored in *old), KA_ERR_NOMEM.
 */
ka_err_t ka_strmap_put(ka_strmap_t *map, const char *key, void *value,
                       void **old);

/*
 * A map from pairs of pointers to a size_t, for memos of work over two
 * graphs (which type pairs were found compatible, which default values
 * were found valid for which type). Pointers are not chosen from outside:
 * a fixed mix hashes them. Embed it; zero-initialized it is empty.
 */
typedef struct ka_ptrmap_slot_s {
        const void *a, *b; /* a NULL: empty */
        size_t value;
} ka_ptrmap_slot_t;

typedef struct ka_ptrmap_s {
        ka_ptrmap_slot_t *slots;
        size_t mask, n;
} ka_ptrmap_t;

void ka_ptrmap_release(ka_ptrmap_t *map);

/* Whether (a, b) is in the map (a not NULL), with its value in *value. */
bool ka_ptrmap_get(const ka_ptrmap_t *map, const void *a, const void *b,
                   size_t *value);

/* Sets (a, b) -> value (a not NULL). KA_OK or KA_ERR_NOMEM. */
ka_err_t ka_ptrmap_put(ka_ptrmap_t *map, const void *a, const void *b,
                       size_t value);

#endif
