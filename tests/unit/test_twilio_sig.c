/*
 * test_twilio_sig.c — unit tests for http/twilio_sig.c: known answers
 * (Twilio's published example, and vectors made with openssl), parameter
 * order, repeated names, ports, UTF-8, and every mutation that must fail.
 * Pure: no files, no network; owns nothing.
 *
 * Every expected signature was computed in a shell, independently of this
 * code, as
 *   printf '%s' "$URL$NAME1$VALUE1$NAME2$VALUE2..." |
 *       openssl dgst -sha1 -hmac "$TOKEN" -binary | base64
 * with the parameters already in byte order of name, then value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "http/twilio_sig.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Twilio's documented example ("Validating requests are coming from Twilio"). */
#define DOC_TOKEN	"12345"
#define DOC_URL		"https://mycompany.com/myapp.php?foo=1&bar=2"
#define DOC_SIG		"RSOYDt4T1cUTdK1PDd93/VVr8B8="

/* Our own vectors. */
#define TOKEN		"0123456789abcdef0123456789abcdef"
#define URL		"https://palier.example/sms/twilio"

static const char *const doc_names[] = { "CallSid", "Caller", "Digits", "From", "To" };
static const char *const doc_values[] = {
	"CA1234567890ABCDE", "+14158675309", "1234", "+14158675309", "+18005551212",
};

static int
check(const char *url, const char *const *names, const char *const *values,
    size_t n, const char *sig)
{
	return twilio_signature_ok(TOKEN, url, names, values, n, sig);
}

static void
test_twilio_published_example(void **state)
{
	(void)state;
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, doc_names, doc_values,
	    NITEMS(doc_names), DOC_SIG), 1);
}

static void
test_twilio_example_other_numbers(void **state)
{
	/* The same request with +12349013030 as Caller and From, as some
	 * copies of the example have it: the published signature does not
	 * belong to it; this one (openssl) does. */
	static const char *const v[] = {
		"CA1234567890ABCDE", "+12349013030", "1234", "+12349013030", "+18005551212",
	};

	(void)state;
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, doc_names, v,
	    NITEMS(doc_names), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), 1);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, doc_names, v,
	    NITEMS(doc_names), DOC_SIG), 0);
}

static void
test_order_does_not_matter(void **state)
{
	static const char *const n[] = { "To", "Digits", "From", "CallSid", "Caller" };
	static const char *const v[] = {
		"+18005551212", "1234", "+14158675309", "CA1234567890ABCDE", "+14158675309",
	};

	(void)state;
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, n, v, NITEMS(n), DOC_SIG), 1);
}

static void
test_byte_order(void **state)
{
	/* "Body" < "To" < "body": upper case sorts first.
	 * openssl over URL "BodyX" "ToY" "bodyZ". */
	static const char *const n[] = { "body", "To", "Body" };
	static const char *const v[] = { "Z", "Y", "X" };

	(void)state;
	assert_int_equal(check(URL, n, v, NITEMS(n), "wKZk24dIBsxtG79RWGj+vK29y4Q="), 1);
}

static void
test_repeated_names(void **state)
{
	/* A repeated name gives each of its values, sorted: openssl over
	 * URL "BodyBonjour" "Taga" "Tagb" "Tagc". */
	static const char *const n[] = { "Tag", "Body", "Tag", "Tag" };
	static const char *const v[] = { "b", "Bonjour", "c", "a" };
	static const char *const v2[] = { "c", "Bonjour", "a", "b" };

	(void)state;
	assert_int_equal(check(URL, n, v, NITEMS(n), "zm4Vemg6/3amGZVfMMRqn0iWvn4="), 1);
	assert_int_equal(check(URL, n, v2, NITEMS(n), "zm4Vemg6/3amGZVfMMRqn0iWvn4="), 1);
	/* The form's own order, "TagbTagcTaga", is not what Twilio signs. */
	assert_int_equal(check(URL, n, v, NITEMS(n), "BlOJQhD7v5XwvKrzfy0gaSsRjo4="), 0);
}

static void
test_no_params_and_utf8(void **state)
{
	static const char *const n[] = { "From", "Body", "NumMedia" };
	static const char *const v[] = {
		"+33612345678", "F\xc3\xaate des voisins \xf0\x9f\x8e\x89", "0",
	};

	(void)state;
	assert_int_equal(check(URL, NULL, NULL, 0, "u2dd2nxTtkC2Pk92FaGSt/cAuPU="), 1);
	assert_int_equal(check(URL, n, v, NITEMS(n), "AK2ZHjiHPNrs3Wl4mmtKdIKnhQk="), 1);
}

