/*
 * The template engine: every case of the official Mustache spec files in
 * ../shared/testdata/mustache-spec/ (or $KA_SHARED_DIR/testdata/...), with
 * HTML escaping on, then the engine as the generator uses it: escaping off,
 * parse errors with their positions, deep nesting, numbers, large output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "mustache.h"

/* Parses and renders text; NULL (with err set) on error. */
static char *render(const char *text, const json_t *ctx, const json_t *partials,
                    unsigned flags, char *err, size_t err_size)
{
        ka_mustache_t *tpl = ka_mustache_parse("t", text, err, err_size);
        char *out;

        if (!tpl)
                return NULL;
        out = ka_mustache_render(tpl, ctx, partials, flags, err, err_size);
        ka_mustache_destroy(tpl);
        return out;
}

/* Renders text against the JSON ctx_json and compares with expected. */
static void check(const char *text, const char *ctx_json,
                  const char *partials_json, unsigned flags,
                  const char *expected)
{
        json_error_t jerr;
        json_t *ctx = json_loads(ctx_json, JSON_DECODE_ANY, &jerr);
        json_t *partials =
                partials_json ? json_loads(partials_json, 0, &jerr) : NULL;
        char err[512] = "";
        char *out;

        assert_non_null(ctx);
        out = render(text, ctx, partials, flags, err, sizeof(err));
        if (!out)
                fail_msg("render failed: %s", err);
        assert_string_equal(out, expected);
        free(out);
        json_decref(ctx);
        json_decref(partials);
}

/* The parse error of text, which must fail to parse. */
static void check_parse_error(const char *text, const char *expected)
{
        char err[512] = "";
        ka_mustache_t *tpl = ka_mustache_parse("t", text, err, sizeof(err));

        assert_null(tpl);
        assert_string_equal(err, expected);
}

/*
 * The spec files
 */

static void run_spec_file(const char *file)
{
        const char *shared = getenv("KA_SHARED_DIR");
        char path[1024];
        json_error_t jerr;
        json_t *doc, *tests, *tc;
        size_t i, passed = 0, failed = 0;

        snprintf(path, sizeof(path), "%s/testdata/mustache-spec/%s",
                 shared && *shared ? shared : "../shared", file);
        doc = json_load_file(path, 0, &jerr);
        if (!doc)
                fail_msg("cannot load %s: %s", path, jerr.text);
        tests = json_object_get(doc, "tests");
        assert_true(json_is_array(tests));
        assert_true(json_array_size(tests) > 0);
        json_array_foreach(tests, i, tc)
        {
                const char *name =
                        json_string_value(json_object_get(tc, "name"));
                const char *text =
                        json_string_value(json_object_get(tc, "template"));
                const char *expected =
                        json_string_value(json_object_get(tc, "expected"));
                char err[512] = "";
                ka_mustache_t *tpl;
                char *out = NULL;

                assert_non_null(name);
                assert_non_null(text);
                assert_non_null(expected);
                tpl = ka_mustache_parse(name, text, err, sizeof(err));
                if (tpl)
                        out = ka_mustache_render(
                                tpl, json_object_get(tc, "data"),
                                json_object_get(tc, "partials"),
                                KA_MUSTACHE_ESCAPE_HTML, err, sizeof(err));
                if (out && strcmp(out, expected) == 0) {
                        passed++;
                } else {
                        failed++;
                        printf("%s: FAIL '%s'\n  template: %s\n"
                               "  expected: %s\n  got:      %s\n",
                               file, name, text, expected, out ? out : err);
                }
                free(out);
                ka_mustache_destroy(tpl);
        }
        printf("%s: %zu of %zu spec cases pass\n", file, passed,
               passed + failed);
        json_decref(doc);
        assert_int_equal(failed, 0);
}

static void spec_comments(void **state)
{
        run_spec_file("comments.json");
}

static void spec_interpolation(void **state)
{
        run_spec_file("interpolation.json");
}

static void spec_inverted(void **state)
{
        run_spec_file("inverted.json");
}

static void spec_sections(void **state)
{
        run_spec_file("sections.json");
}

static void spec_delimiters(void **state)
{
        run_spec_file("delimiters.json");
}

static void spec_partials(void **state)
{
        run_spec_file("partials.json");
}

/*
 * As the generator uses it
 */

static void escaping_off_for_c(void **state)
{
        const char *ctx = "{\"cond\": \"a < b && c > \\\"d\\\" || e == 'f'\"}";

        check("if ({{cond}})", ctx, NULL, 0,
              "if (a < b && c > \"d\" || e == 'f')");
        check("if ({{cond}})", ctx, NULL, KA_MUSTACHE_ESCAPE_HTML,
              "if (a &lt; b &amp;&amp; c &gt; &quot;d&quot; || e == "
              "&#39;f&#39;)");
        /* Triple and ampersand never escape. */
        check("{{{cond}}}|{{&cond}}", "{\"cond\": \"<&>\"}", NULL,
              KA_MUSTACHE_ESCAPE_HTML, "<&>|<&>");
}

