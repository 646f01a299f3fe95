/*
 * The dev stack's Schema Registry without HTTP: the fuzz bytes are up to
 * 16 requests (split at NUL bytes), each `METHOD PATH` on its first line
 * and its body after, handled in turn by one fresh registry. Invariants:
 * every answer has a known status and a JSON body (a Confluent error body
 * for errors); a schema just registered is then served under its id and
 * found by lookup under its subject with that id.
 */
#include "fuzz.h"

#include "registry_server.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REQUESTS 16

static json_t *answer(ka_registry_server_t *srv, const char *method,
                      const char *path, const char *body, size_t len,
                      unsigned *status)
{
        char *reply = NULL;
        json_t *json;

        *status =
                ka_registry_server_handle(srv, method, path, body, len, &reply);
        if (!reply)
                abort();
        switch (*status) {
        case 200:
        case 400:
        case 404:
        case 405:
        case 409:
        case 413:
        case 422:
                break;
        default:
                fprintf(stderr, "%s %s: status %u\n", method, path, *status);
                abort();
        }
        json = json_loads(reply, JSON_DECODE_ANY, NULL);
        /* GET .../schema answers the schema text as registered, which
         * the registry checked to be JSON. */
        if (!json) {
                fprintf(stderr, "%s %s: not JSON: %s\n", method, path, reply);
                abort();
        }
        if (*status != 200 &&
            (!json_is_integer(json_object_get(json, "error_code")) ||
             !json_is_string(json_object_get(json, "message")))) {
                fprintf(stderr, "%s %s: error body %s\n", method, path, reply);
                abort();
        }
        free(reply);
        return json;
}

/* After POST /subjects/S/versions answered {"id": N}. */
static void check_registered(ka_registry_server_t *srv, const char *path,
                             const char *body, size_t len, json_int_t id)
{
        char url[64], *lookup;
        unsigned status;
        json_t *json;
        size_t plen = strlen(path) - strlen("/versions");

        snprintf(url, sizeof(url), "/schemas/ids/%lld", (long long)id);
        json = answer(srv, "GET", url, NULL, 0, &status);
        if (status != 200 || !json_is_string(json_object_get(json, "schema")))
                abort();
        json_decref(json);

        lookup = strndup(path, plen);
        json = answer(srv, "POST", lookup, body, len, &status);
        if (status != 200 ||
            json_integer_value(json_object_get(json, "id")) != id) {
                fprintf(stderr, "registered as %lld, lookup: %u\n",
                        (long long)id, status);
                abort();
        }
        json_decref(json);
        free(lookup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ka_registry_server_t *srv = ka_registry_server_new_detached();
        const uint8_t *p = data, *end = data + size;

        if (!srv)
                abort();
        for (int i = 0; i < MAX_REQUESTS && p < end; i++) {
                const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
                size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
                char *req = (char *)fuzz_copy(p, n, true);
                char *line_end = strchr(req, '\n'), *sp, *body = "";
                size_t blen = 0;
                unsigned status;
                json_t *json;

                p += n + (nul != NULL);
                if (line_end) {
                        *line_end = '\0';
                        body = line_end + 1;
                        blen = n - (size_t)(body - req);
                }
                sp = strchr(req, ' ');
                if (sp)
                        *sp = '\0';
                json = answer(srv, req, sp ? sp + 1 : "/", body, blen, &status);
                if (sp && !strcmp(req, "POST") && status == 200 &&
                    strlen(sp + 1) > strlen("/versions") &&
                    !strcmp(sp + 1 + strlen(sp + 1) - strlen("/versions"),
                            "/versions") &&
                    json_is_integer(json_object_get(json, "id")))
                        check_registered(srv, sp + 1, body, blen,
                                         json_integer_value(
                                                 json_object_get(json, "id")));
                json_decref(json);
                free(req);
        }
        ka_registry_server_destroy(srv);
        return 0;
}
