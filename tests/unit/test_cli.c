/*
 * The CLI helpers: log levels, number parsing, environment defaults and
 * the help layout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "ka.h"
#include "log.h"

static void log_levels_parse(void **state)
{
        ka_log_level_t level;

        assert_true(ka_log_level_parse("debug", &level));
        assert_int_equal(level, KA_LOG_DEBUG);
        assert_true(ka_log_level_parse("WARN", &level));
        assert_int_equal(level, KA_LOG_WARN);
        assert_true(ka_log_level_parse("crit", &level));
        assert_int_equal(level, KA_LOG_CRIT);
        assert_false(ka_log_level_parse("verbose", &level));
}

static void log_level_filters(void **state)
{
        ka_log_set_level(KA_LOG_WARN);
        assert_true(ka_log_enabled(KA_LOG_ERROR));
        assert_false(ka_log_enabled(KA_LOG_INFO));
        ka_log_set_level(KA_LOG_INFO);
}

static void numbers_in_range(void **state)
{
        long l;
        double d;

        assert_true(ka_cli_parse_long("t", "--n", "42", 0, 100, &l));
        assert_int_equal(l, 42);
        assert_false(ka_cli_parse_long("t", "--n", "101", 0, 100, &l));
        assert_false(ka_cli_parse_long("t", "--n", "4x", 0, 100, &l));
        assert_false(ka_cli_parse_long("t", "--n", "", 0, 100, &l));
        assert_true(ka_cli_parse_double("t", "--f", "0.5", 0, 10, &d));
        assert_true(d == 0.5);
        assert_false(ka_cli_parse_double("t", "--f", "nan", 0, 10, &d));
        assert_false(ka_cli_parse_double("t", "--f", "-1", 0, 10, &d));
}

static void env_defaults(void **state)
{
        setenv("KA_TEST_ENV", "", 1);
        assert_string_equal(ka_env("KA_TEST_ENV", "def"), "def");
        setenv("KA_TEST_ENV", "set", 1);
        assert_string_equal(ka_env("KA_TEST_ENV", "def"), "set");
        unsetenv("KA_TEST_ENV");
        assert_string_equal(ka_env("KA_TEST_ENV", "def"), "def");
}

/* The help layout of every command, byte for byte. */
static void help_layout(void **state)
{
        static const ka_cli_item_t options[] = {
                {"--short X", "a short one", "1"},
                {"--a-very-long-option-name VALUE",
                 "its text starts on the next line", NULL},
                {"--wrapped N",
                 "a text long enough to be wrapped onto a second line under "
                 "the first",
                 "$ENV_VAR, else 42"},
                {NULL, NULL, NULL},
        };
        static const ka_cli_item_t var = {"SOME_VAR", "what it sets",
                                          "a default too long to stay whole "
                                          "on the line where it starts"};
        static const ka_cli_item_t *const environment[] = {&var, NULL};
        static const ka_cli_help_t help = {
                .usage = "cmd [--short X] [--a-very-long-option-name VALUE] "
                         "[--wrapped N] [--more M] [--and-more]\n"
                         "cmd --other",
                .description = "Does what it does, in a description long "
                               "enough to need two lines of the help text "
                               "when wrapped.",
                .options = options,
                .environment = environment,
                .epilog = "The end.",
        };
        static const char want[] =
                "usage: kafkaaggregator cmd [--short X] "
                "[--a-very-long-option-name VALUE]\n"
                "                           [--wrapped N] [--more M] "
                "[--and-more]\n"
                "       kafkaaggregator cmd --other\n"
                "\n"
                "Does what it does, in a description long enough to need "
                "two lines of the help\n"
                "text when wrapped.\n"
                "\n"
                "Options:\n"
                "  --short X               a short one (default: 1)\n"
                "  --a-very-long-option-name VALUE\n"
                "                          its text starts on the next "
                "line\n"
                "  --wrapped N             a text long enough to be wrapped "
                "onto a second line\n"
                "                          under the first "
                "(default: $ENV_VAR, else 42)\n"
                "  -h, --help              print this help and exit\n"
                "\n"
                "Environment:\n"
                "  SOME_VAR  what it sets (default: a default too long to "
                "stay whole on the line\n"
                "            where it starts)\n"
                "\n"
                "The end.\n";
        char *got = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&got, &len);

        assert_non_null(out);
        ka_cli_help_print(out, &help);
        assert_int_equal(fclose(out), 0);
        assert_string_equal(got, want);
        free(got);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(log_levels_parse),
                cmocka_unit_test(log_level_filters),
                cmocka_unit_test(numbers_in_range),
                cmocka_unit_test(env_defaults),
                cmocka_unit_test(help_layout),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
