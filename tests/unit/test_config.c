/*
 * test_config.c — unit tests for core/config.c: the embedded defaults,
 * values read from a file, the exact "PATH:LINE: reason" of every refusal,
 * config_dump and the choice of file. Writes its files with mkstemp under
 * $TMPDIR (or /tmp) and removes each one; frees every config and message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

/* A temporary file holding text; the caller unlinks and frees the path. */
static char *
write_temp(const char *text)
{
	const char *dir = getenv("TMPDIR");
	size_t len = strlen(text);
	char *path;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	path = malloc(strlen(dir) + sizeof("/palier-config-XXXXXX"));
	assert_non_null(path);
	sprintf(path, "%s/palier-config-XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

/* Loads text as a file; *err receives the message (or NULL). */
static struct config *
load_text(const char *text, char **err, char **path_out)
{
	char *path = write_temp(text);
	struct config *cfg;

	*err = NULL;
	cfg = config_load(path, err);
	unlink(path);
	*path_out = path;
	return cfg;
}

/* text must be refused with exactly "PATH:line: reason". */
static void
expect_error(const char *text, int line, const char *reason)
{
	char *path, *err, *want;
	struct config *cfg = load_text(text, &err, &path);
	int error_as_expected;

	want = malloc(strlen(path) + strlen(reason) + 32);
	assert_non_null(want);
	sprintf(want, "%s:%d: %s", path, line, reason);
	error_as_expected = cfg == NULL && err != NULL && strcmp(err, want) == 0;
	if (!error_as_expected)
		print_error("config:\n%s\nwanted: %s\ngot:    %s (config %s)\n", text,
		    want, err ? err : "(no error)", cfg ? "loaded" : "NULL");
	config_free(cfg);
	free(err);
	free(want);
	free(path);
	assert_true(error_as_expected);
}

/* text must load; the caller checks and frees the config. */
static struct config *
expect_load(const char *text)
{
	char *path, *err;
	struct config *cfg = load_text(text, &err, &path);

	if (cfg == NULL)
		print_error("refused: %s\n", err ? err : "(no error)");
	free(err);
	free(path);
	assert_non_null(cfg);
	return cfg;
}

static void
test_defaults(void **state)
{
	char *err = NULL;
	struct config *cfg = config_load(NULL, &err);

	(void)state;
	assert_non_null(cfg);
	assert_null(err);
	assert_string_equal(cfg->path, "(embedded defaults)");
	assert_string_equal(cfg->database_url, "postgresql:///palier");
	assert_string_equal(cfg->mail_domain, "residence.example");
	assert_string_equal(cfg->lmtp_listen, "127.0.0.1:2424");
	assert_int_equal(cfg->lmtp_max_size, 10485760);
	assert_string_equal(cfg->http_listen, "127.0.0.1:8080");
	assert_string_equal(cfg->smtp_relay, "file:var/mail");
	assert_string_equal(cfg->sms_gateway, "file:var/sms");
	assert_string_equal(cfg->sms_password, "");
	assert_int_equal(cfg->sms_quiet_hours.none, 0);
	assert_int_equal(cfg->sms_quiet_hours.start, 1200);
	assert_int_equal(cfg->sms_quiet_hours.end, 480);
	assert_int_equal(cfg->sms_max_segments, 3);
	assert_int_equal(cfg->digest_daily_at, 1080);
	assert_int_equal(cfg->digest_weekly_on, 0);
	assert_string_equal(cfg->log_level, "info");
	config_free(cfg);
	config_free(NULL);
}

/* An empty file and a file of comments give the defaults. */
static void
test_empty_file(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = expect_load("");
	assert_int_equal(cfg->lmtp_max_size, 10485760);
	assert_int_equal(cfg->digest_daily_at, 1080);
	config_free(cfg);
	cfg = expect_load("; only a comment\n# and another\n\n[lmtp]\n");
	assert_string_equal(cfg->database_url, "postgresql:///palier");
	config_free(cfg);
}

static void
test_values(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = expect_load(
	    "; palier test configuration\n"
	    "[database]\n"
	    "url = postgresql://db.example/palier\n"
	    "\n"
	    "[mail]\n"
	    "domain = les-tilleuls.example.fr\n"
	    "from_name = Résidence Les Tilleuls\n"
	    "\n"
	    "[lmtp]\n"
	    "listen = [::1]:2525\n"
	    "max_size = 512K\n"
	    "\n"
	    "[http]\n"
	    "listen = unix:/run/palier/http.sock\n"
	    "\n"
	    "[sms]\n"
	    "quiet_hours = none\n"
	    "max_segments = 10\n"
	    "password = hunter2\n"
	    "\n"
	    "[digest]\n"
	    "daily_at = 07:30\n"
	    "weekly_on = Monday\n"
	    "\n"
	    "[log]\n"
	    "level = debug\n");
	assert_string_equal(cfg->database_url, "postgresql://db.example/palier");
	assert_string_equal(cfg->mail_domain, "les-tilleuls.example.fr");
	assert_string_equal(cfg->mail_from_name, "Résidence Les Tilleuls");
	assert_string_equal(cfg->lmtp_listen, "[::1]:2525");
	assert_int_equal(cfg->lmtp_max_size, 512 * 1024);
	assert_string_equal(cfg->http_listen, "unix:/run/palier/http.sock");
	assert_int_equal(cfg->sms_quiet_hours.none, 1);
	assert_int_equal(cfg->sms_max_segments, 10);
	assert_string_equal(cfg->sms_password, "hunter2");
	assert_int_equal(cfg->digest_daily_at, 7 * 60 + 30);
	assert_int_equal(cfg->digest_weekly_on, 1);
	assert_string_equal(cfg->log_level, "debug");
	/* Keys not in the file keep their defaults. */
	assert_string_equal(cfg->smtp_relay, "file:var/mail");
	assert_string_equal(cfg->security_secret_file, "var/secret");
	assert_int_equal(strstr(cfg->path, "palier-config-") != NULL, 1);
	config_free(cfg);
}

static void
test_sizes_and_days(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = expect_load("[lmtp]\nmax_size = 1G\n[digest]\nweekly_on = SATURDAY\n"
	    "[sms]\nquiet_hours = 22:00-07:15\n");
	assert_int_equal(cfg->lmtp_max_size, 1073741824);
	assert_int_equal(cfg->digest_weekly_on, 6);
	assert_int_equal(cfg->sms_quiet_hours.none, 0);
	assert_int_equal(cfg->sms_quiet_hours.start, 22 * 60);
	assert_int_equal(cfg->sms_quiet_hours.end, 7 * 60 + 15);
	config_free(cfg);

	cfg = expect_load("[lmtp]\nmax_size = 20m\n[digest]\nweekly_on = wednesday\n"
	    "[sms]\nquiet_hours = NONE\n");
	assert_int_equal(cfg->lmtp_max_size, 20 * 1024 * 1024);
	assert_int_equal(cfg->digest_weekly_on, 3);
	assert_int_equal(cfg->sms_quiet_hours.none, 1);
	config_free(cfg);

	cfg = expect_load("[lmtp]\nmax_size = 1024\n[digest]\ndaily_at = 00:00\n");
	assert_int_equal(cfg->lmtp_max_size, 1024);
	assert_int_equal(cfg->digest_daily_at, 0);
	config_free(cfg);

	cfg = expect_load("[lmtp]\nmax_size = 10MB\n[digest]\ndaily_at = 23:59\n");
	assert_int_equal(cfg->lmtp_max_size, 10485760);
	assert_int_equal(cfg->digest_daily_at, 23 * 60 + 59);
	config_free(cfg);
}

static void
test_error_unknown_key(void **state)
{
	(void)state;
	expect_error("[lmtp]\nlisten = 127.0.0.1:2424\nport = 25\n", 3,
	    "unknown key 'port' in [lmtp]");
}

static void
test_error_unknown_section(void **state)
{
	(void)state;
	expect_error("[smtpd]\nrelay = 127.0.0.1:25\n", 2, "unknown section [smtpd]");
}

static void
test_error_bad_size(void **state)
{
	(void)state;
	expect_error("[lmtp]\nmax_size = 10X\n", 2,
	    "[lmtp] max_size: '10X' is not a size (like 512K or 10M)");
	expect_error("[lmtp]\nmax_size = -1\n", 2,
	    "[lmtp] max_size: '-1' is not a size (like 512K or 10M)");
	expect_error("[lmtp]\nmax_size = 2G\n", 2,
	    "[lmtp] max_size: '2G' is outside 1024..1073741824 bytes");
	expect_error("[lmtp]\nmax_size = 1000\n", 2,
	    "[lmtp] max_size: '1000' is outside 1024..1073741824 bytes");
}

/*
 * A size whose multiplication overflows must be refused, not wrapped:
 * (2^34 + 1) GiB is 2^64 + 2^30 bytes, which wraps to exactly 1G.
 */
static void
test_error_size_overflow(void **state)
{
	(void)state;
	expect_error("[lmtp]\nmax_size = 17179869185G\n", 2,
	    "[lmtp] max_size: '17179869185G' is outside 1024..1073741824 bytes");
}

static void
test_error_int_range(void **state)
{
	(void)state;
	expect_error("[sms]\nmax_segments = 11\n", 2, "[sms] max_segments: 11 is outside 1..10");
	expect_error("[sms]\nmax_segments = 0\n", 2, "[sms] max_segments: 0 is outside 1..10");
	expect_error("[sms]\nmax_segments = three\n", 2,
	    "[sms] max_segments: 'three' is not a whole number");
	expect_error("[sms]\nmax_segments = 3x\n", 2,
	    "[sms] max_segments: '3x' is not a whole number");
}

static void
test_error_time(void **state)
{
	(void)state;
	expect_error("[digest]\ndaily_at = 25:00\n", 2,
	    "[digest] daily_at: '25:00' is not a time of day (like 18:00)");
	expect_error("[digest]\ndaily_at = 18:60\n", 2,
	    "[digest] daily_at: '18:60' is not a time of day (like 18:00)");
	expect_error("[digest]\ndaily_at = 6pm\n", 2,
	    "[digest] daily_at: '6pm' is not a time of day (like 18:00)");
	expect_error("[sms]\nquiet_hours = 20:00\n", 2,
	    "[sms] quiet_hours: '20:00' is not a span of hours (like 20:00-08:00) or none");
	expect_error("[sms]\nquiet_hours = 20:00-24:00\n", 2,
	    "[sms] quiet_hours: '20:00-24:00' is not a span of hours (like 20:00-08:00) or none");
}

static void
test_error_weekday(void **state)
{
	(void)state;
	expect_error("[digest]\nweekly_on = caturday\n", 2,
	    "[digest] weekly_on: 'caturday' is not a day of the week (like sunday)");
	expect_error("[digest]\nweekly_on = lundi\n", 2,
	    "[digest] weekly_on: 'lundi' is not a day of the week (like sunday)");
}

static void
test_error_listen(void **state)
{
	(void)state;
	expect_error("[lmtp]\nlisten = localhost\n", 2,
	    "[lmtp] listen: 'localhost' is not host:port, unix:/path or /path");
	expect_error("[http]\nlisten = 127.0.0.1:0\n", 2,
	    "[http] listen: '127.0.0.1:0' has no port between 1 and 65535");
	expect_error("[http]\nlisten = 127.0.0.1:http\n", 2,
	    "[http] listen: '127.0.0.1:http' has no port between 1 and 65535");
}

static void
test_error_domain(void **state)
{
	(void)state;
	expect_error("[mail]\ndomain = residence\n", 2,
	    "[mail] domain: 'residence' is not a domain name (like residence.example)");
	expect_error("[mail]\ndomain = bad_name.example\n", 2,
	    "[mail] domain: 'bad_name.example' is not a domain name (like residence.example)");
	expect_error("[mail]\ndomain = residence..example\n", 2,
	    "[mail] domain: 'residence..example' is not a domain name (like residence.example)");
}

static void
test_error_other_checks(void **state)
{
	(void)state;
	expect_error("[database]\nurl = mysql://db/palier\n", 2,
	    "[database] url: 'mysql://db/palier' is not a PostgreSQL URL"
	    " (postgresql://...) or key=value string");
	expect_error("[log]\nlevel = verbose\n", 2,
	    "[log] level: 'verbose' is not debug, info, warn or error");
	expect_error("[sms]\ngateway = smpp\n", 2,
	    "[sms] gateway: 'smpp' is not file:DIR, kannel or twilio");
}

static void
test_error_twice(void **state)
{
	(void)state;
	expect_error("[lmtp]\nmax_size = 1M\nmax_size = 2M\n", 3, "[lmtp] max_size is set twice");
	/* Twice even when the section is opened again. */
	expect_error("[lmtp]\nmax_size = 1M\n[http]\nlisten = 127.0.0.1:80\n[lmtp]\n"
	    "max_size = 1M\n", 6, "[lmtp] max_size is set twice");
}

static void
test_error_no_equals(void **state)
{
	(void)state;
	expect_error("[lmtp]\nmax_size\n", 2, "not a 'key = value' line or [section]");
	expect_error("[lmtp]\nmax_size 1M\n", 2, "not a 'key = value' line or [section]");
	expect_error("[lmtp\n", 1, "not a 'key = value' line or [section]");
}

static void
test_error_line_five(void **state)
{
	(void)state;
	expect_error(
	    "; palier\n"
	    "\n"
	    "[digest]\n"
	    "daily_at = 18:00\n"
	    "weekly_on = caturday\n"
	    "[lmtp]\n"
	    "max_size = 1M\n",
	    5, "[digest] weekly_on: 'caturday' is not a day of the week (like sunday)");
}

/* The first problem is the one reported, on its own line. */
static void
test_error_first_wins(void **state)
{
	(void)state;
	expect_error("[lmtp]\nmax_size = 1M\nbogus = 1\n[digest]\ndaily_at = 99:99\n", 3,
	    "unknown key 'bogus' in [lmtp]");
}

/*
 * A syntax error followed by a bad key: the line is the syntax error's, so
 * the reason must be too, not the later key's.
 */
static void
test_error_syntax_then_key(void **state)
{
	(void)state;
	expect_error("[lmtp]\nmax_size\nbogus = 1\n", 2,
	    "not a 'key = value' line or [section]");
	expect_error("[lmtp\nmax_size = 1M\n", 1, "not a 'key = value' line or [section]");
}

/*
 * A line longer than inih's 200-byte buffer: either the whole value is
 * read, or the refusal names that line (not the one after it, where the
 * rest of the long line was read as a line of its own).
 */
static void
test_long_line(void **state)
{
	char text[400], value[251], *path, *err, *want;
	struct config *cfg;
	int whole_or_right_line;

	(void)state;
	for (int i = 0; i < 250; i++)
		value[i] = (char)('a' + i % 26);
	value[250] = '\0';
	snprintf(text, sizeof(text), "[mail]\nfrom_name = %s\n[log]\nlevel = info\n", value);
	cfg = load_text(text, &err, &path);
	want = malloc(strlen(path) + 8);
	assert_non_null(want);
	sprintf(want, "%s:2: ", path);
	if (cfg)
		whole_or_right_line = strcmp(cfg->mail_from_name, value) == 0;
	else
		whole_or_right_line = strncmp(err, want, strlen(want)) == 0;
	if (!whole_or_right_line)
		print_error("a 262-byte line 2 gave: %s\n", cfg ? cfg->mail_from_name : err);
	config_free(cfg);
	free(err);
	free(want);
	free(path);
	assert_true(whole_or_right_line);
}

static void
test_error_missing_file(void **state)
{
	char *err = NULL;
	struct config *cfg = config_load("/nonexistent/palier/palier.conf", &err);

	(void)state;
	assert_null(cfg);
	assert_non_null(err);
	assert_string_equal(err, "/nonexistent/palier/palier.conf: No such file or directory");
	free(err);
}

static void
test_dump(void **state)
{
	char *err = NULL, *dump;
	struct config *cfg = config_load(NULL, &err);

	(void)state;
	assert_non_null(cfg);
	dump = config_dump(cfg);
	assert_non_null(dump);
	assert_non_null(strstr(dump, "; (embedded defaults)\n"));
	assert_non_null(strstr(dump, "[lmtp]\n"));
	assert_non_null(strstr(dump, "\nmax_size = 10485760\n"));
	assert_non_null(strstr(dump, "\nurl = postgresql:///palier\n"));
	assert_non_null(strstr(dump, "\nquiet_hours = 20:00-08:00\n"));
	assert_non_null(strstr(dump, "\ndaily_at = 18:00\n"));
	assert_non_null(strstr(dump, "\nweekly_on = sunday\n"));
	assert_non_null(strstr(dump, "\npassword = \n"));	/* unset: shown empty */
	free(dump);
	config_free(cfg);
}

static void
test_dump_hides_password(void **state)
{
	struct config *cfg;
	char *dump;

	(void)state;
	cfg = expect_load("[sms]\npassword = hunter2\nquiet_hours = none\n"
	    "[digest]\nweekly_on = Friday\ndaily_at = 7:05\n");
	dump = config_dump(cfg);
	assert_null(strstr(dump, "hunter2"));
	assert_non_null(strstr(dump, "\npassword = (set)\n"));
	assert_non_null(strstr(dump, "\nquiet_hours = none\n"));
	assert_non_null(strstr(dump, "\nweekly_on = friday\n"));
	assert_non_null(strstr(dump, "\ndaily_at = 07:05\n"));
	free(dump);
	config_free(cfg);
}

/* What config_dump writes loads back to the same configuration. */
static void
test_dump_round_trip(void **state)
{
	char *err = NULL, *first, *second;
	struct config *cfg = config_load(NULL, &err), *again;

	(void)state;
	assert_non_null(cfg);
	first = config_dump(cfg);
	again = expect_load(first);
	second = config_dump(again);
	/* Only the first comment line (the path) differs. */
	assert_string_equal(strchr(first, '\n'), strchr(second, '\n'));
	free(first);
	free(second);
	config_free(again);
	config_free(cfg);
}

static void
test_choose(void **state)
{
	const char *old = getenv("PALIER_CONF");
	char *saved = old ? strdup(old) : NULL;
	const char *fallback = access(CONFIG_DEFAULT_PATH, F_OK) == 0 ?
	    CONFIG_DEFAULT_PATH : NULL;

	(void)state;
	assert_int_equal(setenv("PALIER_CONF", "/srv/env.conf", 1), 0);
	assert_string_equal(config_choose("/srv/opt.conf"), "/srv/opt.conf");
	assert_string_equal(config_choose(NULL), "/srv/env.conf");

	assert_int_equal(unsetenv("PALIER_CONF"), 0);
	assert_string_equal(config_choose("/srv/opt.conf"), "/srv/opt.conf");
	if (fallback)
		assert_string_equal(config_choose(NULL), fallback);
	else
		assert_null(config_choose(NULL));

	/* An empty $PALIER_CONF is the same as none. */
	assert_int_equal(setenv("PALIER_CONF", "", 1), 0);
	if (fallback)
		assert_string_equal(config_choose(NULL), fallback);
	else
		assert_null(config_choose(NULL));

	if (saved)
		setenv("PALIER_CONF", saved, 1);
	else
		unsetenv("PALIER_CONF");
	free(saved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_sizes_and_days),
		cmocka_unit_test(test_error_unknown_key),
		cmocka_unit_test(test_error_unknown_section),
		cmocka_unit_test(test_error_bad_size),
		cmocka_unit_test(test_error_int_range),
		cmocka_unit_test(test_error_time),
		cmocka_unit_test(test_error_weekday),
		cmocka_unit_test(test_error_listen),
		cmocka_unit_test(test_error_domain),
		cmocka_unit_test(test_error_other_checks),
		cmocka_unit_test(test_error_twice),
		cmocka_unit_test(test_error_no_equals),
		cmocka_unit_test(test_error_line_five),
		cmocka_unit_test(test_error_first_wins),
		cmocka_unit_test(test_error_syntax_then_key),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_error_missing_file),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_dump_hides_password),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_choose),
		/* Last: under UBSan the overflow aborts the whole program. */
		cmocka_unit_test(test_error_size_overflow),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
