/*
 * Definitions every module of the runtime, the generator and the generated
 * agents share: the error enum, the version and environment defaults.
 */
#ifndef KA_H
#define KA_H

#include <stdint.h>
#include <string.h>

#ifndef KA_VERSION
#define KA_VERSION "0.0.0"
#endif

/* Results of fallible runtime calls; KA_OK is zero so `if (err)` works. */
typedef enum ka_err_e {
        KA_OK = 0,
        KA_ERR_INVALID,   /* malformed input: config, schema, payload */
        KA_ERR_TRUNCATED, /* input ended before the value did */
        KA_ERR_OVERFLOW,  /* a number out of its type's range */
        KA_ERR_NOT_FOUND, /* a subject, version, schema or topic is absent */
        KA_ERR_CONFLICT,  /* incompatible schema, port in use, ... */
        KA_ERR_TRANSPORT, /* network or HTTP failure worth a retry */
        KA_ERR_NOMEM,
        KA_ERR_IO,
        KA_ERR_AUTH, /* credentials refused (HTTP 401, 403) */
        KA_ERR_TIME, /* an event time that is NaN, infinite or out of range */
} ka_err_t;

/* A short lowercase name for err ("truncated", "invalid", ...). */
const char *ka_err_str(ka_err_t err);

/* getenv(name) when set and non-empty, else def. */
const char *ka_env(const char *name, const char *def);

#define KA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The bits of a double and back (a memcpy: no aliasing questions). */
static inline uint64_t ka_double_bits(double v)
{
        uint64_t u;

        memcpy(&u, &v, sizeof(u));
        return u;
}

static inline double ka_bits_double(uint64_t u)
{
        double v;

        memcpy(&v, &u, sizeof(v));
        return v;
}

/* The value of hexadecimal digit c (either case), or -1. */
static inline int ka_hex_digit(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

#endif
