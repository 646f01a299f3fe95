/*
 * The few definitions of ka.h that are not inline: error names and
 * environment defaults.
 */
#include "ka.h"

#include <stdlib.h>

const char *ka_err_str(ka_err_t err)
{
        switch (err) {
        case KA_OK:
                return "ok";
        case KA_ERR_INVALID:
                return "invalid";
        case KA_ERR_TRUNCATED:
                return "truncated";
        case KA_ERR_OVERFLOW:
                return "overflow";
        case KA_ERR_NOT_FOUND:
                return "not found";
        case KA_ERR_CONFLICT:
                return "conflict";
        case KA_ERR_TRANSPORT:
                return "transport";
        case KA_ERR_NOMEM:
                return "out of memory";
        case KA_ERR_AUTH:
                return "unauthorized";
        case KA_ERR_IO:
                return "i/o error";
        case KA_ERR_TIME:
                return "bad event time";
        }
        return "unknown";
}

const char *ka_env(const char *name, const char *def)
{
        const char *v = getenv(name);

        return v && *v ? v : def;
}
