/*
 * config.c — the ini configuration, on inih, against the table of config.def.
 * Owns parsing and validation of every key; an unknown key or a bad value
 * fails the whole load with "file:line: reason", never a partial config.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"

enum cfg_type { T_STR, T_INT, T_SIZE, T_HHMM, T_WEEKDAY, T_SPAN };

typedef const char *(*cfg_check)(const char *v);

struct cfg_key {
	const char	*section;
	const char	*key;
	enum cfg_type	 type;
	const char	*def;
	long long	 min, max;
	cfg_check	 check;
	size_t		 off;
};

static const char *check_dburl(const char *);
static const char *check_domain(const char *);
static const char *check_oneline(const char *);
static const char *check_listen(const char *);
static const char *check_listen_list(const char *);
static const char *check_imapurl(const char *);
static const char *check_httpurl(const char *);
static const char *check_relay(const char *);
static const char *check_gateway(const char *);
static const char *check_path(const char *);
static const char *check_loglevel(const char *);
static const char *check_yesno(const char *);

static const struct cfg_key cfg_keys[] = {
#define CFG(sec, key, type, def, min, max, check) \
	{ #sec, #key, T_##type, def, min, max, check, offsetof(struct config, sec##_##key) },
#include "core/config.def"
#undef CFG
};
#define NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

static const char *const weekdays[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"
};

struct load_ctx {
	struct config	*cfg;
	unsigned char	 seen[NKEYS];
	FILE		*fp;
	int		 line;		/* the line inih is reading */
	int		 why_line;	/* the line of the first error we saw */
	char		*why;		/* first error's reason, owned */
};

/* Records the first error only, with the line it was on. */
static void
ctx_fail(struct load_ctx *ctx, char *why)
{
	if (ctx->why) {
		free(why);
		return;
	}
	ctx->why = why;
	ctx->why_line = ctx->line;
}

/*
 * inih's line reader: counts lines, so that every error names its own
 * line, and refuses a line too long for inih's buffer instead of letting
 * inih cut it in two.
 */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct load_ctx *ctx = stream;
	size_t len;

	if (fgets(str, num, ctx->fp) == NULL)
		return NULL;
	ctx->line++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(ctx->fp)) {
		int c;

		ctx_fail(ctx, xasprintf("the line is longer than %d bytes", num - 2));
		while ((c = fgetc(ctx->fp)) != EOF && c != '\n')
			;
		str[0] = '\0';		/* an empty line: inih skips it */
	}
	return str;
}

static const char *
check_oneline(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return "must not hold control characters";
	return NULL;
}

static const char *
check_dburl(const char *v)
{
	if (strncmp(v, "postgresql://", 13) == 0 || strncmp(v, "postgres://", 11) == 0 ||
	    strchr(v, '=') != NULL)
		return check_oneline(v);
	return "is not a PostgreSQL URL (postgresql://...) or key=value string";
}

static const char *
check_domain(const char *v)
{
	size_t label = 0, n = strlen(v);

	if (n == 0 || n > 253 || v[0] == '.' || v[n - 1] == '.' || !strchr(v, '.'))
		return "is not a domain name (like residence.example)";
	for (; *v; v++) {
		if (*v == '.') {
			if (label == 0 || v[-1] == '-' || v[1] == '-')
				return "is not a domain name (like residence.example)";
			label = 0;
		} else if (isalnum((unsigned char)*v) || *v == '-') {
			if (++label > 63)
				return "has a label longer than 63 characters";
		} else {
			return "is not a domain name (like residence.example)";
		}
	}
	return NULL;
}

/* host:port, [v6]:port, unix:/path or /path. */
static const char *
check_listen(const char *v)
{
	const char *colon;
	char *end;
	long port;

	if (strncmp(v, "unix:", 5) == 0)
		v += 5;
	if (v[0] == '/')
		return strlen(v) < 100 ? NULL : "socket path is longer than 99 bytes";
	colon = strrchr(v, ':');
	if (colon == NULL || colon == v)
		return "is not host:port, unix:/path or /path";
	if (v[0] == '[' && colon[-1] != ']')
		return "is not [address]:port";
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return "has no port between 1 and 65535";
	return check_oneline(v);
}

/* One or more listen addresses, separated by spaces (at most 4). */
static const char *
check_listen_list(const char *v)
{
	char *copy = xstrdup(v), *save = NULL;
	const char *why = NULL;
	int n = 0;

	for (char *tok = strtok_r(copy, " \t", &save); tok && !why; tok = strtok_r(NULL, " \t", &save))
		why = ++n > 4 ? "has more than 4 addresses" : check_listen(tok);
	free(copy);
	return why ? why : n ? NULL : "must not be empty";
}

static const char *
check_imapurl(const char *v)
{
	if (*v == '\0' || strncmp(v, "imap://", 7) == 0 || strncmp(v, "imaps://", 8) == 0)
		return check_oneline(v);
	return "is not an imap:// or imaps:// URL";
}

