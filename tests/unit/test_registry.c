/*
 * The Schema Registry client's pure parts: URL parsing and redaction,
 * mapping of HTTP answers to results and messages, and argument checks
 * that must fail before any request is sent. No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry.h"

static void expect_base_url(const char *url, const char *base)
{
        char errstr[256] = "";
        ka_registry_t *reg = ka_registry_new(url, NULL, errstr, sizeof(errstr));

        if (!reg)
                fail_msg("'%s' rejected: %s", url, errstr);
        assert_string_equal(ka_registry_url(reg), base);
        assert_int_equal(ka_registry_request_count(reg), 0);
        ka_registry_destroy(reg);
}

static void base_url_drops_user_info_and_slash(void **state)
{
        expect_base_url("http://127.0.0.1:8081", "http://127.0.0.1:8081");
        expect_base_url("http://127.0.0.1:8081/", "http://127.0.0.1:8081");
        expect_base_url("https://user:s3cret@registry.example:443/sr/",
                        "https://registry.example:443/sr");
        expect_base_url("http://us%20er:p%40ss@localhost:8081",
                        "http://localhost:8081");
        expect_base_url("http://user@localhost", "http://localhost");
}

static void expect_bad_url(const char *url, const char *needle)
{
        char errstr[256] = "";

        assert_null(ka_registry_new(url, NULL, errstr, sizeof(errstr)));
        if (!strstr(errstr, needle))
                fail_msg("'%s': '%s' lacks '%s'", url, errstr, needle);
        if (strstr(errstr, "s3cret"))
                fail_msg("'%s': the password leaked: '%s'", url, errstr);
}

static void bad_urls_are_refused(void **state)
{
        expect_bad_url("", "empty");
        expect_bad_url("ftp://user:s3cret@host/", "http or https");
        expect_bad_url("localhost:8081", "");
        expect_bad_url("http://user:s3cret@host:8081/?a=b", "query");
        expect_bad_url("http://user:s3cret@host:8081/#x", "fragment");
        expect_bad_url("http://user:s3cret@host:99999999", "user:***@host");
        expect_bad_url("http://user:s3cret@", "");
}

static void expect_redacted(const char *url, const char *want)
{
        char out[128];

        ka_registry_redact_url(url, out, sizeof(out));
        assert_string_equal(out, want);
}

static void redaction_hides_secrets_only(void **state)
{
        char small[8];

        expect_redacted("http://host:8081/x", "http://host:8081/x");
        expect_redacted("http://u:pw@host:8081/x", "http://u:***@host:8081/x");
        /* A user info without ':' may be a token: all of it goes. */
        expect_redacted("http://token@host", "http://***@host");
        expect_redacted("u:pw@host/a@b", "u:***@host/a@b");
        expect_redacted("http://a:b:c@host?x@y", "http://a:***@host?x@y");
        ka_registry_redact_url("http://u:pw@host", small, sizeof(small));
        assert_string_equal(small, "http://");
}

static void expect_status(long status, const char *body, ka_err_t want_err,
                          const char *want_msg)
{
        char msg[256];
        ka_err_t err = ka_registry_status_error(
                status, body, body ? strlen(body) : 0, msg, sizeof(msg));

        assert_int_equal(err, want_err);
        assert_string_equal(msg, want_msg);
}

