/*
 * roster.c — the resident roster as landlords export it: CSV in any column
 * order, Excel's BOM, CRLF and ';'. Owns the validation of every field and
 * the line number of every complaint. Writes nothing anywhere: the store
 * gets a roster only when every line is good.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "core/alloc.h"
#include "core/phone.h"
#include "core/slug.h"
#include "core/strmap.h"
#include "core/utf8.h"
#include "ingest/roster.h"

enum col {
	COL_CITY, COL_DISTRICT, COL_BUILDING, COL_BUILDING_ADDRESS, COL_UNIT,
	COL_NAME, COL_EMAIL, COL_PHONE, COL_DIGEST, COL_SMS,
	COL_CITY_SLUG, COL_DISTRICT_SLUG, COL_BUILDING_SLUG, NCOLS
};

static const char *const col_names[NCOLS] = {
	"city", "district", "building", "building_address", "unit",
	"name", "email", "phone", "digest", "sms",
	"city_slug", "district_slug", "building_slug"
};

/* The longest value each column may hold, in bytes. */
static const size_t col_max[NCOLS] = {
	200, 200, 200, 300, 50, 200, 254, 40, 20, 10, 64, 64, 64
};

struct parse {
	struct roster	*r;
	struct buf	*errors;
	int		 nerrors;
	int		 stop;		/* the header is unusable */
	struct strmap	*slugs;		/* slug -> channel index */
	struct strmap	*people;	/* building, unit, name -> line */
	int		 cur_line;	/* the line being fed to libcsv */
	int		 rec_line;	/* the line the current record began on */
	char		**fields;
	size_t		 nfields, capfields;
	int		 header_done;
	int		 col[NCOLS];	/* field index of each column, -1 if absent */
	size_t		 ncols;		/* fields in the header */
};

