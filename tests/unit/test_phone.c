/*
 * test_phone.c — unit tests for core/phone.c: French numbers as people
 * write them, to E.164, and the reasons given for the ones refused.
 * Owns nothing beyond its fixtures; never touches the network or disk.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/phone.h"

struct good {
	const char	*in;
	const char	*out;
};

struct bad {
	const char	*in;
	const char	*why;
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static void
check_good(const struct good *g, size_t n)
{
	char out[PHONE_E164_MAX];
	const char *why;
	size_t i;

	for (i = 0; i < n; i++) {
		why = "unset";
		if (phone_normalize(g[i].in, out, &why) != 0)
			fail_msg("\"%s\" refused: %s", g[i].in, why);
		assert_null(why);
		assert_string_equal(out, g[i].out);
		assert_true(phone_is_e164(out));
	}
}

static void
check_bad(const struct bad *b, size_t n)
{
	char out[PHONE_E164_MAX];
	const char *why;
	size_t i;

	for (i = 0; i < n; i++) {
		why = NULL;
		memcpy(out, "garbage", 8);
		if (phone_normalize(b[i].in, out, &why) != -1)
			fail_msg("\"%s\" accepted as %s", b[i].in, out);
		assert_non_null(why);
		assert_string_equal(why, b[i].why);
		assert_string_equal(out, "");
	}
}

static void
test_metropolitan(void **state)
{
	static const struct good g[] = {
		{ "0612345678", "+33612345678" },
		{ "06 12 34 56 78", "+33612345678" },
		{ "06.12.34.56.78", "+33612345678" },
		{ "06-12-34-56-78", "+33612345678" },
		{ "06/12/34/56/78", "+33612345678" },
		{ "(06) 12 34 56 78", "+33612345678" },
		{ "  06 12 34 56 78  ", "+33612345678" },
		{ "\t06 12 34 56 78", "+33612345678" },
		{ "06\xc2\xa0" "12\xc2\xa0" "34\xc2\xa0" "56\xc2\xa0" "78",
		  "+33612345678" },
		{ "06\xe2\x80\xaf" "12\xe2\x80\xaf" "34 56 78", "+33612345678" },
		{ "01 42 68 53 00", "+33142685300" },
		{ "07 00 00 00 00", "+33700000000" },
		{ "09 87 65 43 21", "+33987654321" },
		{ "05 09 12 34 56", "+33509123456" },	/* not 0508 */
		{ "02 63 12 34 56", "+33263123456" },	/* not 0262 */
	};

	(void)state;
	check_good(g, NITEMS(g));
}

static void
test_international(void **state)
{
	static const struct good g[] = {
		{ "+33612345678", "+33612345678" },
		{ "+33 6 12 34 56 78", "+33612345678" },
		{ "+33 (0)6 12 34 56 78", "+33612345678" },
		{ "+33(0)612345678", "+33612345678" },
		{ "0033 6 12 34 56 78", "+33612345678" },
		{ "0033612345678", "+33612345678" },
		{ "0033 (0)6 12 34 56 78", "+33612345678" },
		{ "+44 20 7946 0958", "+442079460958" },
		{ "+44 (0)20 7946 0958", "+442079460958" },
		{ "0044 20 7946 0958", "+442079460958" },
		{ "+1 (212) 555-0123", "+12125550123" },
		{ "+590 690 12 34 56", "+590690123456" },
		{ "+262 262 12 34 56", "+262262123456" },
		{ "+508 41 23 45", "+508412345" },
		{ "+12345678", "+12345678" },		/* 8 digits */
		{ "+123456789012345", "+123456789012345" }, /* 15 */
	};

	(void)state;
	check_good(g, NITEMS(g));
}

static void
test_overseas(void **state)
{
	static const struct good g[] = {
		/* Guadeloupe */
		{ "0590 12 34 56", "+590590123456" },
		{ "0690 12 34 56", "+590690123456" },
		{ "0691 12 34 56", "+590691123456" },
		/* Guyane */
		{ "0594 12 34 56", "+594594123456" },
		{ "0694 12 34 56", "+594694123456" },
		/* Martinique */
		{ "0596 12 34 56", "+596596123456" },
		{ "0696 12 34 56", "+596696123456" },
		{ "0697 12 34 56", "+596697123456" },
		/* Réunion */
		{ "0262 12 34 56", "+262262123456" },
		{ "0692 12 34 56", "+262692123456" },
		{ "0693 12 34 56", "+262693123456" },
		/* Mayotte */
		{ "0269 12 34 56", "+262269123456" },
		{ "0639 12 34 56", "+262639123456" },
		/* Saint-Pierre-et-Miquelon: six digits after +508 */
		{ "0508 41 23 45", "+508412345" },
		{ "05.08.41.23.45", "+508412345" },
	};

	(void)state;
	check_good(g, NITEMS(g));
}

