/*
 * The CLI helpers: log levels, number parsing and environment defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(log_levels_parse),
                cmocka_unit_test(log_level_filters),
                cmocka_unit_test(numbers_in_range),
                cmocka_unit_test(env_defaults),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