static void c_struct_from_list(void **state)
{
        const char *tpl = "struct rec {\n"
                          "{{#fields}}\n"
                          "        double {{name}};{{#doc}} /* {{doc}} */"
                          "{{/doc}}\n"
                          "{{/fields}}\n"
                          "{{^fields}}\n"
                          "        char unused;\n"
                          "{{/fields}}\n"
                          "};\n";

        check(tpl,
              "{\"fields\": [{\"name\": \"time\", \"doc\": \"seconds\"},"
              " {\"name\": \"value0\", \"doc\": null}]}",
              NULL, 0,
              "struct rec {\n"
              "        double time; /* seconds */\n"
              "        double value0;\n"
              "};\n");
        check(tpl, "{\"fields\": []}", NULL, 0,
              "struct rec {\n"
              "        char unused;\n"
              "};\n");
}

static void parse_errors_have_positions(void **state)
{
        check_parse_error("a\n  {{#sec}}\nx\n", "t:2:3: error: unclosed "
                                                "section 'sec'");
        check_parse_error("{{#a}}\n {{#b}}x{{/a}}",
                          "t:2:9: error: close tag 'a' does not match "
                          "section 'b' opened at 2:2");
        check_parse_error("ok\n\tx {{/a}}", "t:2:4: error: close tag 'a' "
                                            "without open section");
        check_parse_error("x\nyz {{name\n", "t:2:4: error: unclosed tag "
                                            "(no '}}' after '{{')");
        check_parse_error("{{{name}}", "t:1:1: error: unclosed tag "
                                       "(no '}}}' after '{{')");
        check_parse_error("{{=<% %>=}}\n<%name}}",
                          "t:2:1: error: unclosed tag (no '%>' after '<%')");
        check_parse_error("a {{ }}", "t:1:3: error: empty tag name");
        check_parse_error("{{a b}}", "t:1:1: error: invalid tag name 'a b'");
        /* A name spanning lines is quoted on one line. */
        check_parse_error("\n {{a\nb}}",
                          "t:2:2: error: invalid tag name 'a\\nb'");
        check_parse_error("{{#a..b}}{{/a..b}}",
                          "t:1:1: error: invalid tag name 'a..b'");
        check_parse_error("{{=<%=}}",
                          "t:1:1: error: invalid set delimiter tag '<%'");
        check_parse_error("{{$block}}", "t:1:1: error: unsupported tag '$' "
                                        "(template inheritance)");
}

static void errors_are_one_line(void **state)
{
        char err[512] = "";
        json_t *partials = json_pack("{s:s}", "p", "line1\n{{#x}}\n");
        char *out;

        /* A partial's own error names the partial and its position. */
        out = render("a\n{{>p}}", NULL, partials, 0, err, sizeof(err));
        assert_null(out);
        assert_string_equal(err, "p:2:1: error: unclosed section 'x'");
        json_decref(partials);

        partials = json_pack("{s:i}", "p", 3);
        out = render("a {{>p}}", NULL, partials, 0, err, sizeof(err));
        assert_null(out);
        assert_string_equal(err, "t:1:3: error: partial 'p' is not a string");
        json_decref(partials);

        assert_null(ka_mustache_parse("t", "{{#a}}\n\n", err, sizeof(err)));
        assert_null(strchr(err, '\n'));
}

/* n nested sections over n nested objects: "<" n times, the innermost
 * value, ">" n times. */
static void deep_nesting(void **state)
{
        const int n = 500;
        char *text = malloc((size_t)n * 14 + 16);
        char *expected = malloc((size_t)n * 2 + 16);
        json_t *ctx = json_pack("{s:s}", "v", "deep");
        char err[512] = "";
        size_t tl = 0, el = 0;
        char *out;

        assert_non_null(text);
        assert_non_null(expected);
        for (int i = 0; i < n; i++) {
                tl += (size_t)sprintf(text + tl, "{{#a}}<");
                expected[el++] = '<';
                ctx = json_pack("{s:o}", "a", ctx);
        }
        tl += (size_t)sprintf(text + tl, "{{v}}");
        el += (size_t)sprintf(expected + el, "deep");
        for (int i = 0; i < n; i++) {
                tl += (size_t)sprintf(text + tl, ">{{/a}}");
                expected[el++] = '>';
        }
        expected[el] = '\0';
        out = render(text, ctx, NULL, 0, err, sizeof(err));
        if (!out)
                fail_msg("%s", err);
        assert_string_equal(out, expected);
        free(out);
        json_decref(ctx);
        free(expected);
        free(text);
}

