/*
 * What the Schema Registry client makes of the answers it gets: the fuzz
 * bytes are a list of answers (split at "\x00\x00"; the first byte of each
 * picks the HTTP status, the rest is the body), served by a stand-in
 * transport to every call of registry.h in turn (one answer each; none
 * left is a connection failure). Invariants: a result is KA_OK with every
 * promised field, or an error whose message is one printable line naming
 * the registry.
 */
#include "fuzz.h"

#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct answers_s {
        const uint8_t *p, *end;
        uint8_t *body; /* the current answer's body */
} answers_t;

static const long statuses[] = {200, 200, 200, 201, 204, 299, 301, 400,
                                401, 404, 409, 422, 500, 503, 599, 100};

static ka_err_t serve(void *opaque, const char *method, const char *url,
                      const char *payload, long *status, const char **body,
                      size_t *len)
{
        static const uint8_t sep[2] = {0, 0};
        answers_t *a = opaque;
        const uint8_t *next;
        size_t n;

        (void)method;
        (void)url;
        (void)payload;
        free(a->body);
        a->body = NULL;
        if (a->p >= a->end)
                return KA_ERR_TRANSPORT;
        n = (size_t)(a->end - a->p);
        next = memmem(a->p, n, sep, 2);
        if (next)
                n = (size_t)(next - a->p);
        *status = statuses[n ? a->p[0] % 16 : 0];
        a->body = fuzz_copy(a->p + (n > 0), n - (n > 0), false);
        *body = (const char *)a->body;
        *len = n - (n > 0);
        a->p += n + (next ? 2 : 0);
        return KA_OK;
}

static void check_msg(ka_err_t err, const char *errstr)
{
        if (!err)
                return;
        if (strncmp(errstr, "schema registry http://registry.invalid", 39)) {
                fprintf(stderr, "message: '%s'\n", errstr);
                abort();
        }
        for (const char *c = errstr; *c; c++) {
                if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                        fprintf(stderr, "control character in '%s'\n", errstr);
                        abort();
                }
        }
}

static void check_info(ka_err_t err, const ka_schema_info_t *info)
{
        if (err) {
                if (info->subject || info->schema)
                        abort();
                return;
        }
        if (!info->subject || !info->schema || info->id < 0 ||
            info->version < 1)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        answers_t a = {data, data + size, NULL};
        ka_registry_opts_t opts = {
                .max_attempts = 1, .transport = serve, .transport_opaque = &a};
        char errstr[1024];
        const char *schema;
        ka_schema_info_t info;
        ka_registry_t *reg;
        int32_t id;
        char *level;
        ka_err_t err;

        reg = ka_registry_new("http://u:p@registry.invalid", &opts, errstr,
                              sizeof(errstr));
        if (!reg)
                abort();
        err = ka_registry_latest(reg, "t-value", &info, errstr, sizeof(errstr));
        check_info(err, &info);
        check_msg(err, errstr);
        ka_schema_info_release(&info);
        err = ka_registry_version(reg, "t-value", 3, &info, errstr,
                                  sizeof(errstr));
        check_info(err, &info);
        check_msg(err, errstr);
        ka_schema_info_release(&info);
        for (int i = 0; i < 2; i++) { /* the second may come from the cache */
                err = ka_registry_schema_by_id(reg, 7, &schema, errstr,
                                               sizeof(errstr));
                if (!err != !!schema)
                        abort();
                check_msg(err, errstr);
        }
        err = ka_registry_register(reg, "t-value", "\"double\"", &id, errstr,
                                   sizeof(errstr));
        if (!err && id < 0)
                abort();
        check_msg(err, errstr);
        err = ka_registry_lookup(reg, "t-value", "\"double\"", &info, errstr,
                                 sizeof(errstr));
        check_info(err, &info);
        check_msg(err, errstr);
        ka_schema_info_release(&info);
        err = ka_registry_get_compatibility(reg, NULL, &level, errstr,
                                            sizeof(errstr));
        if (!err != !!level || (level && !*level))
                abort();
        check_msg(err, errstr);
        free(level);
        err = ka_registry_set_compatibility(reg, "t-value", "FULL", errstr,
                                            sizeof(errstr));
        check_msg(err, errstr);
        ka_registry_destroy(reg);
        free(a.body);
        return 0;
}