static void statuses_map_to_results(void **state)
{
        expect_status(404,
                      "{\"error_code\":40401,\"message\":\"Subject 'x' not "
                      "found.\"}",
                      KA_ERR_NOT_FOUND,
                      "HTTP 404 (error_code 40401): Subject 'x' not found.");
        expect_status(404, "{\"error_code\":40403,\"message\":\"no\"}",
                      KA_ERR_NOT_FOUND, "HTTP 404 (error_code 40403): no");
        expect_status(409,
                      "{\"error_code\":409,\"message\":\"Schema being "
                      "registered is incompatible with an earlier schema\"}",
                      KA_ERR_CONFLICT,
                      "HTTP 409 (error_code 409): Schema being registered is "
                      "incompatible with an earlier schema");
        expect_status(422, "{\"error_code\":42201,\"message\":\"bad\"}",
                      KA_ERR_INVALID, "HTTP 422 (error_code 42201): bad");
        expect_status(401, "{\"error_code\":401}", KA_ERR_AUTH,
                      "HTTP 401 (error_code 401): (no message)");
        expect_status(403, "Forbidden", KA_ERR_AUTH, "HTTP 403: Forbidden");
        /* A 404 without the registry's body is not the registry's answer
         * (a proxy, a wrong path): retried, not taken as "no such id". */
        expect_status(404, "<html>Not Found</html>", KA_ERR_TRANSPORT,
                      "HTTP 404: <html>Not Found</html>");
        expect_status(404, NULL, KA_ERR_TRANSPORT, "HTTP 404: empty body");
        expect_status(404, "{\"error_code\":50001,\"message\":\"x\"}",
                      KA_ERR_TRANSPORT, "HTTP 404 (error_code 50001): x");
        expect_status(503, "{\"error_code\":50003,\"message\":\"down\"}",
                      KA_ERR_TRANSPORT, "HTTP 503 (error_code 50003): down");
        expect_status(502, "<html>\r\nBad\tGateway</html>", KA_ERR_TRANSPORT,
                      "HTTP 502: <html>  Bad Gateway</html>");
        expect_status(500, NULL, KA_ERR_TRANSPORT, "HTTP 500: empty body");
        expect_status(302, "", KA_ERR_INVALID, "HTTP 302: empty body");
}

static void long_bodies_are_cut(void **state)
{
        char body[400], msg[512];

        memset(body, 'x', sizeof(body) - 1);
        body[sizeof(body) - 1] = '\0';
        assert_int_equal(ka_registry_status_error(400, body, strlen(body), msg,
                                                  sizeof(msg)),
                         KA_ERR_INVALID);
        assert_true(strlen(msg) < 200);
        assert_true(strncmp(msg, "HTTP 400: xxx", 13) == 0);
        assert_string_equal(msg + strlen(msg) - 3, "...");

        /* A message that does not fit errstr is truncated, never overrun. */
        assert_int_equal(
                ka_registry_status_error(400, body, strlen(body), msg, 10),
                KA_ERR_INVALID);
        assert_string_equal(msg, "HTTP 400:");
}

static void bad_arguments_send_nothing(void **state)
{
        char errstr[256];
        ka_registry_t *reg;
        ka_schema_info_t info;
        const char *schema;
        char *level;
        int32_t id;

        /* Port 9 (discard) is never contacted: every call fails first. */
        reg = ka_registry_new("http://127.0.0.1:9", NULL, errstr,
                              sizeof(errstr));
        assert_non_null(reg);
        assert_int_equal(
                ka_registry_latest(reg, "", &info, errstr, sizeof(errstr)),
                KA_ERR_INVALID);
        assert_non_null(strstr(errstr, "http://127.0.0.1:9"));
        assert_null(info.schema);
        assert_int_equal(
                ka_registry_version(reg, "s", 0, &info, errstr, sizeof(errstr)),
                KA_ERR_INVALID);
        assert_int_equal(ka_registry_schema_by_id(reg, -1, &schema, errstr,
                                                  sizeof(errstr)),
                         KA_ERR_INVALID);
        assert_null(schema);
        assert_int_equal(ka_registry_register(reg, "s", "\"\xff\"", &id, errstr,
                                              sizeof(errstr)),
                         KA_ERR_INVALID);
        assert_non_null(strstr(errstr, "UTF-8"));
        assert_int_equal(ka_registry_register(reg, NULL, "\"int\"", &id, errstr,
                                              sizeof(errstr)),
                         KA_ERR_INVALID);
        assert_int_equal(ka_registry_lookup(reg, "s", NULL, &info, errstr,
                                            sizeof(errstr)),
                         KA_ERR_INVALID);
        assert_int_equal(ka_registry_get_compatibility(reg, "", &level, errstr,
                                                       sizeof(errstr)),
                         KA_ERR_INVALID);
        assert_null(level);
        assert_int_equal(ka_registry_set_compatibility(reg, "s", "", errstr,
                                                       sizeof(errstr)),
                         KA_ERR_INVALID);
        assert_int_equal(ka_registry_request_count(reg), 0);
        ka_registry_destroy(reg);
        ka_registry_destroy(NULL);
}

