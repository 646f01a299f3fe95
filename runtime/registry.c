/*
 * Schema Registry client: libcurl for HTTP (one kept-alive easy handle per
 * registry, behind a mutex), jansson for the bodies, bounded retries with
 * jittered exponential backoff, and an id -> schema cache that never
 * forgets (ids are immutable in the registry).
 */
#include "registry.h"
#include "log.h"

#include <curl/curl.h>
#include <jansson.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 2000L
#define DEFAULT_REQUEST_TIMEOUT_MS 10000L
#define DEFAULT_MAX_ATTEMPTS       5
#define DEFAULT_BACKOFF_INITIAL_MS 100L
#define DEFAULT_BACKOFF_MAX_MS     2000L

/* Larger answers are refused: the biggest real schemas are a few MB. */
#define MAX_BODY (64u << 20)
/* How much of a non-JSON error body goes into a message. */
#define BODY_SNIPPET 120
/* Granularity at which a backoff wait notices opts.cancel. */
#define CANCEL_POLL_MS 50L

#define CONTENT_TYPE "application/vnd.schemaregistry.v1+json"

typedef struct cache_slot_s {
        int32_t id;
        char *schema; /* NULL: empty slot */
} cache_slot_t;

struct ka_registry_s {
        char *url; /* no user info, no trailing '/' */
        char *user;
        char *password;
        ka_registry_opts_t opts;
        atomic_uint_least64_t nrequests;

        /* lock guards curl, headers, errbuf, body and rng. */
        pthread_mutex_t lock;
        CURL *curl;
        struct curl_slist *headers;
        char errbuf[CURL_ERROR_SIZE];
        char *body;
        size_t body_len;
        size_t body_cap;
        bool body_too_large;
        uint32_t rng;

        /* cache_lock guards the open-addressing table of id -> schema. */
        pthread_mutex_t cache_lock;
        cache_slot_t *slots;
        size_t nslots; /* 0 or a power of two */
        size_t nused;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
        /* Process-wide and never undone: other modules may use curl too. */
        curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void ka_schema_info_release(ka_schema_info_t *info)
{
        if (!info)
                return;
        free(info->subject);
        free(info->schema);
        memset(info, 0, sizeof(*info));
}

__attribute__((format(printf, 3, 4))) static void
set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;

        if (!errstr || !errstr_size)
                return;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

void ka_registry_redact_url(const char *url, char *out, size_t out_size)
{
        const char *start, *end, *at = NULL, *colon = NULL, *p;
        size_t n;

        if (!out_size)
                return;
        out[0] = '\0';
        if (!url)
                return;
        start = strstr(url, "://");
        start = start ? start + 3 : url;
        end = start + strcspn(start, "/?#");
        for (p = start; p < end; p++) {
                if (*p == '@')
                        at = p;
        }
        if (!at) {
                snprintf(out, out_size, "%s", url);
                return;
        }
        colon = memchr(start, ':', (size_t)(at - start));
        /* Keep the scheme and the user name; without ':' the user info
         * may be a token, so it all goes. */
        n = (size_t)((colon ? colon : start) - url);
        snprintf(out, out_size, "%.*s%s%s", (int)n, url, colon ? ":***" : "***",
                 at);
}

/* Copies s into out, control characters (a server may send any) as ' '. */
static void copy_printable(char *out, size_t out_size, const char *s,
                           size_t len)
{
        size_t i;

        if (!out_size)
                return;
        if (len > out_size - 1)
                len = out_size - 1;
        for (i = 0; i < len && s[i]; i++)
                out[i] =
                        (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
        out[i] = '\0';
}

ka_err_t ka_registry_status_error(long status, const char *body, size_t len,
                                  char *msg, size_t msg_size)
{
        char text[512];
        json_t *root = NULL, *code, *message;
        ka_err_t err;

        if (body && len)
                root = json_loadb(body, len, 0, NULL);
        code = json_object_get(root, "error_code");
        message = json_object_get(root, "message");

        /* A 404 is an answer of the registry only with its error body
         * (40401 subject, 40402 version, 40403 schema not found); a bare
         * one comes from whatever stands in front of it: a wrong URL or a
         * proxy, worth a retry rather than a verdict. */
        if (status == 404)
                err = json_integer_value(code) / 100 == 404 ? KA_ERR_NOT_FOUND
                                                            : KA_ERR_TRANSPORT;
        else if (status == 401 || status == 403)
                err = KA_ERR_AUTH;
        else if (status == 409)
                err = KA_ERR_CONFLICT;
        else if (status >= 500 && status <= 599)
                err = KA_ERR_TRANSPORT;
        else
                err = KA_ERR_INVALID;

        if (json_is_integer(code)) {
                const char *m = json_string_value(message);

                if (!m)
                        m = "(no message)";
                copy_printable(text, sizeof(text), m, strlen(m));
                set_err(msg, msg_size,
                        "HTTP %ld (error_code %" JSON_INTEGER_FORMAT "): %s",
                        status, json_integer_value(code), text);
        } else if (body && len) {
                copy_printable(text, sizeof(text), body,
                               len < BODY_SNIPPET ? len : BODY_SNIPPET);
                set_err(msg, msg_size, "HTTP %ld: %s%s", status, text,
                        len > BODY_SNIPPET ? "..." : "");
        } else {
                set_err(msg, msg_size, "HTTP %ld: empty body", status);
        }
        json_decref(root);
        return err;
}

/* Appends n bytes to the answer's body; false when it cannot. */
static bool append_body(ka_registry_t *reg, const char *data, size_t n)
{
        size_t cap;
        char *body;

        if (n > MAX_BODY - reg->body_len) {
                reg->body_too_large = true;
                return false;
        }
        if (reg->body_len + n + 1 > reg->body_cap) {
                cap = reg->body_cap ? reg->body_cap : 4096;
                while (cap < reg->body_len + n + 1)
                        cap *= 2;
                body = realloc(reg->body, cap);
                if (!body)
                        return false;
                reg->body = body;
                reg->body_cap = cap;
        }
        memcpy(reg->body + reg->body_len, data, n);
        reg->body_len += n;
        reg->body[reg->body_len] = '\0';
        return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
        size_t n = size * nmemb;

        return append_body(opaque, data, n) ? n : 0;
}

static int on_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
        const ka_registry_t *reg = opaque;

        (void)dltotal;
        (void)dlnow;
        (void)ultotal;
        (void)ulnow;
        return *reg->opts.cancel != 0;
}

static bool cancelled(const ka_registry_t *reg)
{
        return reg->opts.cancel && *reg->opts.cancel;
}

/* xorshift32: enough to spread the retries of many workers. */
static uint32_t next_random(ka_registry_t *reg)
{
        uint32_t x = reg->rng;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        reg->rng = x;
        return x;
}

/* Sleeps ms, in slices so that opts.cancel is noticed. */
static void backoff_sleep(const ka_registry_t *reg, long ms)
{
        while (ms > 0 && !cancelled(reg)) {
                long slice = ms < CANCEL_POLL_MS ? ms : CANCEL_POLL_MS;
                struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};

                while (nanosleep(&ts, &ts) && errno == EINTR)
                        ;
                ms -= slice;
        }
}