static const char *
check_httpurl(const char *v)
{
	if (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0)
		return check_oneline(v);
	return "is not an http:// or https:// URL";
}

static const char *
check_relay(const char *v)
{
	if (strncmp(v, "file:", 5) == 0)
		return v[5] ? check_oneline(v) : "file: needs a directory";
	return check_listen(v) ? "is not file:DIR or host:port" : NULL;
}

static const char *
check_gateway(const char *v)
{
	if (strncmp(v, "file:", 5) == 0)
		return v[5] ? check_oneline(v) : "file: needs a directory";
	if (strcmp(v, "kannel") == 0 || strcmp(v, "twilio") == 0)
		return NULL;
	return "is not file:DIR, kannel or twilio";
}

static const char *
check_path(const char *v)
{
	return *v ? check_oneline(v) : "must not be empty";
}

static const char *
check_loglevel(const char *v)
{
	static const char *const levels[] = { "debug", "info", "warn", "error" };

	for (size_t i = 0; i < 4; i++)
		if (strcmp(v, levels[i]) == 0)
			return NULL;
	return "is not debug, info, warn or error";
}

static const char *
check_yesno(const char *v)
{
	return strcmp(v, "yes") == 0 || strcmp(v, "no") == 0 ? NULL : "is not yes or no";
}

static int
parse_hhmm(const char *v, int *out)
{
	int h, m, n = 0;

	if (sscanf(v, "%2d:%2d%n", &h, &m, &n) != 2 || v[n] != '\0' ||
	    !isdigit((unsigned char)v[0]) || h > 23 || m > 59 || h < 0 || m < 0)
		return -1;
	*out = h * 60 + m;
	return 0;
}

static int
parse_size(const char *v, long long *out)
{
	char *end;
	long long n, unit;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0 || !isdigit((unsigned char)v[0]))
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': unit = 1; break;
	case 'K': unit = 1024; end++; break;
	case 'M': unit = 1024 * 1024; end++; break;
	case 'G': unit = 1024LL * 1024 * 1024; end++; break;
	default: return -1;
	}
	n = n > LLONG_MAX / unit ? LLONG_MAX : n * unit;	/* then out of range */
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return -1;
	*out = n;
	return 0;
}

/* Sets one field from its text; returns a reason (owned) or NULL. */
static char *
cfg_set(struct config *cfg, const struct cfg_key *k, const char *v)
{
	void *field = (char *)cfg + k->off;
	const char *why;
	long long n;
	char *end;

	switch (k->type) {
	case T_STR:
		if (k->check && (why = k->check(v)) != NULL)
			return xasprintf("'%s' %s", v, why);
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return NULL;
	case T_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || end == v || *end)
			return xasprintf("'%s' is not a whole number", v);
		if (n < k->min || n > k->max)
			return xasprintf("%lld is outside %lld..%lld", n, k->min, k->max);
		*(long long *)field = n;
		return NULL;
	case T_SIZE:
		if (parse_size(v, &n) < 0)
			return xasprintf("'%s' is not a size (like 512K or 10M)", v);
		if (n < k->min || n > k->max)
			return xasprintf("'%s' is outside %lld..%lld bytes", v, k->min, k->max);
		*(long long *)field = n;
		return NULL;
	case T_HHMM:
		if (parse_hhmm(v, field) < 0)
			return xasprintf("'%s' is not a time of day (like 18:00)", v);
		return NULL;
	case T_WEEKDAY:
		for (int i = 0; i < 7; i++)
			if (strcasecmp(v, weekdays[i]) == 0) {
				*(int *)field = i;
				return NULL;
			}
		return xasprintf("'%s' is not a day of the week (like sunday)", v);
	case T_SPAN: {
		struct cfg_span *s = field;
		char a[8], b[8];
		int n1 = 0;

		if (strcasecmp(v, "none") == 0) {
			s->none = 1;
			return NULL;
		}
		if (sscanf(v, "%7[0-9:]-%7[0-9:]%n", a, b, &n1) == 2 && v[n1] == '\0' &&
		    parse_hhmm(a, &s->start) == 0 && parse_hhmm(b, &s->end) == 0) {
			s->none = 0;
			return NULL;
		}
		return xasprintf("'%s' is not a span of hours (like 20:00-08:00) or none", v);
	}
	}
	return xstrdup("unknown type");
}