static void
complain(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
complain(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	buf_printf(p->errors, "line %d: %s\n", line, msg ? msg : "error");
	free(msg);
	p->nerrors++;
}

/* A value quoted for an error message: control characters shown as '?'. */
static const char *
shown(const char *v)
{
	static _Thread_local char out[4][96];
	static _Thread_local unsigned next;
	char *o = out[next++ % 4];
	size_t i = 0;

	o[i++] = '\'';
	for (; *v && i < 88; v++)
		o[i++] = (unsigned char)*v < 0x20 ? '?' : *v;
	if (*v) {
		memcpy(o + i, "...", 3);
		i += 3;
	}
	o[i++] = '\'';
	o[i] = '\0';
	return o;
}

static void
on_field(void *s, size_t len, void *data)
{
	struct parse *p = data;
	char *v = xstrndup(s ? s : "", len);

	if (strlen(v) != len)
		complain(p, p->cur_line, "holds a NUL byte");
	if (p->nfields == p->capfields) {
		p->capfields = p->capfields ? p->capfields * 2 : 16;
		p->fields = xreallocarray(p->fields, p->capfields, sizeof(*p->fields));
	}
	p->fields[p->nfields++] = v;
}

static int
find_col(const char *name)
{
	for (int c = 0; c < NCOLS; c++)
		if (strcasecmp(name, col_names[c]) == 0)
			return c;
	return -1;
}

static void
read_header(struct parse *p)
{
	static const enum col required[] = { COL_CITY, COL_BUILDING, COL_NAME };

	for (int c = 0; c < NCOLS; c++)
		p->col[c] = -1;
	p->ncols = p->nfields;
	for (size_t i = 0; i < p->nfields; i++) {
		char *name = utf8_clean_space(p->fields[i]);
		int c = find_col(name);

		if (*name == '\0') {
			/* An empty heading: Excel's trailing separator. Ignored. */
		} else if (c < 0) {
			complain(p, p->rec_line, "unknown column %s (the columns are city, district,"
			    " building, building_address, unit, name, email, phone, digest, sms,"
			    " city_slug, district_slug, building_slug)", shown(name));
		} else if (p->col[c] >= 0) {
			complain(p, p->rec_line, "the column '%s' appears twice", col_names[c]);
		} else {
			p->col[c] = (int)i;
		}
		free(name);
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (p->col[required[i]] < 0)
			complain(p, p->rec_line, "there is no '%s' column", col_names[required[i]]);
	if (p->col[COL_EMAIL] < 0 && p->col[COL_PHONE] < 0)
		complain(p, p->rec_line, "there is neither an 'email' nor a 'phone' column");
	p->stop = p->nerrors > 0;
	p->header_done = 1;
}

static const char *const kind_names[] = { "city", "district", "building" };

static long
channel_add(struct parse *p, enum channel_kind kind, const char *slug,
    const char *name, long parent, int line)
{
	struct roster *r = p->r;
	struct roster_channel *c;

	if (r->nchannels == r->capchannels) {
		r->capchannels = r->capchannels ? r->capchannels * 2 : 32;
		r->channels = xreallocarray(r->channels, r->capchannels, sizeof(*r->channels));
	}
	c = &r->channels[r->nchannels];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->slug = xstrdup(slug);
	c->name = xstrdup(name);
	c->parent = parent;
	c->line = line;
	strmap_put(p->slugs, slug, (long)r->nchannels);
	return (long)r->nchannels++;
}

/* The slug a channel gets, or NULL after complaining. Caller frees. */
static char *
channel_slug(struct parse *p, enum channel_kind kind, const char *name, const char *given)
{
	const char *k = kind_names[kind], *why;
	char *slug;

	if (*given) {
		if ((why = slug_check(given)) != NULL) {
			complain(p, p->rec_line, "%s_slug %s %s", k, shown(given), why);
			return NULL;
		}
		return xstrdup(given);
	}
	slug = slug_from_name(name);
	if (*slug == '\0')
		complain(p, p->rec_line, "the %s %s gives no usable slug; add a %s_slug column",
		    k, shown(name), k);
	else if ((why = slug_check(slug)) != NULL)
		complain(p, p->rec_line, "the %s %s would get the slug '%s', which %s;"
		    " add a %s_slug column", k, shown(name), slug, why, k);
	else
		return slug;
	free(slug);
	return NULL;
}

/* The channel's index; -1 after complaining. */
static long
channel_resolve(struct parse *p, enum channel_kind kind, const char *name,
    const char *given, long parent)
{
	const char *k = kind_names[kind];
	char *slug = channel_slug(p, kind, name, given);
	long idx;

	if (slug == NULL)
		return -1;
	if (!strmap_get(p->slugs, slug, &idx)) {
		idx = channel_add(p, kind, slug, name, parent, p->rec_line);
	} else {
		const struct roster_channel *c = &p->r->channels[idx];

		if (c->kind != kind) {
			complain(p, p->rec_line, "the %s %s gets the slug '%s', which line %d gives"
			    " to the %s %s; add a %s_slug column", k, shown(name), slug,
			    c->line, kind_names[c->kind], shown(c->name), k);
			idx = -1;
		} else if (c->parent != parent) {
			complain(p, p->rec_line, "the %s %s (slug '%s') is in %s here but in %s on"
			    " line %d; give one of them a %s_slug column", k, shown(name), slug,
			    parent >= 0 ? shown(p->r->channels[parent].name) : "no district",
			    c->parent >= 0 ? shown(p->r->channels[c->parent].name) : "no district",
			    c->line, k);
			idx = -1;
		}
	}
	free(slug);
	return idx;
}

static const char *
parse_digest(const char *v)
{
	static const struct { const char *word, *digest; } words[] = {
		{ "immediate", "immediate" }, { "immediat", "immediate" },
		{ "daily", "daily" }, { "quotidien", "daily" }, { "quotidienne", "daily" },
		{ "weekly", "weekly" }, { "hebdo", "weekly" }, { "hebdomadaire", "weekly" },
		{ "none", "none" }, { "aucun", "none" }, { "jamais", "none" },
	};
	char *w = slug_from_name(v);
	const char *found = NULL;

	if (*v == '\0')
		found = "daily";
	for (size_t i = 0; !found && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(w, words[i].word) == 0)
			found = words[i].digest;
	free(w);
	return found;
}

/* 1 yes, 0 no, -1 empty, -2 not understood. */
static int
parse_yesno(const char *v)
{
	static const char *const yes[] = { "yes", "y", "oui", "o", "1", "true", "vrai", "x" };
	static const char *const no[] = { "no", "n", "non", "0", "false", "faux" };

	if (*v == '\0')
		return -1;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	return -2;
}

/* Takes the cleaned values of one row; 0 if they are all usable. */
static int
row_values(struct parse *p, char *v[NCOLS])
{
	int bad = 0;

	for (int c = 0; c < NCOLS; c++) {
		const char *raw = p->col[c] >= 0 && (size_t)p->col[c] < p->nfields ?
		    p->fields[p->col[c]] : "";

		v[c] = utf8_clean_space(raw);
		for (const unsigned char *s = (unsigned char *)v[c]; *s; s++)
			if (*s < 0x20 || *s == 0x7f) {
				complain(p, p->rec_line, "the %s holds a control character", col_names[c]);
				bad = 1;
				break;
			}
		if (strlen(v[c]) > col_max[c]) {
			complain(p, p->rec_line, "the %s is longer than %zu bytes", col_names[c], col_max[c]);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* The building's channel index, creating city and district on the way; -1 after complaining. */
static long
row_building(struct parse *p, char *v[NCOLS])
{
	long city, parent, building;

	if (*v[COL_CITY] == '\0')
		complain(p, p->rec_line, "the city is empty");
	if (*v[COL_BUILDING] == '\0')
		complain(p, p->rec_line, "the building is empty");
	if (*v[COL_CITY] == '\0' || *v[COL_BUILDING] == '\0')
		return -1;
	if ((city = channel_resolve(p, CHANNEL_CITY, v[COL_CITY], v[COL_CITY_SLUG], -1)) < 0)
		return -1;
	parent = city;
	if (*v[COL_DISTRICT] && (parent = channel_resolve(p, CHANNEL_DISTRICT,
	    v[COL_DISTRICT], v[COL_DISTRICT_SLUG], city)) < 0)
		return -1;
	building = channel_resolve(p, CHANNEL_BUILDING, v[COL_BUILDING], v[COL_BUILDING_SLUG], parent);
	/* The first address given for a building is its address. */
	if (building >= 0 && *v[COL_BUILDING_ADDRESS] && p->r->channels[building].address == NULL)
		p->r->channels[building].address = xstrdup(v[COL_BUILDING_ADDRESS]);
	return building;
}

/* -1 after complaining if the file already has this resident. */
static int
same_person(struct parse *p, char *v[NCOLS], long building)
{
	char *unit = utf8_fold(v[COL_UNIT]), *name = utf8_fold(v[COL_NAME]);
	char *key = xasprintf("%ld\x1f%s\x1f%s", building, unit, name);
	long line;
	int rc = 0;

	if (strmap_get(p->people, key, &line)) {
		complain(p, p->rec_line, "the same resident as line %ld (same building, unit"
		    " and name)", line);
		rc = -1;
	} else {
		strmap_put(p->people, key, p->rec_line);
	}
	free(unit);
	free(name);
	free(key);
	return rc;
}

static void
resident_push(struct roster *r, const struct roster_resident *res)
{
	if (r->nresidents == r->capresidents) {
		r->capresidents = r->capresidents ? r->capresidents * 2 : 256;
		r->residents = xreallocarray(r->residents, r->capresidents, sizeof(*r->residents));
	}
	r->residents[r->nresidents++] = *res;
}

static void
row_resident(struct parse *p, char *v[NCOLS], long building)
{
	struct roster_resident res;
	char phone[PHONE_E164_MAX];
	const char *why;
	int before = p->nerrors, sms;

	memset(&res, 0, sizeof(res));
	if (*v[COL_NAME] == '\0')
		complain(p, p->rec_line, "the name is empty");
	if (*v[COL_EMAIL] && (why = email_check(v[COL_EMAIL])) != NULL)
		complain(p, p->rec_line, "email %s %s", shown(v[COL_EMAIL]), why);
	if (*v[COL_PHONE] && phone_normalize(v[COL_PHONE], phone, &why) < 0)
		complain(p, p->rec_line, "phone %s %s", shown(v[COL_PHONE]), why);
	if (*v[COL_EMAIL] == '\0' && *v[COL_PHONE] == '\0')
		complain(p, p->rec_line, "a resident needs an email or a phone");
	if ((res.digest = parse_digest(v[COL_DIGEST])) == NULL)
		complain(p, p->rec_line, "digest %s is not immediate, daily, weekly or none",
		    shown(v[COL_DIGEST]));
	if ((sms = parse_yesno(v[COL_SMS])) == -2)
		complain(p, p->rec_line, "sms %s is not yes or no", shown(v[COL_SMS]));
	else if (sms == 1 && *v[COL_PHONE] == '\0')
		complain(p, p->rec_line, "sms is yes but there is no phone");
	if (p->nerrors != before || building < 0 || same_person(p, v, building) < 0)
		return;
	res.line = p->rec_line;
	res.building = building;
	res.unit = xstrdup(v[COL_UNIT]);
	res.name = xstrdup(v[COL_NAME]);
	res.email = *v[COL_EMAIL] ? xstrdup(v[COL_EMAIL]) : NULL;
	res.phone = *v[COL_PHONE] ? xstrdup(phone) : NULL;
	/* Unsaid: SMS for those who have only a phone. */
	res.sms = sms >= 0 ? sms : (*v[COL_PHONE] && !*v[COL_EMAIL]);
	resident_push(p->r, &res);
}

static void
read_row(struct parse *p)
{
	char *v[NCOLS];
	size_t used = 0;
	long building;

	for (size_t i = 0; i < p->nfields; i++)
		if (p->fields[i][strspn(p->fields[i], " \t\r\n")] != '\0')
			used = i + 1;
	if (used == 0)
		return;		/* an empty row: spreadsheets leave them */
	if (used > p->ncols) {
		complain(p, p->rec_line, "has %zu fields but the header has %zu"
		    " (a value holding the separator needs quotes)", used, p->ncols);
		return;
	}
	if (row_values(p, v) == 0) {
		building = row_building(p, v);
		row_resident(p, v, building);
	}
	for (int c = 0; c < NCOLS; c++)
		free(v[c]);
}

static void
on_record(int term, void *data)
{
	struct parse *p = data;

	if (!p->stop) {
		if (!p->header_done)
			read_header(p);
		else
			read_row(p);
	}
	for (size_t i = 0; i < p->nfields; i++)
		free(p->fields[i]);
	p->nfields = 0;
}

/* The separator: whichever of , ; TAB is most common outside quotes on the first line. */
static unsigned char
guess_delim(const char *s, size_t n)
{
	size_t count[3] = { 0, 0, 0 };
	int quoted = 0;

	for (size_t i = 0; i < n && (quoted || (s[i] != '\n' && s[i] != '\r')); i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted)
			count[0] += s[i] == ',', count[1] += s[i] == ';', count[2] += s[i] == '\t';
	}
	if (count[1] > count[0] && count[1] >= count[2])
		return ';';
	if (count[2] > count[0] && count[2] > count[1])
		return '\t';
	return ',';
}

/* 1 if s holds at least one well-formed multi-byte UTF-8 sequence. */
static int
has_utf8_sequences(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	for (; p < end; p++)
		if (*p >= 0xc2 && utf8_seq(p, end) > 1)
			return 1;
	return 0;
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

static int
line_of(const char *s, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off; i++)
		line += s[i] == '\n';
	return line;
}

/* Feeds libcsv one physical line at a time so that complaints carry line numbers. */
static void
feed(struct parse *p, struct csv_parser *csv, const char *s, size_t n)
{
	size_t off = 0;

	p->cur_line = 0;
	while (off < n && !p->stop) {
		const char *nl = memchr(s + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (s + off)) + 1 : n - off;

		p->cur_line++;
		/* libcsv's state 0 (ROW_NOT_BEGUN): a record may start on this line. */
		if (csv->pstate == 0)
			p->rec_line = p->cur_line;
		if (csv_parse(csv, s + off, len, on_field, on_record, p) != len) {
			complain(p, p->cur_line, "broken quoting: %s (a quote inside a quoted"
			    " value is written twice: \"\")", csv_strerror(csv_error(csv)));
			return;
		}
		off += len;
	}
	if (!p->stop && csv_fini(csv, on_field, on_record, p) != 0)
		complain(p, p->rec_line, "a quoted value is never closed");
}

int
ingest_roster_parse(const char *data, size_t len, struct roster *out,
    struct buf *errors, int *cp1252)
{
	struct parse p;
	struct csv_parser csv;
	char *conv = NULL;
	size_t bad;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	*cp1252 = 0;
	p.r = out;
	p.errors = errors;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		data += 3, len -= 3;
	if (!utf8_valid(data, len, &bad)) {
		/* Real UTF-8 with a stray byte is not Windows-1252: refuse rather than garble it. */
		if (has_utf8_sequences(data, len) || (conv = utf8_from_cp1252(data, len, &len)) == NULL) {
			complain(&p, line_of(data, bad), "is not UTF-8 text (save the file as"
			    " \"CSV UTF-8\")");
			return p.nerrors;
		}
		data = conv;
		*cp1252 = 1;
	}
	if (memchr(data, '\n', len) == NULL && memchr(data, '\r', len) != NULL) {
		/* Excel for Mac's "CSV (Macintosh)": lines end with CR alone. */
		char *lf = xstrndup(data, len);

		for (char *q = lf; *q; q++)
			if (*q == '\r')
				*q = '\n';
		free(conv);
		data = conv = lf;
	}
	if (blank(data, len)) {
		complain(&p, 1, "the file is empty; it needs a header row");
		free(conv);
		return p.nerrors;
	}
	p.slugs = strmap_new();
	p.people = strmap_new();
	csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
	csv_set_delim(&csv, guess_delim(data, len));
	feed(&p, &csv, data, len);
	csv_free(&csv);
	for (size_t i = 0; i < p.nfields; i++)
		free(p.fields[i]);
	free(p.fields);
	strmap_free(p.slugs);
	strmap_free(p.people);
	free(conv);
	if (p.nerrors == 0 && out->nresidents == 0)
		complain(&p, 1, "the file has a header but no resident");
	return p.nerrors;
}