/* A stand-in transport: every request gets status 200 and body. */
static ka_err_t answer_200(void *opaque, const char *method, const char *url,
                           const char *payload, long *status, const char **body,
                           size_t *len)
{
        *status = 200;
        *body = opaque;
        *len = strlen(opaque);
        return KA_OK;
}

/* Messages end up in logs, one line each: a server must not be able to
 * break a line or hide text with control characters. */
static void malformed_answers_give_printable_messages(void **state)
{
        ka_registry_opts_t opts = {.max_attempts = 1,
                                   .transport = answer_200,
                                   .transport_opaque = "\x01\n[x\x1b[2J"};
        char errstr[512];
        ka_registry_t *reg;
        const char *schema;

        reg = ka_registry_new("http://localhost:1", &opts, errstr,
                              sizeof(errstr));
        assert_non_null(reg);
        assert_int_equal(ka_registry_schema_by_id(reg, 1, &schema, errstr,
                                                  sizeof(errstr)),
                         KA_ERR_INVALID);
        if (!strstr(errstr, "malformed JSON answer"))
                fail_msg("message: %s", errstr);
        for (const char *c = errstr; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        fail_msg("control character %#x in '%s'",
                                 (unsigned)(unsigned char)*c, errstr);
        ka_registry_destroy(reg);
}

static void info_release_is_idempotent(void **state)
{
        ka_schema_info_t info = {.id = 3,
                                 .version = 1,
                                 .subject = strdup("s"),
                                 .schema = strdup("\"int\"")};

        ka_schema_info_release(&info);
        assert_null(info.subject);
        assert_null(info.schema);
        assert_int_equal(info.id, 0);
        ka_schema_info_release(&info);
        ka_schema_info_release(NULL);
}

/* A GET /subjects answer is a JSON array of strings, nothing else. */
static void subjects_are_parsed(void **state)
{
        static const char ok[] = "[\"a-value\", \"b c-value\", \"\\u00e9\"]";
        static const char *const bad[] = {
                "", "{}", "[1]", "[\"a\", null]", "\"a\"", "[\"a\"", "null",
        };
        char **subjects = (char **)1;
        size_t n = 99;

        assert_int_equal(
                ka_registry_parse_subjects(ok, strlen(ok), &subjects, &n),
                KA_OK);
        assert_int_equal(n, 3);
        assert_string_equal(subjects[0], "a-value");
        assert_string_equal(subjects[1], "b c-value");
        assert_string_equal(subjects[2], "\xc3\xa9");
        ka_registry_subjects_free(subjects, n);
        assert_int_equal(ka_registry_parse_subjects("[]", 2, &subjects, &n),
                         KA_OK);
        assert_int_equal(n, 0);
        ka_registry_subjects_free(subjects, n);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                subjects = (char **)1;
                n = 99;
                assert_int_equal(ka_registry_parse_subjects(
                                         bad[i], strlen(bad[i]), &subjects, &n),
                                 KA_ERR_INVALID);
                assert_null(subjects);
                assert_int_equal(n, 0);
        }
        ka_registry_subjects_free(NULL, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(base_url_drops_user_info_and_slash),
                cmocka_unit_test(bad_urls_are_refused),
                cmocka_unit_test(redaction_hides_secrets_only),
                cmocka_unit_test(statuses_map_to_results),
                cmocka_unit_test(long_bodies_are_cut),
                cmocka_unit_test(bad_arguments_send_nothing),
                cmocka_unit_test(info_release_is_idempotent),
                cmocka_unit_test(malformed_answers_give_printable_messages),
                cmocka_unit_test(subjects_are_parsed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