static int
cfg_handler(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *ctx = user;
	int section_known = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		char *why;

		if (strcmp(k->section, section) != 0)
			continue;
		section_known = 1;
		if (strcmp(k->key, name) != 0)
			continue;
		if (ctx->seen[i]) {
			ctx_fail(ctx, xasprintf("[%s] %s is set twice", section, name));
			return 0;
		}
		ctx->seen[i] = 1;
		if ((why = cfg_set(ctx->cfg, k, value)) != NULL) {
			ctx_fail(ctx, xasprintf("[%s] %s: %s", section, name, why));
			free(why);
			return 0;
		}
		return 1;
	}
	ctx_fail(ctx, section_known ? xasprintf("unknown key '%s' in [%s]", name, section) :
	    xasprintf("unknown section [%s]", section));
	return 0;
}

static struct config *
config_defaults(void)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	for (size_t i = 0; i < NKEYS; i++) {
		char *why = cfg_set(cfg, &cfg_keys[i], cfg_keys[i].def);

		if (why) {	/* a bad default is a bug in config.def */
			fprintf(stderr, "config.def: [%s] %s: %s\n",
			    cfg_keys[i].section, cfg_keys[i].key, why);
			abort();
		}
	}
	return cfg;
}

struct config *
config_load(const char *path, char **err)
{
	struct load_ctx ctx;
	FILE *fp;
	int line;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = config_defaults();
	if (path == NULL) {
		ctx.cfg->path = xstrdup("(embedded defaults)");
		return ctx.cfg;
	}
	ctx.cfg->path = xstrdup(path);
	if ((fp = fopen(path, "r")) == NULL) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		config_free(ctx.cfg);
		return NULL;
	}
	ctx.fp = fp;
	line = ini_parse_stream(cfg_reader, &ctx, cfg_handler, &ctx);
	fclose(fp);
	if (line != 0 || ctx.why) {
		/* inih reports its first failing line; ours may come earlier. */
		if (ctx.why && (line == 0 || ctx.why_line <= line))
			*err = xasprintf("%s:%d: %s", path, ctx.why_line, ctx.why);
		else
			*err = xasprintf("%s:%d: %s", path, line, line == -2 ?
			    "out of memory" : "not a 'key = value' line or [section]");
		free(ctx.why);
		config_free(ctx.cfg);
		return NULL;
	}
	return ctx.cfg;
}

#ifndef PALIER_DATADIR
#define PALIER_DATADIR "/usr/local/share/palier"
#endif

char *
config_data_dir(const char *dir, const char *name)
{
	struct stat st;

	if (strcmp(dir, name) == 0 && stat(dir, &st) < 0)
		return xasprintf("%s/%s", PALIER_DATADIR, name);
	return xstrdup(dir);
}

const char *
config_choose(const char *opt_path)
{
	const char *env = getenv("PALIER_CONF");

	if (opt_path)
		return opt_path;
	if (env && *env)
		return env;
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		return CONFIG_DEFAULT_PATH;
	return NULL;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		if (cfg_keys[i].type == T_STR)
			free(*(char **)((char *)cfg + cfg_keys[i].off));
	free(cfg->path);
	free(cfg);
}

/* Never prints a password back, alone or inside a URL. */
static void
dump_str(struct buf *b, const struct cfg_key *k, const char *v)
{
	const char *scheme = strstr(v, "://"), *at, *colon;

	if ((strcmp(k->key, "password") == 0 || strcmp(k->key, "webhook_secret") == 0) && *v) {
		buf_puts(b, "(set)");
	} else if (strstr(v, "password=") != NULL) {
		buf_puts(b, "(hidden: holds a password)");
	} else if (scheme && (at = strchr(scheme + 3, '@')) != NULL &&
	    (colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3))) != NULL) {
		buf_append(b, v, (size_t)(colon - v));
		buf_puts(b, ":(hidden)");
		buf_puts(b, at);
	} else {
		buf_puts(b, v);
	}
}

char *
config_dump(const struct config *cfg)
{
	struct buf b = BUF_INIT;
	const char *last = "";

	buf_printf(&b, "; %s\n", cfg->path);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const void *f = (const char *)cfg + k->off;

		if (strcmp(last, k->section) != 0)
			buf_printf(&b, "%s[%s]\n", *last ? "\n" : "", k->section);
		last = k->section;
		buf_printf(&b, "%s = ", k->key);
		switch (k->type) {
		case T_STR:
			dump_str(&b, k, *(char *const *)f);
			break;
		case T_INT:
		case T_SIZE:
			buf_printf(&b, "%lld", *(const long long *)f);
			break;
		case T_HHMM:
			buf_printf(&b, "%02d:%02d", *(const int *)f / 60, *(const int *)f % 60);
			break;
		case T_WEEKDAY:
			buf_puts(&b, weekdays[*(const int *)f]);
			break;
		case T_SPAN: {
			const struct cfg_span *s = f;

			if (s->none)
				buf_puts(&b, "none");
			else
				buf_printf(&b, "%02d:%02d-%02d:%02d", s->start / 60,
				    s->start % 60, s->end / 60, s->end % 60);
			break;
		}
		}
		buf_putc(&b, '\n');
	}
	return buf_take(&b);
}