/* Connection-level failures that a later attempt cannot fix. */
static bool curl_permanent(CURLcode rc)
{
        switch (rc) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
        case CURLE_OUT_OF_MEMORY:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_WRITE_ERROR:
        case CURLE_ABORTED_BY_CALLBACK:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_LOGIN_DENIED:
                return true;
        default:
                return false;
        }
}

/* perform() through opts.transport. */
static ka_err_t perform_transport(ka_registry_t *reg, const char *method,
                                  const char *url, const char *payload,
                                  long *status, bool *retry, char *why,
                                  size_t why_size)
{
        const char *body = NULL;
        size_t len = 0;

        atomic_fetch_add(&reg->nrequests, 1);
        *retry = false;
        if (reg->opts.transport(reg->opts.transport_opaque, method, url,
                                payload, status, &body, &len)) {
                set_err(why, why_size, "transport failure");
                *retry = true;
                return KA_ERR_TRANSPORT;
        }
        if (len && !append_body(reg, body, len)) {
                if (reg->body_too_large) {
                        set_err(why, why_size, "response larger than %u bytes",
                                MAX_BODY);
                        return KA_ERR_INVALID;
                }
                set_err(why, why_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        return KA_OK;
}

/*
 * One attempt. Returns KA_OK with *status set when an HTTP answer came
 * back (reg->body holds it), else a result with reason in why.
 */
static ka_err_t perform(ka_registry_t *reg, const char *method, const char *url,
                        const char *payload, long *status, bool *retry,
                        char *why, size_t why_size)
{
        CURL *curl = reg->curl;
        CURLcode rc;

        reg->body_len = 0;
        reg->body_too_large = false;
        reg->errbuf[0] = '\0';
        if (reg->body)
                reg->body[0] = '\0';
        if (reg->opts.transport)
                return perform_transport(reg, method, url, payload, status,
                                         retry, why, why_size);

        rc = curl_easy_setopt(curl, CURLOPT_URL, url);
        if (!rc && payload) {
                rc = curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
                                      (long)strlen(payload));
                if (!rc)
                        rc = curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
                                              payload);
        } else if (!rc) {
                rc = curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        }
        /* POSTFIELDS makes a POST; PUT is the same request renamed. The
         * handle is reused, so the name is reset for every request. */
        if (!rc)
                rc = curl_easy_setopt(
                        curl, CURLOPT_CUSTOMREQUEST,
                        strcmp(method, "GET") && strcmp(method, "POST") ? method
                                                                        : NULL);
        if (!rc)
                rc = curl_easy_perform(curl);
        atomic_fetch_add(&reg->nrequests, 1);

        *retry = false;
        if (rc == CURLE_ABORTED_BY_CALLBACK) {
                set_err(why, why_size, "interrupted");
                return KA_ERR_TRANSPORT;
        }
        if (reg->body_too_large) {
                set_err(why, why_size, "response larger than %u bytes",
                        MAX_BODY);
                return KA_ERR_INVALID;
        }
        if (rc == CURLE_OUT_OF_MEMORY ||
            (rc == CURLE_WRITE_ERROR && !reg->body_too_large)) {
                set_err(why, why_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        if (rc) {
                set_err(why, why_size, "%s",
                        reg->errbuf[0] ? reg->errbuf : curl_easy_strerror(rc));
                *retry = !curl_permanent(rc);
                return KA_ERR_TRANSPORT;
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
        return KA_OK;
}

/*
 * Sends METHOD path (path begins with '/') with an optional JSON payload
 * and, on a 2xx answer, parses the body into *out. Retries transport
 * failures and 5xx answers; see the header for results and messages.
 */
static ka_err_t request(ka_registry_t *reg, const char *method,
                        const char *path, const char *payload, json_t **out,
                        char *errstr, size_t errstr_size)
{
        char why[768] = "", *url;
        long status = 0, wait_ms = reg->opts.backoff_initial_ms, d;
        int attempt = 0;
        bool retry = false;
        json_error_t jerr;
        ka_err_t err;

        *out = NULL;
        if (asprintf(&url, "%s%s", reg->url, path) < 0) {
                set_err(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }

        pthread_mutex_lock(&reg->lock);
        for (;;) {
                if (cancelled(reg)) {
                        /* Keep the reason of the last attempt, if any. */
                        char last[sizeof(why)];

                        snprintf(last, sizeof(last), "%s", why);
                        set_err(why, sizeof(why), "interrupted%s%s",
                                attempt ? "; last error: " : "",
                                attempt ? last : "");
                        err = KA_ERR_TRANSPORT;
                        break;
                }
                attempt++;
                err = perform(reg, method, url, payload, &status, &retry, why,
                              sizeof(why));
                if (!err && status >= 200 && status <= 299) {
                        *out = json_loadb(reg->body ? reg->body : "",
                                          reg->body_len, 0, &jerr);
                        if (!*out) {
                                /* jansson quotes the bad token as is. */
                                char text[sizeof(jerr.text)];

                                copy_printable(text, sizeof(text), jerr.text,
                                               strlen(jerr.text));
                                set_err(why, sizeof(why),
                                        "HTTP %ld: malformed JSON answer: %s",
                                        status, text);
                                err = KA_ERR_INVALID;
                        }
                        break;
                }
                if (!err) {
                        err = ka_registry_status_error(status, reg->body,
                                                       reg->body_len, why,
                                                       sizeof(why));
                        retry = err == KA_ERR_TRANSPORT;
                }
                if (!retry || attempt >= reg->opts.max_attempts)
                        break;
                d = wait_ms / 2 + (long)(next_random(reg) %
                                         (uint32_t)(wait_ms - wait_ms / 2 + 1));
                ka_warn("schema registry %s: %s %s: %s; retrying in %ld ms "
                        "(attempt %d of %d)",
                        reg->url, method, path, why, d, attempt,
                        reg->opts.max_attempts);
                backoff_sleep(reg, d);
                wait_ms = wait_ms > reg->opts.backoff_max_ms / 2
                                  ? reg->opts.backoff_max_ms
                                  : wait_ms * 2;
        }
        pthread_mutex_unlock(&reg->lock);

        if (err) {
                if (attempt > 1)
                        set_err(errstr, errstr_size,
                                "schema registry %s: %s %s: %s (gave up "
                                "after %d attempts)",
                                reg->url, method, path, why, attempt);
                else
                        set_err(errstr, errstr_size,
                                "schema registry %s: %s %s: %s", reg->url,
                                method, path, why);
        }
        free(url);
        return err;
}

/*
 * *path = prefix + escaped subject + suffix, or prefix without its final
 * '/' when subject is NULL and may be (the global /config).
 */
static ka_err_t subject_path(const ka_registry_t *reg, const char *prefix,
                             const char *subject, bool may_be_null,
                             const char *suffix, char **path, char *errstr,
                             size_t errstr_size)
{
        char *esc = NULL;
        int n;

        *path = NULL;
        if (!subject && may_be_null) {
                n = asprintf(path, "%.*s%s", (int)strlen(prefix) - 1, prefix,
                             suffix);
        } else if (!subject || !*subject) {
                set_err(errstr, errstr_size,
                        "schema registry %s: empty subject", reg->url);
                return KA_ERR_INVALID;
        } else {
                /* The handle argument is unused by libcurl >= 7.82; NULL
                 * keeps this off reg->curl, which another thread may be
                 * using. */
                esc = curl_easy_escape(NULL, subject, 0);
                n = esc ? asprintf(path, "%s%s%s", prefix, esc, suffix) : -1;
                curl_free(esc);
        }
        if (n < 0) {
                *path = NULL;
                set_err(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        return KA_OK;
}

static char *dup_string(json_t *v)
{
        const char *s = json_string_value(v);

        return s ? strdup(s) : NULL;
}

/* An integer member of obj within [min, INT32_MAX]. */
static bool get_int32(json_t *obj, const char *key, int32_t min, int32_t *out)
{
        json_t *v = json_object_get(obj, key);
        json_int_t n;

        if (!json_is_integer(v))
                return false;
        n = json_integer_value(v);
        if (n < min || n > INT32_MAX)
                return false;
        *out = (int32_t)n;
        return true;
}

/* An answer of status 2xx that lacks what the API promises. */
static ka_err_t bad_answer(const ka_registry_t *reg, const char *method,
                           const char *path, char *errstr, size_t errstr_size)
{
        set_err(errstr, errstr_size,
                "schema registry %s: %s %s: unexpected answer (missing or "
                "invalid fields)",
                reg->url, method, path);
        return KA_ERR_INVALID;
}

/* Fills info from a {subject, id, version, schema} answer. */
static ka_err_t parse_info(ka_registry_t *reg, const char *method,
                           const char *path, json_t *root, const char *subject,
                           ka_schema_info_t *info, char *errstr,
                           size_t errstr_size)
{
        const char *s = json_string_value(json_object_get(root, "subject"));

        memset(info, 0, sizeof(*info));
        if (!get_int32(root, "id", 0, &info->id) ||
            !get_int32(root, "version", 1, &info->version) ||
            !json_is_string(json_object_get(root, "schema")))
                return bad_answer(reg, method, path, errstr, errstr_size);
        info->subject = strdup(s ? s : subject);
        info->schema = dup_string(json_object_get(root, "schema"));
        if (!info->subject || !info->schema) {
                ka_schema_info_release(info);
                set_err(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        return KA_OK;
}

static ka_err_t get_info(ka_registry_t *reg, const char *subject,
                         const char *version, ka_schema_info_t *info,
                         char *errstr, size_t errstr_size)
{
        char suffix[32], *path;
        json_t *root = NULL;
        ka_err_t err;

        memset(info, 0, sizeof(*info));
        snprintf(suffix, sizeof(suffix), "/versions/%s", version);
        err = subject_path(reg, "/subjects/", subject, false, suffix, &path,
                           errstr, errstr_size);
        if (err)
                return err;
        err = request(reg, "GET", path, NULL, &root, errstr, errstr_size);
        if (!err)
                err = parse_info(reg, "GET", path, root, subject, info, errstr,
                                 errstr_size);
        json_decref(root);
        free(path);
        return err;
}

ka_err_t ka_registry_latest(ka_registry_t *reg, const char *subject,
                            ka_schema_info_t *info, char *errstr,
                            size_t errstr_size)
{
        if (!subject || !*subject) {
                memset(info, 0, sizeof(*info));
                set_err(errstr, errstr_size,
                        "schema registry %s: empty subject", reg->url);
                return KA_ERR_INVALID;
        }
        return get_info(reg, subject, "latest", info, errstr, errstr_size);
}

ka_err_t ka_registry_version(ka_registry_t *reg, const char *subject,
                             int32_t version, ka_schema_info_t *info,
                             char *errstr, size_t errstr_size)
{
        char v[16];

        if (!subject || !*subject || version < 1) {
                memset(info, 0, sizeof(*info));
                set_err(errstr, errstr_size,
                        "schema registry %s: invalid subject or version %d",
                        reg->url, (int)version);
                return KA_ERR_INVALID;
        }
        snprintf(v, sizeof(v), "%d", (int)version);
        return get_info(reg, subject, v, info, errstr, errstr_size);
}

static size_t slot_of(int32_t id, size_t nslots)
{
        return ((uint32_t)id * 2654435761u) & (nslots - 1);
}

/* Looks id up; the caller holds cache_lock. */
static const char *cache_get(const ka_registry_t *reg, int32_t id)
{
        size_t i;

        if (!reg->nslots)
                return NULL;
        for (i = slot_of(id, reg->nslots); reg->slots[i].schema;
             i = (i + 1) & (reg->nslots - 1)) {
                if (reg->slots[i].id == id)
                        return reg->slots[i].schema;
        }
        return NULL;
}

/* Adds id -> schema (taking schema) unless present; the caller holds
 * cache_lock. Returns the cached string, or NULL when out of memory. */
static const char *cache_put(ka_registry_t *reg, int32_t id, char *schema)
{
        const char *old = cache_get(reg, id);
        cache_slot_t *slots;
        size_t i, n;

        if (old) {
                /* Another thread fetched it meanwhile: keep the first, whose
                 * pointer callers may already hold. */
                free(schema);
                return old;
        }
        if ((reg->nused + 1) * 2 > reg->nslots) {
                n = reg->nslots ? reg->nslots * 2 : 64;
                slots = calloc(n, sizeof(*slots));
                if (!slots) {
                        free(schema);
                        return NULL;
                }
                for (i = 0; i < reg->nslots; i++) {
                        size_t j;

                        if (!reg->slots[i].schema)
                                continue;
                        for (j = slot_of(reg->slots[i].id, n); slots[j].schema;
                             j = (j + 1) & (n - 1))
                                ;
                        slots[j] = reg->slots[i];
                }
                free(reg->slots);
                reg->slots = slots;
                reg->nslots = n;
        }
        for (i = slot_of(id, reg->nslots); reg->slots[i].schema;
             i = (i + 1) & (reg->nslots - 1))
                ;
        reg->slots[i].id = id;
        reg->slots[i].schema = schema;
        reg->nused++;
        return schema;
}

ka_err_t ka_registry_schema_by_id(ka_registry_t *reg, int32_t id,
                                  const char **schema, char *errstr,
                                  size_t errstr_size)
{
        char path[48];
        json_t *root = NULL;
        char *copy;
        ka_err_t err;

        *schema = NULL;
        if (id < 0) {
                set_err(errstr, errstr_size,
                        "schema registry %s: invalid schema id %d", reg->url,
                        (int)id);
                return KA_ERR_INVALID;
        }
        pthread_mutex_lock(&reg->cache_lock);
        *schema = cache_get(reg, id);
        pthread_mutex_unlock(&reg->cache_lock);
        if (*schema)
                return KA_OK;

        /* The request runs outside cache_lock so that cache hits of other
         * threads never wait for the network. */
        snprintf(path, sizeof(path), "/schemas/ids/%d", (int)id);
        err = request(reg, "GET", path, NULL, &root, errstr, errstr_size);
        if (err)
                goto out;
        if (!json_is_string(json_object_get(root, "schema"))) {
                err = bad_answer(reg, "GET", path, errstr, errstr_size);
                goto out;
        }
        copy = dup_string(json_object_get(root, "schema"));
        pthread_mutex_lock(&reg->cache_lock);
        *schema = copy ? cache_put(reg, id, copy) : NULL;
        pthread_mutex_unlock(&reg->cache_lock);
        if (!*schema) {
                set_err(errstr, errstr_size, "out of memory");
                err = KA_ERR_NOMEM;
        }
out:
        json_decref(root);
        return err;
}

const char *ka_registry_schema_cached(ka_registry_t *reg, int32_t id)
{
        const char *schema;

        pthread_mutex_lock(&reg->cache_lock);
        schema = cache_get(reg, id);
        pthread_mutex_unlock(&reg->cache_lock);
        return schema;
}

/* *payload = {"schema": schema_json}, compact. */
static ka_err_t schema_payload(const ka_registry_t *reg,
                               const char *schema_json, char **payload,
                               char *errstr, size_t errstr_size)
{
        json_t *obj;

        *payload = NULL;
        if (!schema_json || !*schema_json) {
                set_err(errstr, errstr_size, "schema registry %s: no schema",
                        reg->url);
                return KA_ERR_INVALID;
        }
        /* json_pack fails on invalid UTF-8 (and on no memory). */
        obj = json_pack("{s:s}", "schema", schema_json);
        *payload = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
        json_decref(obj);
        if (!*payload) {
                set_err(errstr, errstr_size,
                        "schema registry %s: schema is not valid UTF-8",
                        reg->url);
                return KA_ERR_INVALID;
        }
        return KA_OK;
}

ka_err_t ka_registry_register(ka_registry_t *reg, const char *subject,
                              const char *schema_json, int32_t *id,
                              char *errstr, size_t errstr_size)
{
        char *path = NULL, *payload = NULL;
        json_t *root = NULL;
        ka_err_t err;

        *id = -1;
        err = subject_path(reg, "/subjects/", subject, false, "/versions",
                           &path, errstr, errstr_size);
        if (err)
                goto out;
        err = schema_payload(reg, schema_json, &payload, errstr, errstr_size);
        if (err)
                goto out;
        err = request(reg, "POST", path, payload, &root, errstr, errstr_size);
        if (!err && !get_int32(root, "id", 0, id))
                err = bad_answer(reg, "POST", path, errstr, errstr_size);
out:
        json_decref(root);
        free(payload);
        free(path);
        return err;
}

ka_err_t ka_registry_test_compatibility(ka_registry_t *reg, const char *subject,
                                        const char *schema_json, char *errstr,
                                        size_t errstr_size)
{
        char *path = NULL, *payload = NULL, why[512] = "incompatible";
        json_t *root = NULL, *msgs, *m;
        size_t i, len = 0;
        ka_err_t err;

        err = subject_path(reg, "/compatibility/subjects/", subject, false,
                           "/versions/latest?verbose=true", &path, errstr,
                           errstr_size);
        if (err)
                goto out;
        err = schema_payload(reg, schema_json, &payload, errstr, errstr_size);
        if (err)
                goto out;
        err = request(reg, "POST", path, payload, &root, errstr, errstr_size);
        if (err == KA_ERR_NOT_FOUND) {
                /* No subject or no version: the schema would be the first. */
                err = KA_OK;
                goto out;
        }
        if (err)
                goto out;
        if (!json_is_boolean(json_object_get(root, "is_compatible"))) {
                err = bad_answer(reg, "POST", path, errstr, errstr_size);
                goto out;
        }
        if (json_is_true(json_object_get(root, "is_compatible")))
                goto out;
        msgs = json_object_get(root, "messages");
        json_array_foreach(msgs, i, m)
        {
                const char *s = json_string_value(m);

                if (!s || len >= sizeof(why))
                        continue;
                len += (size_t)snprintf(why + len, sizeof(why) - len, "%s%s",
                                        len ? "; " : "", s);
        }
        set_err(errstr, errstr_size, "schema registry %s: POST %s: %s",
                reg->url, path, why);
        err = KA_ERR_CONFLICT;
out:
        json_decref(root);
        free(payload);
        free(path);
        return err;
}

ka_err_t ka_registry_lookup(ka_registry_t *reg, const char *subject,
                            const char *schema_json, ka_schema_info_t *info,
                            char *errstr, size_t errstr_size)
{
        char *path = NULL, *payload = NULL;
        json_t *root = NULL;
        ka_err_t err;

        memset(info, 0, sizeof(*info));
        err = subject_path(reg, "/subjects/", subject, false, "", &path, errstr,
                           errstr_size);
        if (err)
                goto out;
        err = schema_payload(reg, schema_json, &payload, errstr, errstr_size);
        if (err)
                goto out;
        err = request(reg, "POST", path, payload, &root, errstr, errstr_size);
        if (!err)
                err = parse_info(reg, "POST", path, root, subject, info, errstr,
                                 errstr_size);
out:
        json_decref(root);
        free(payload);
        free(path);
        return err;
}

void ka_registry_subjects_free(char **subjects, size_t n)
{
        for (size_t i = 0; subjects && i < n; i++)
                free(subjects[i]);
        free(subjects);
}

/* The strings of a JSON array; KA_ERR_INVALID when it is something else. */
static ka_err_t subjects_of(const json_t *root, char ***subjects, size_t *n)
{
        size_t i, count = json_array_size(root);
        char **out;

        *subjects = NULL;
        *n = 0;
        if (!json_is_array(root))
                return KA_ERR_INVALID;
        if (!(out = calloc(count + 1, sizeof(*out))))
                return KA_ERR_NOMEM;
        for (i = 0; i < count; i++) {
                const json_t *v = json_array_get(root, i);

                if (!json_is_string(v)) {
                        ka_registry_subjects_free(out, i);
                        return KA_ERR_INVALID;
                }
                if (!(out[i] = strdup(json_string_value(v)))) {
                        ka_registry_subjects_free(out, i);
                        return KA_ERR_NOMEM;
                }
        }
        *subjects = out;
        *n = count;
        return KA_OK;
}

ka_err_t ka_registry_parse_subjects(const char *body, size_t len,
                                    char ***subjects, size_t *n)
{
        json_t *root = json_loadb(body ? body : "", len, 0, NULL);
        ka_err_t err = subjects_of(root, subjects, n);

        json_decref(root);
        return err;
}

ka_err_t ka_registry_subjects(ka_registry_t *reg, char ***subjects, size_t *n,
                              char *errstr, size_t errstr_size)
{
        json_t *root = NULL;
        ka_err_t err;

        *subjects = NULL;
        *n = 0;
        err = request(reg, "GET", "/subjects", NULL, &root, errstr,
                      errstr_size);
        if (!err) {
                err = subjects_of(root, subjects, n);
                if (err == KA_ERR_INVALID)
                        bad_answer(reg, "GET", "/subjects", errstr,
                                   errstr_size);
                else if (err)
                        set_err(errstr, errstr_size, "out of memory");
        }
        json_decref(root);
        return err;
}

ka_err_t ka_registry_get_compatibility(ka_registry_t *reg, const char *subject,
                                       char **level, char *errstr,
                                       size_t errstr_size)
{
        char *path;
        json_t *root = NULL, *v;
        ka_err_t err;

        *level = NULL;
        /* Without defaultToGlobal a subject with no level of its own is a
         * 404 (40408) in the Confluent registry. */
        err = subject_path(reg, "/config/", subject, true,
                           subject ? "?defaultToGlobal=true" : "", &path,
                           errstr, errstr_size);
        if (err)
                return err;
        err = request(reg, "GET", path, NULL, &root, errstr, errstr_size);
        if (err)
                goto out;
        /* GET answers compatibilityLevel; some versions say compatibility. */
        v = json_object_get(root, "compatibilityLevel");
        if (!json_is_string(v))
                v = json_object_get(root, "compatibility");
        if (!json_is_string(v) || !*json_string_value(v)) {
                err = bad_answer(reg, "GET", path, errstr, errstr_size);
                goto out;
        }
        *level = dup_string(v);
        if (!*level) {
                set_err(errstr, errstr_size, "out of memory");
                err = KA_ERR_NOMEM;
        }
out:
        json_decref(root);
        free(path);
        return err;
}

ka_err_t ka_registry_set_compatibility(ka_registry_t *reg, const char *subject,
                                       const char *level, char *errstr,
                                       size_t errstr_size)
{
        char *path = NULL, *payload = NULL;
        json_t *root = NULL, *obj;
        ka_err_t err;

        if (!level || !*level) {
                set_err(errstr, errstr_size,
                        "schema registry %s: empty compatibility level",
                        reg->url);
                return KA_ERR_INVALID;
        }
        err = subject_path(reg, "/config/", subject, true, "", &path, errstr,
                           errstr_size);
        if (err)
                goto out;
        obj = json_pack("{s:s}", "compatibility", level);
        payload = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
        json_decref(obj);
        if (!payload) {
                set_err(errstr, errstr_size,
                        "schema registry %s: invalid compatibility level",
                        reg->url);
                err = KA_ERR_INVALID;
                goto out;
        }
        err = request(reg, "PUT", path, payload, &root, errstr, errstr_size);
out:
        json_decref(root);
        free(payload);
        free(path);
        return err;
}

/* Splits url into reg->url, reg->user and reg->password. */
static ka_err_t parse_url(ka_registry_t *reg, const char *url, char *errstr,
                          size_t errstr_size)
{
        char shown[512];
        CURLU *u = curl_url();
        CURLUcode uc;
        char *scheme = NULL, *host = NULL, *query = NULL, *frag = NULL;
        char *user = NULL, *password = NULL, *base = NULL;
        ka_err_t err = KA_ERR_INVALID;
        size_t len;

        ka_registry_redact_url(url, shown, sizeof(shown));
        if (!u) {
                set_err(errstr, errstr_size, "out of memory");
                return KA_ERR_NOMEM;
        }
        uc = curl_url_set(u, CURLUPART_URL, url, 0);
        if (uc) {
                set_err(errstr, errstr_size, "schema registry url '%s': %s",
                        shown, curl_url_strerror(uc));
                goto out;
        }
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_QUERY, &query, 0);
        curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
        if (!scheme || (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
                set_err(errstr, errstr_size,
                        "schema registry url '%s': scheme must be http or "
                        "https",
                        shown);
                goto out;
        }
        if (!host || !*host || query || frag) {
                set_err(errstr, errstr_size, "schema registry url '%s': %s",
                        shown,
                        !host || !*host ? "no host"
                                        : "a query or fragment is not allowed");
                goto out;
        }
        curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
        curl_url_get(u, CURLUPART_PASSWORD, &password, CURLU_URLDECODE);
        if (curl_url_set(u, CURLUPART_USER, NULL, 0) ||
            curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) ||
            curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) ||
            curl_url_get(u, CURLUPART_URL, &base, 0)) {
                set_err(errstr, errstr_size, "out of memory");
                err = KA_ERR_NOMEM;
                goto out;
        }
        /* Paths are appended as "/subjects/...": drop the trailing '/'. */
        len = strlen(base);
        while (len && base[len - 1] == '/')
                base[--len] = '\0';
        reg->url = strdup(base);
        reg->user = user ? strdup(user) : NULL;
        reg->password = password ? strdup(password) : NULL;
        if (!reg->url || (user && !reg->user) || (password && !reg->password)) {
                set_err(errstr, errstr_size, "out of memory");
                err = KA_ERR_NOMEM;
                goto out;
        }
        err = KA_OK;
out:
        curl_free(scheme);
        curl_free(host);
        curl_free(query);
        curl_free(frag);
        curl_free(user);
        if (password) {
                /* Do not leave the password behind in freed memory. */
                memset(password, 0, strlen(password));
                curl_free(password);
        }
        curl_free(base);
        curl_url_cleanup(u);
        return err;
}

static CURLcode setup_curl(ka_registry_t *reg)
{
        CURL *curl = reg->curl;
        CURLcode rc;

        /* NOSIGNAL: the worker calls from several threads; timeouts must
         * not use SIGALRM. */
        rc = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        if (!rc)
                rc = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
                                      "http,https");
        if (!rc)
                rc = curl_easy_setopt(curl, CURLOPT_HTTPHEADER, reg->headers);
        if (!rc)
                rc = curl_easy_setopt(curl, CURLOPT_USERAGENT,
                                      "kafkaaggregator/" KA_VERSION);
        if (!rc)
                rc = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        if (!rc)
                rc = curl_easy_setopt(curl, CURLOPT_WRITEDATA, reg);
        if (!rc)
                rc = curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, reg->errbuf);
        if (!rc)
                rc = curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                                      reg->opts.connect_timeout_ms);
        if (!rc)
                rc = curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                                      reg->opts.request_timeout_ms);
        if (!rc)
                rc = curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
        if (!rc && reg->opts.cancel) {
                rc = curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION,
                                      on_progress);
                if (!rc)
                        rc = curl_easy_setopt(curl, CURLOPT_XFERINFODATA, reg);
                if (!rc)
                        rc = curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        }
        if (!rc && reg->user) {
                rc = curl_easy_setopt(curl, CURLOPT_HTTPAUTH,
                                      (long)CURLAUTH_BASIC);
                if (!rc)
                        rc = curl_easy_setopt(curl, CURLOPT_USERNAME,
                                              reg->user);
                if (!rc)
                        rc = curl_easy_setopt(curl, CURLOPT_PASSWORD,
                                              reg->password ? reg->password
                                                            : "");
        }
        return rc;
}

ka_registry_t *ka_registry_new(const char *url, const ka_registry_opts_t *opts,
                               char *errstr, size_t errstr_size)
{
        ka_registry_t *reg;
        struct timespec now;
        struct curl_slist *h;

        if (!url || !*url) {
                set_err(errstr, errstr_size, "schema registry url is empty");
                return NULL;
        }
        pthread_once(&curl_once, curl_init);
        if (curl_init_rc) {
                set_err(errstr, errstr_size, "libcurl: %s",
                        curl_easy_strerror(curl_init_rc));
                return NULL;
        }
        reg = calloc(1, sizeof(*reg));
        if (!reg) {
                set_err(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&reg->lock, NULL);
        pthread_mutex_init(&reg->cache_lock, NULL);
        atomic_init(&reg->nrequests, 0);
        if (opts)
                reg->opts = *opts;
        if (reg->opts.connect_timeout_ms <= 0)
                reg->opts.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
        if (reg->opts.request_timeout_ms <= 0)
                reg->opts.request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
        if (reg->opts.max_attempts <= 0)
                reg->opts.max_attempts = DEFAULT_MAX_ATTEMPTS;
        if (reg->opts.backoff_initial_ms <= 0)
                reg->opts.backoff_initial_ms = DEFAULT_BACKOFF_INITIAL_MS;
        if (reg->opts.backoff_max_ms <= 0)
                reg->opts.backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
        if (reg->opts.backoff_max_ms < reg->opts.backoff_initial_ms)
                reg->opts.backoff_max_ms = reg->opts.backoff_initial_ms;
        clock_gettime(CLOCK_MONOTONIC, &now);
        reg->rng = (uint32_t)now.tv_nsec ^ (uint32_t)(uintptr_t)reg;
        if (!reg->rng)
                reg->rng = 1;

        if (parse_url(reg, url, errstr, errstr_size))
                goto fail;

        h = curl_slist_append(NULL, "Accept: " CONTENT_TYPE
                                    ", application/vnd.schemaregistry+json"
                                    "; q=0.9, application/json; q=0.5");
        reg->headers = h;
        h = h ? curl_slist_append(h, "Content-Type: " CONTENT_TYPE) : NULL;
        if (h)
                reg->headers = h;
        /* Big schemas would make curl wait for "100 Continue" first. */
        h = h ? curl_slist_append(h, "Expect:") : NULL;
        if (h)
                reg->headers = h;
        reg->curl = h ? curl_easy_init() : NULL;
        if (!reg->curl) {
                set_err(errstr, errstr_size, "out of memory");
                goto fail;
        }
        if (setup_curl(reg)) {
                set_err(errstr, errstr_size,
                        "schema registry %s: libcurl lacks a needed feature",
                        reg->url);
                goto fail;
        }
        return reg;
fail:
        ka_registry_destroy(reg);
        return NULL;
}

void ka_registry_destroy(ka_registry_t *reg)
{
        size_t i;

        if (!reg)
                return;
        if (reg->curl)
                curl_easy_cleanup(reg->curl);
        curl_slist_free_all(reg->headers);
        for (i = 0; i < reg->nslots; i++)
                free(reg->slots[i].schema);
        free(reg->slots);
        free(reg->body);
        free(reg->url);
        free(reg->user);
        if (reg->password) {
                memset(reg->password, 0, strlen(reg->password));
                free(reg->password);
        }
        pthread_mutex_destroy(&reg->lock);
        pthread_mutex_destroy(&reg->cache_lock);
        free(reg);
}

const char *ka_registry_url(const ka_registry_t *reg)
{
        return reg->url;
}

uint64_t ka_registry_request_count(const ka_registry_t *reg)
{
        /* atomic_load takes a non-const pointer in older C libraries. */
        return atomic_load(&((ka_registry_t *)(uintptr_t)reg)->nrequests);
}