static void
test_ports(void **state)
{
	static const char *const n[] = { "From", "Body" };
	static const char *const v[] = { "+33612345678", "Oui" };
	static const char *const n1[] = { "Body" };
	static const char *const v1[] = { "Oui" };
	const char *without = "8t9urk1uchajUZ5KnPIEm2CTBt8=";	/* signed without :443 */
	const char *with = "5UIEvzMBafoO0a/8HEaeVlH88lo=";		/* signed with :443 */

	(void)state;
	assert_int_equal(check(URL, n, v, 2, without), 1);
	assert_int_equal(check(URL, n, v, 2, with), 1);
	assert_int_equal(check("https://palier.example:443/sms/twilio", n, v, 2, without), 1);
	assert_int_equal(check("https://palier.example:443/sms/twilio", n, v, 2, with), 1);
	assert_int_equal(check("https://user@palier.example:443/sms/twilio", n, v, 2, with), 0);
	/* A port Twilio was given is dropped too, as Twilio's validators do. */
	assert_int_equal(check("https://palier.example:8443/sms/twilio", n1, v1, 1,
	    "mP/+ZIAwbfVczNFbXhAgoxCVdGc="), 1);
	assert_int_equal(check("https://palier.example:8443/sms/twilio", n1, v1, 1,
	    "29IZiq+Mv5Z7pEYFmwb4mY40U7c="), 1);
	/* http is signed as http, with :80 as its default. */
	assert_int_equal(check("http://palier.example:80/sms/twilio", n, v, 2,
	    "tNa5vdR9l8linY2DFexgZzmx47o="), 1);
	/* 443 is no default port of http. */
	assert_int_equal(check("http://palier.example:443/sms/twilio", n, v, 2, with), 0);
}

static void
test_mutations(void **state)
{
	static const char *const changed[] = {
		"CA1234567890ABCDE", "+14158675309", "1235", "+14158675309", "+18005551212",
	};
	static const char *const extra_n[] = {
		"CallSid", "Caller", "Digits", "From", "To", "Body",
	};
	static const char *const extra_v[] = {
		"CA1234567890ABCDE", "+14158675309", "1234", "+14158675309", "+18005551212", "",
	};
	static const char *const null_v[] = {
		"CA1234567890ABCDE", NULL, "1234", "+14158675309", "+18005551212",
	};
	static const char *const swapped_v[] = {	/* values moved to other names */
		"CA1234567890ABCDE", "+14158675309", "1234", "+18005551212", "+14158675309",
	};
	const char *const *dn = doc_names, *const *dv = doc_values;
	size_t n = NITEMS(doc_names);

	(void)state;
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, dn, changed, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, extra_n, extra_v, 6, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, dn, dv, n - 1, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, dn, swapped_v, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, dn, null_v, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, NULL, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, dn, NULL, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN,
	    "https://mycompany.com/myapp.php?foo=1&bar=3", dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN,
	    "https://mycompany.com/myapp.php", dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN,
	    "https://mycompany.com/myapp.php?foo=1&bar=2/", dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN,
	    "https://evil.example/myapp.php?foo=1&bar=2", dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN,
	    "http://mycompany.com/myapp.php?foo=1&bar=2", dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, "", dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, NULL, dn, dv, n, DOC_SIG), 0);
}

static void
test_bad_signatures_and_tokens(void **state)
{
	static const char *const sigs[] = {
		"", "RSOYDt4T1cUTdK1PDd93/VVr8B8", "RSOYDt4T1cUTdK1PDd93/VVr8B8==",
		"RSOYDt4T1cUTdK1PDd93/VVr8B8= ", " RSOYDt4T1cUTdK1PDd93/VVr8B8=",
		"rsoydt4t1cutdk1pdd93/vvr8b8=", "RSOYDt4T1cUTdK1PDd93/VVr8B9=",
		"SSOYDt4T1cUTdK1PDd93/VVr8B8=", "RSOYDt4T1cUTdK1PDd93_VVr8B8=",
		"RSOYDt4T1cUTdK1\0d93/VVr8B8=", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	};
	const char *const *dn = doc_names, *const *dv = doc_values;
	size_t n = NITEMS(doc_names);

	(void)state;
	for (size_t i = 0; i < NITEMS(sigs); i++)
		if (twilio_signature_ok(DOC_TOKEN, DOC_URL, dn, dv, n, sigs[i]) != 0)
			fail_msg("signature %zu accepted", i);
	assert_int_equal(twilio_signature_ok(DOC_TOKEN, DOC_URL, dn, dv, n, NULL), 0);
	assert_int_equal(twilio_signature_ok("12346", DOC_URL, dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok("1234", DOC_URL, dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok("123456", DOC_URL, dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok("", DOC_URL, dn, dv, n, DOC_SIG), 0);
	assert_int_equal(twilio_signature_ok(NULL, DOC_URL, dn, dv, n, DOC_SIG), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twilio_published_example),
		cmocka_unit_test(test_twilio_example_other_numbers),
		cmocka_unit_test(test_order_does_not_matter),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_repeated_names),
		cmocka_unit_test(test_no_params_and_utf8),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_bad_signatures_and_tokens),
	};

	return cmocka_run_group_tests_name("twilio_sig", tests, NULL, NULL);
}
