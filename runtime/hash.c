/*
 * SipHash, written from the paper's description (section 2: compression
 * rounds over 8-byte little-endian words, a last word holding the length
 * in its top byte, finalization rounds), and an open-addressing string
 * map on top of it.
 */
#include "hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t rotl(uint64_t x, unsigned b)
{
        return x << b | x >> (64 - b);
}

static inline uint64_t load64(const uint8_t *p)
{
        return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
               (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
               (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
               (uint64_t)p[7] << 56;
}

typedef struct sip_s {
        uint64_t v0, v1, v2, v3;
} sip_t;

static inline void sip_round(sip_t *s)
{
        s->v0 += s->v1;
        s->v1 = rotl(s->v1, 13);
        s->v1 ^= s->v0;
        s->v0 = rotl(s->v0, 32);
        s->v2 += s->v3;
        s->v3 = rotl(s->v3, 16);
        s->v3 ^= s->v2;
        s->v0 += s->v3;
        s->v3 = rotl(s->v3, 21);
        s->v3 ^= s->v0;
        s->v2 += s->v1;
        s->v1 = rotl(s->v1, 17);
        s->v1 ^= s->v2;
        s->v2 = rotl(s->v2, 32);
}

static inline void sip_init(sip_t *s, const uint8_t key[16])
{
        uint64_t k0 = load64(key), k1 = load64(key + 8);

        /* "somepseudorandomlygeneratedbytes" */
        s->v0 = k0 ^ UINT64_C(0x736f6d6570736575);
        s->v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
        s->v2 = k0 ^ UINT64_C(0x6c7967656e657261);
        s->v3 = k1 ^ UINT64_C(0x7465646279746573);
}

static inline void sip_word(sip_t *s, uint64_t m, int c)
{
        s->v3 ^= m;
        for (int i = 0; i < c; i++)
                sip_round(s);
        s->v0 ^= m;
}

/*
 * SipHash-c-d of data[0..len), with the 8 bytes of word (little-endian)
 * in front of them when with_word.
 */
static uint64_t siphash(const uint8_t key[16], bool with_word, uint64_t word,
                        const uint8_t *data, size_t len, int c, int d)
{
        size_t total = (with_word ? 8 : 0) + len, i;
        uint8_t last[8] = {0};
        sip_t s;

        sip_init(&s, key);
        if (with_word)
                sip_word(&s, word, c);
        for (i = 0; i + 8 <= len; i += 8)
                sip_word(&s, load64(data + i), c);
        if (len > i)
                memcpy(last, data + i, len - i);
        last[7] = (uint8_t)total;
        sip_word(&s, load64(last), c);
        s.v2 ^= 0xff;
        for (i = 0; i < (size_t)d; i++)
                sip_round(&s);
        return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t ka_hash_siphash24(const uint8_t key[16], const void *data, size_t len)
{
        return siphash(key, false, 0, data, len, 2, 4);
}

uint64_t ka_hash_siphash13(const uint8_t key[16], const void *data, size_t len)
{
        return siphash(key, false, 0, data, len, 1, 3);
}

static uint8_t process_key[16];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void key_init(void)
{
        size_t got = 0;
        ssize_t n;

        while (got < sizeof(process_key)) {
                n = getrandom(process_key + got, sizeof(process_key) - got, 0);
                if (n > 0)
                        got += (size_t)n;
                else if (n < 0 && errno != EINTR)
                        break;
        }
        if (got < sizeof(process_key)) {
                /* No getrandom (an old kernel, a seccomp sandbox): still
                 * unknown from outside, if weaker. */
                struct timespec ts;
                uint64_t mix[2];

                clock_gettime(CLOCK_MONOTONIC, &ts);
                mix[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32;
                mix[1] = (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&ts;
                memcpy(process_key, mix, sizeof(process_key));
        }
}

const uint8_t *ka_hash_process_key(void)
{
        pthread_once(&key_once, key_init);
        return process_key;
}

uint64_t ka_hash_keyed(uint64_t word, const void *data, size_t len)
{
        return siphash(ka_hash_process_key(), true, word, data, len, 1, 3);
}

/* ---- the string map ----------------------------------------------- */

void ka_strmap_init(ka_strmap_t *map)
{
        memset(map, 0, sizeof(*map));
}

void ka_strmap_release(ka_strmap_t *map)
{
        free(map->slots);
        ka_strmap_init(map);
}

static uint64_t hash_str(const char *key)
{
        return ka_hash_keyed(0, key, strlen(key));
}

/* The slot holding key, or the empty slot where it would go. */
static ka_strmap_slot_t *find(const ka_strmap_t *map, const char *key,
                              uint64_t hash)
{
        size_t i = (size_t)hash & map->mask;

        for (;;) {
                ka_strmap_slot_t *slot = &map->slots[i];

                if (!slot->key ||
                    (slot->hash == hash && !strcmp(slot->key, key)))
                        return slot;
                i = (i + 1) & map->mask;
        }
}

void *ka_strmap_get(const ka_strmap_t *map, const char *key)
{
        ka_strmap_slot_t *slot;

        if (!map->n)
                return NULL;
        slot = find(map, key, hash_str(key));
        return slot->key ? slot->value : NULL;
}

/* Doubles the table (16 slots at first); load stays <= 1/2. */
static bool grow(ka_strmap_t *map)
{
        size_t n = map->slots ? (map->mask + 1) * 2 : 16;
        ka_strmap_t bigger = {calloc(n, sizeof(ka_strmap_slot_t)), n - 1, 0};

        if (!bigger.slots)
                return false;
        for (size_t i = 0; map->slots && i <= map->mask; i++)
                if (map->slots[i].key)
                        *find(&bigger, map->slots[i].key, map->slots[i].hash) =
                                map->slots[i];
        bigger.n = map->n;
        free(map->slots);
        *map = bigger;
        return true;
}

ka_err_t ka_strmap_put(ka_strmap_t *map, const char *key, void *value,
                       void **old)
{
        uint64_t hash = hash_str(key);
        ka_strmap_slot_t *slot;

        if (map->slots) {
                slot = find(map, key, hash);
                if (slot->key) {
                        if (old)
                                *old = slot->value;
                        return KA_ERR_CONFLICT;
                }
        }
        if ((map->n + 1) * 2 > (map->slots ? map->mask + 1 : 0) && !grow(map))
                return KA_ERR_NOMEM;
        slot = find(map, key, hash);
        slot->key = key;
        slot->hash = hash;
        slot->value = value;
        map->n++;
        return KA_OK;
}

/* ---- the pointer-pair map ------------------------------------------ */

void ka_ptrmap_release(ka_ptrmap_t *map)
{
        free(map->slots);
        memset(map, 0, sizeof(*map));
}

static size_t ptr_slot(const ka_ptrmap_t *map, const void *a, const void *b)
{
        uint64_t h = (uint64_t)(uintptr_t)a * UINT64_C(0x9e3779b97f4a7c15) ^
                     (uint64_t)(uintptr_t)b * UINT64_C(0xc2b2ae3d27d4eb4f);

        return (size_t)(h ^ h >> 29) & map->mask;
}

static ka_ptrmap_slot_t *ptr_find(const ka_ptrmap_t *map, const void *a,
                                  const void *b)
{
        size_t i = ptr_slot(map, a, b);

        while (map->slots[i].a &&
               !(map->slots[i].a == a && map->slots[i].b == b))
                i = (i + 1) & map->mask;
        return &map->slots[i];
}

bool ka_ptrmap_get(const ka_ptrmap_t *map, const void *a, const void *b,
                   size_t *value)
{
        const ka_ptrmap_slot_t *slot;

        if (!map->n)
                return false;
        slot = ptr_find(map, a, b);
        if (!slot->a)
                return false;
        *value = slot->value;
        return true;
}

ka_err_t ka_ptrmap_put(ka_ptrmap_t *map, const void *a, const void *b,
                       size_t value)
{
        ka_ptrmap_slot_t *slot;

        if ((map->n + 1) * 2 > (map->slots ? map->mask + 1 : 0)) {
                size_t n = map->slots ? (map->mask + 1) * 2 : 64;
                ka_ptrmap_t bigger = {calloc(n, sizeof(ka_ptrmap_slot_t)),
                                      n - 1, map->n};

                if (!bigger.slots)
                        return KA_ERR_NOMEM;
                for (size_t i = 0; map->slots && i <= map->mask; i++)
                        if (map->slots[i].a)
                                *ptr_find(&bigger, map->slots[i].a,
                                          map->slots[i].b) = map->slots[i];
                free(map->slots);
                *map = bigger;
        }
        slot = ptr_find(map, a, b);
        if (!slot->a)
                map->n++;
        *slot = (ka_ptrmap_slot_t){a, b, value};
        return KA_OK;
}