static void
test_refused(void **state)
{
	static const struct bad b[] = {
		{ "", "is empty" },
		{ NULL, "is empty" },
		{ "   ", "is empty" },
		{ " . - / ", "is empty" },
		{ "612345678",
		  "has 9 digits; did a spreadsheet drop the leading 0? "
		  "(write 06 12 34 56 78)" },
		{ "6 12 34 56 78",
		  "has 9 digits; did a spreadsheet drop the leading 0? "
		  "(write 06 12 34 56 78)" },
		{ "061234567",
		  "has 9 digits; a French number has 10 (like 06 12 34 56 78)" },
		{ "06 12 34 56",
		  "has 8 digits; a French number has 10 (like 06 12 34 56 78)" },
		{ "0",
		  "has 1 digit; a French number has 10 (like 06 12 34 56 78)" },
		{ "06123456789",
		  "has 11 digits; a French number has 10 (like 06 12 34 56 78)" },
		{ "33612345678",
		  "has 11 digits starting with 33; write +33 in front "
		  "(like +33 6 12 34 56 78)" },
		{ "1234567890",
		  "has 10 digits but does not start with 0 "
		  "(like 06 12 34 56 78)" },
		{ "0612345678901234567890123456789",
		  "has far too many digits; a French number has 10 "
		  "(like 06 12 34 56 78)" },
		{ "06 12 34 56 7O", "has letters in it" },
		{ "tel: 06 12 34 56 78", "has letters in it" },
		{ "06 12 34 56 78 ext", "has letters in it" },
		{ "06,12,34,56,78",
		  "has a character that is not a digit or a separator" },
		{ "06 12 34 56 78 \xc3\xa9",
		  "has a character that is not a digit or a separator" },
		{ "06 12 34 56 78 \xff",
		  "has a character that is not a digit or a separator" },
		{ "06 12 +34 56 78", "has a '+' that is not at the start" },
		{ "++33612345678", "has a '+' that is not at the start" },
		{ "+", "has nothing after the +" },
	};

	(void)state;
	check_bad(b, NITEMS(b));
}

static void
test_refused_international(void **state)
{
	static const struct bad b[] = {
		{ "+33 6 12 34 56 7", "does not have the 9 digits a +33 number has after +33" },
		{ "+33 6 12 34 56 789", "does not have the 9 digits a +33 number has after +33" },
		{ "+33 06 12 34 56 78", "does not have the 9 digits a +33 number has after +33" },
		{ "+33 0 612 345 67", "does not have the 9 digits a +33 number has after +33" },
		{ "0033 06 12 34 56 78", "does not have the 9 digits a +33 number has after +33" },
		{ "+1234567",
		  "is too short for an international number "
		  "(8 to 15 digits after + or 00)" },
		{ "00",
		  "is too short for an international number "
		  "(8 to 15 digits after + or 00)" },
		{ "+1234567890123456",
		  "is too long for an international number "
		  "(8 to 15 digits after + or 00)" },
		{ "001234567890123456",
		  "is too long for an international number "
		  "(8 to 15 digits after + or 00)" },
		{ "+0612345678",
		  "has a 0 where the country code should start (after + or 00)" },
		{ "+(0)33612345678",
		  "has a 0 where the country code should start (after + or 00)" },
		{ "000033612345678",
		  "has a 0 where the country code should start (after + or 00)" },
	};

	(void)state;
	check_bad(b, NITEMS(b));
}

static void
test_null_why(void **state)
{
	char out[PHONE_E164_MAX];

	(void)state;
	assert_int_equal(phone_normalize("abc", out, NULL), -1);
	assert_int_equal(phone_normalize("0612345678", out, NULL), 0);
	assert_string_equal(out, "+33612345678");
}

static void
test_is_e164(void **state)
{
	(void)state;
	assert_true(phone_is_e164("+33612345678"));
	assert_true(phone_is_e164("+508412345"));
	assert_true(phone_is_e164("+12345678"));
	assert_true(phone_is_e164("+123456789012345"));
	assert_false(phone_is_e164("+1234567"));
	assert_false(phone_is_e164("+1234567890123456"));
	assert_false(phone_is_e164("+0612345678"));
	assert_false(phone_is_e164("0612345678"));
	assert_false(phone_is_e164("+33 612345678"));
	assert_false(phone_is_e164("+33612345678 "));
	assert_false(phone_is_e164("+"));
	assert_false(phone_is_e164(""));
	assert_false(phone_is_e164(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metropolitan),
		cmocka_unit_test(test_international),
		cmocka_unit_test(test_overseas),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_refused_international),
		cmocka_unit_test(test_null_why),
		cmocka_unit_test(test_is_e164),
	};

	return cmocka_run_group_tests_name("phone", tests, NULL, NULL);
}