static void nesting_is_bounded(void **state)
{
        const int n = KA_MUSTACHE_MAX_DEPTH + 1;
        char *text = malloc((size_t)n * 6 + 1);
        char err[512] = "";
        json_t *partials = json_pack("{s:s}", "self", "x{{>self}}");
        char *out;

        assert_non_null(text);
        for (int i = 0; i < n; i++)
                memcpy(text + i * 6, "{{#a}}", 6);
        text[n * 6] = '\0';
        assert_null(ka_mustache_parse("t", text, err, sizeof(err)));
        assert_non_null(strstr(err, "nested deeper than"));
        free(text);

        /* A partial that includes itself fails instead of overflowing the
         * stack. */
        out = render("{{>self}}", NULL, partials, 0, err, sizeof(err));
        assert_null(out);
        assert_non_null(strstr(err, "nested deeper than"));
        json_decref(partials);
}

static void standalone_partials_indent_nested(void **state)
{
        check("  {{>outer}}\n!\n", "{\"v\": \"1\\n2\"}",
              "{\"outer\": \"a\\n  {{>inner}}\\nz {{>inline}}\\n\","
              " \"inner\": \"b{{v}}\\n\\nc\\n\","
              " \"inline\": \"i\\nj\"}",
              0,
              /* inner is indented by both; the interpolated newline and
               * the inline partial are not. */
              "  a\n"
              "    b1\n2\n"
              "    \n"
              "    c\n"
              "  z i\nj\n"
              "!\n");
}

static void values_render(void **state)
{
        check("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}} {{h}}|{{i}}|{{j}}",
              "{\"a\": 0.1, \"b\": 2.0, \"c\": -1e300, \"d\": 123456789012345,"
              " \"e\": true, \"f\": false, \"g\": [1, \"x\"], \"h\": {\"k\": "
              "1},"
              " \"i\": null, \"j\": 0.30000000000000004}",
              NULL, 0,
              "0.1 2 -1e+300 123456789012345 true false [1,\"x\"] "
              "{\"k\":1}||0.30000000000000004");
        /* 0 and "" are truthy (only false, null and [] are falsy). */
        check("{{#z}}zero{{/z}}{{#s}}empty{{/s}}{{^n}}none{{/n}}",
              "{\"z\": 0, \"s\": \"\", \"n\": null}", NULL, 0, "zeroemptynone");
}

/* About 10 MB out of 100k list elements; the expected text is built
 * independently with snprintf. */
static void large_output(void **state)
{
        const size_t n = 100000;
        json_t *items = json_array();
        json_t *ctx;
        char *expected = malloc(n * 128);
        size_t el = 0;
        char err[512] = "";
        char *out;

        assert_non_null(expected);
        for (size_t i = 0; i < n; i++) {
                json_array_append_new(items,
                                      json_pack("{s:I}", "i", (json_int_t)i));
                el += (size_t)snprintf(expected + el, n * 128 - el,
                                       "        agg->v[%zu] = "
                                       "ka_stats_mean(&win->s[%zu], "
                                       "\"field\"); /* padding */\n",
                                       i, i);
        }
        ctx = json_pack("{s:o, s:s}", "items", items, "f", "field");
        out = render("{{#items}}\n"
                     "        agg->v[{{i}}] = ka_stats_mean(&win->s[{{i}}], "
                     "\"{{f}}\"); /* padding */\n"
                     "{{/items}}\n",
                     ctx, NULL, 0, err, sizeof(err));
        if (!out)
                fail_msg("%s", err);
        assert_true(el > 5000000);
        assert_int_equal(strlen(out), el);
        assert_memory_equal(out, expected, el);
        free(out);
        free(expected);
        json_decref(ctx);
}

static void template_is_reusable(void **state)
{
        char err[512];
        ka_mustache_t *tpl =
                ka_mustache_parse("t", "{{#x}}[{{.}}]{{/x}}", err, sizeof(err));
        json_t *a = json_pack("{s:[i,i]}", "x", 1, 2);
        json_t *b = json_pack("{s:s}", "x", "y");
        char *out;

        assert_non_null(tpl);
        out = ka_mustache_render(tpl, a, NULL, 0, err, sizeof(err));
        assert_string_equal(out, "[1][2]");
        free(out);
        out = ka_mustache_render(tpl, b, NULL, 0, err, sizeof(err));
        assert_string_equal(out, "[y]");
        free(out);
        out = ka_mustache_render(tpl, NULL, NULL, 0, err, sizeof(err));
        assert_string_equal(out, "");
        free(out);
        ka_mustache_destroy(tpl);
        ka_mustache_destroy(NULL);
        json_decref(a);
        json_decref(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(spec_comments),
                cmocka_unit_test(spec_interpolation),
                cmocka_unit_test(spec_inverted),
                cmocka_unit_test(spec_sections),
                cmocka_unit_test(spec_delimiters),
                cmocka_unit_test(spec_partials),
                cmocka_unit_test(escaping_off_for_c),
                cmocka_unit_test(c_struct_from_list),
                cmocka_unit_test(parse_errors_have_positions),
                cmocka_unit_test(errors_are_one_line),
                cmocka_unit_test(deep_nesting),
                cmocka_unit_test(nesting_is_bounded),
                cmocka_unit_test(standalone_partials_indent_nested),
                cmocka_unit_test(values_render),
                cmocka_unit_test(large_output),
                cmocka_unit_test(template_is_reusable),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
