/*
 * compose.c — writes one outgoing message as the exact bytes handed to the
 * relay: folded, RFC 2047-encoded headers and quoted-printable bodies.
 * Pure: owns nothing past a call, does no I/O, and never lets a CR, LF or
 * 8-bit byte from outside into a header.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "deliver/compose.h"

#define LINE_SOFT	78	/* header lines, where the tokens allow it */
#define WORD_MAX	75	/* one encoded-word, RFC 2047 §2 */
#define WORD_OVER	12	/* "=?UTF-8?Q?" + "?=" */
#define WORD_MIN	24	/* fold rather than start a word with less room */
#define QP_LINE		76	/* one quoted-printable line, RFC 2045 §6.7 */
#define PLAIN_MAX	400	/* a longer ASCII word is encoded, so it can be cut */
#define ID_MAX		900	/* an id, address or URL: one unfoldable token */
#define DATE_MAX	253402300799LL	/* 9999-12-31 23:59:59 UTC */

/* Scratch space for one call: a cleaned value and its quoted form. */
struct scratch {
	struct buf	clean;
	struct buf	quoted;
};

/* One header field being written, folded at spaces. */
struct hline {
	struct buf	*out;
	size_t		 col;	/* bytes on the current line */
	int		 fresh;	/* nothing written after the colon yet */
};

/* The quoted-printable writer, into space reserved beforehand. */
struct qp {
	char		*w;
	size_t		 col;
};

static int
present(const char *s)
{
	return s != NULL && *s != '\0';
}

/* ------------------------------------------------------------------ */
/* Cleaning values from outside.                                       */
/* ------------------------------------------------------------------ */

/* 1 if the k-byte character at p is a control or a line separator. */
static int
is_space_seq(const unsigned char *p, size_t k)
{
	if (k == 1)
		return p[0] <= 0x20 || p[0] == 0x7f;
	if (k == 2)
		return p[0] == 0xc2 && p[1] < 0xa0;	/* C1 controls */
	return k == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0xa8 || p[2] == 0xa9);		/* U+2028, U+2029 */
}

/*
 * dst = the n bytes at s with every run of controls and spaces made one
 * space, the ends trimmed, and bytes that are not UTF-8 made U+FFFD.
 */
static void
clean_text(struct buf *dst, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char *w;
	int space = 0;

	buf_reset(dst);
	buf_grow(dst, 3 * n);	/* U+FFFD: 3 bytes for 1 */
	w = dst->data;
	while (p < end) {
		size_t k = *p < 0x80 ? 1 : utf8_seq(p, end), len = k;
		const void *src = p;

		if (k == 0) {
			src = "\xef\xbf\xbd";
			k = 1;
			len = 3;
		} else if (is_space_seq(p, k)) {
			space = 1;
			p += k;
			continue;
		}
		if (space && w > dst->data)
			*w++ = ' ';
		space = 0;
		memcpy(w, src, len);
		w += len;
		p += k;
	}
	dst->len = (size_t)(w - dst->data);
	*w = '\0';
}

/* ------------------------------------------------------------------ */
/* Header lines.                                                       */
/* ------------------------------------------------------------------ */

static void
hl_begin(struct hline *h, struct buf *out, const char *name)
{
	h->out = out;
	buf_puts(out, name);
	buf_putc(out, ':');
	h->col = strlen(name) + 1;
	h->fresh = 1;
}

/* Room left on this line for a token after its space. */
static size_t
hl_room(const struct hline *h)
{
	return h->col + 1 < LINE_SOFT ? LINE_SOFT - h->col - 1 : 0;
}

static void
hl_fold(struct hline *h)
{
	buf_append(h->out, "\r\n", 2);
	h->col = 0;
}

/* Adds " pre s post", folding first if the line would pass LINE_SOFT. */
static void
hl_put(struct hline *h, const char *pre, const char *s, size_t n, const char *post)
{
	size_t len = strlen(pre) + n + strlen(post);

	if (!h->fresh && len > hl_room(h))
		hl_fold(h);
	buf_putc(h->out, ' ');
	buf_puts(h->out, pre);
	buf_append(h->out, s, n);
	buf_puts(h->out, post);
	h->col += 1 + len;
	h->fresh = 0;
}

static void
hl_end(struct hline *h)
{
	buf_append(h->out, "\r\n", 2);
}

/* Each space-separated word of s as a token. */
static void
hl_words(struct hline *h, const char *s, size_t n)
{
	const char *end = s + n;

	while (s < end) {
		const char *sp = memchr(s, ' ', (size_t)(end - s));
		size_t len = sp ? (size_t)(sp - s) : (size_t)(end - s);

		if (len > 0)
			hl_put(h, "", s, len, "");
		s += len + (sp != NULL);
	}
}

/* ------------------------------------------------------------------ */
/* RFC 2047 encoded-words.                                             */
/* ------------------------------------------------------------------ */

static const char hex[] = "0123456789ABCDEF";
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 1 if c stands for itself in a Q word: RFC 2047 §5 (3) in a phrase, (1) elsewhere. */
static int
q_literal(unsigned char c, int phrase)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	if (phrase)
		return c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
	return c > 0x20 && c < 0x7f && c != '=' && c != '?' && c != '_';
}

static size_t
q_len(const unsigned char *s, size_t n, int phrase)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += s[i] == ' ' || q_literal(s[i], phrase) ? 1 : 3;
	return len;
}

static size_t
b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

static void
q_put(struct buf *out, const unsigned char *s, size_t n, int phrase)
{
	char *w;

	buf_grow(out, 3 * n);
	w = out->data + out->len;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ') {
			*w++ = '_';
		} else if (q_literal(s[i], phrase)) {
			*w++ = (char)s[i];
		} else {
			w[0] = '=';
			w[1] = hex[s[i] >> 4];
			w[2] = hex[s[i] & 15];
			w += 3;
		}
	}
	out->len = (size_t)(w - out->data);
	*w = '\0';
}

static void
b64_put(struct buf *out, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		char e[4];

		v |= i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0;
		v |= i + 2 < n ? s[i + 2] : 0;
		e[0] = b64[v >> 18];
		e[1] = b64[(v >> 12) & 63];
		e[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		e[3] = i + 2 < n ? b64[v & 63] : '=';
		buf_append(out, e, 4);
	}
}

/*
 * How many bytes of s, whole characters only, encode within room bytes;
 * *wlen their encoded length. At least one character. A Q word that must
 * be cut ends after a space if that leaves it at least half full.
 */
static size_t
word_fit(const unsigned char *s, size_t n, size_t room, int b, int phrase, size_t *wlen)
{
	size_t i = 0, len = 0, sp_i = 0, sp_len = 0;

	while (i < n) {
		size_t k = utf8_seq(s + i, s + n), add;

		k = k ? k : 1;
		add = b ? b64_len(i + k) - len : q_len(s + i, k, phrase);
		if (len + add > room && i > 0)
			break;
		len += add;
		i += k;
		if (s[i - 1] == ' ') {
			sp_i = i;
			sp_len = len;
		}
	}
	if (i < n && !b && sp_len * 2 >= room) {
		i = sp_i;
		len = sp_len;
	}
	*wlen = len;
	return i;
}

/*
 * s as encoded-words: Q, which a person can still read in French, unless
 * it would be half as long again as B (Cyrillic, emoji). The first word
 * fills the line; each next one starts a line of its own.
 */
static void
hl_encoded(struct hline *h, const unsigned char *s, size_t n, int phrase)
{
	int b = 2 * q_len(s, n, phrase) > 3 * b64_len(n), first = 1;

	while (n > 0) {
		size_t room = hl_room(h), take, wlen;

		room = room > WORD_MAX ? WORD_MAX : room;
		if (room < WORD_MIN || !first) {
			hl_fold(h);
			room = WORD_MAX;
		}
		first = 0;
		take = word_fit(s, n, room - WORD_OVER, b, phrase, &wlen);
		buf_puts(h->out, b ? " =?UTF-8?B?" : " =?UTF-8?Q?");
		if (b)
			b64_put(h->out, s, take);
		else
			q_put(h->out, s, take, phrase);
		buf_append(h->out, "?=", 2);
		h->col += 1 + WORD_OVER + wlen;
		h->fresh = 0;
		s += take;
		n -= take;
	}
}

/* ------------------------------------------------------------------ */
/* Header values.                                                      */
/* ------------------------------------------------------------------ */

/* 1 if cleaned s can go out as it is: printable ASCII, no "=?", short words. */
static int
plain_ok(const char *s, size_t n)
{
	size_t word = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || (c == '=' && s[i + 1] == '?'))
			return 0;
		word = c == ' ' ? 0 : word + 1;
		if (word > PLAIN_MAX)
			return 0;
	}
	return 1;
}

/* q = s as a quoted-string: "..." with \ before " and \. */
static void
quote(struct buf *q, const char *s, size_t n)
{
	buf_reset(q);
	buf_putc(q, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(q, '\\');
		buf_putc(q, s[i]);
	}
	buf_putc(q, '"');
}

/* The n bytes at v, cleaned, as unstructured text or a display name. */
static void
hl_value(struct hline *h, struct scratch *sc, const char *v, size_t n, int phrase)
{
	const char *s;

	clean_text(&sc->clean, v, n);
	s = buf_cstr(&sc->clean);
	n = sc->clean.len;
	if (!plain_ok(s, n))
		hl_encoded(h, (const unsigned char *)s, n, phrase);
	else if (phrase && strpbrk(s, "()<>[]:;@\\,.\"") != NULL) {
		quote(&sc->quoted, s, n);
		hl_words(h, buf_cstr(&sc->quoted), sc->quoted.len);
	} else
		hl_words(h, s, n);
}

static void
text_header(struct buf *out, struct scratch *sc, const char *name, const char *v, int phrase)
{
	struct hline h;

	hl_begin(&h, out, name);
	hl_value(&h, sc, v, strlen(v), phrase);
	hl_end(&h);
}

void
deliver_header_encode(struct buf *out, const char *name, const char *utf8_value, int phrase)
{
	struct scratch sc = { BUF_INIT, BUF_INIT };

	text_header(out, &sc, name, utf8_value ? utf8_value : "", phrase);
	buf_free(&sc.clean);
	buf_free(&sc.quoted);
}

/* "Name: phrase <addr>", or "Name: addr" without a phrase. */
static void
mailbox_header(struct buf *out, struct scratch *sc, const char *name,
    const char *phrase, const char *addr)
{
	struct hline h;

	hl_begin(&h, out, name);
	if (present(phrase))
		hl_value(&h, sc, phrase, strlen(phrase), 1);
	if (h.fresh)
		hl_put(&h, "", addr, strlen(addr), "");
	else
		hl_put(&h, "<", addr, strlen(addr), ">");
	hl_end(&h);
}

/* The next id of a space-separated list, without its <>; NULL at the end. */
static const char *
id_next(const char **p, size_t *n)
{
	const char *s = *p;

	while (*s != '\0' && (unsigned char)*s <= 0x20)
		s++;
	if (*s == '\0')
		return NULL;
	*n = 0;
	while ((unsigned char)s[*n] > 0x20)
		(*n)++;
	*p = s + *n;
	if (*n >= 2 && s[0] == '<' && s[*n - 1] == '>') {
		*n -= 2;
		return s + 1;
	}
	return s;
}

static void
ids_header(struct buf *out, const char *name, const char *list)
{
	struct hline h;
	const char *id;
	size_t n;

	hl_begin(&h, out, name);
	while ((id = id_next(&list, &n)) != NULL)
		hl_put(&h, "<", id, n, ">");
	hl_end(&h);
}

/* Splits "Phrase <id>" into its phrase (*plen bytes at v) and id. */
static const char *
list_id_split(const char *v, size_t *plen, size_t *idlen)
{
	size_t n = strlen(v);
	const char *lt = memrchr(v, '<', n);

	while (n > 0 && (unsigned char)v[n - 1] <= 0x20)
		n--;
	if (lt == NULL || n == 0 || v[n - 1] != '>') {
		while (n > 0 && (unsigned char)*v <= 0x20) {
			v++;
			n--;
		}
		*plen = 0;
		*idlen = n;
		return v;
	}
	*plen = (size_t)(lt - v);
	*idlen = n - *plen - 2;
	return lt + 1;
}

static void
list_id_header(struct buf *out, struct scratch *sc, const char *v)
{
	struct hline h;
	size_t plen, idlen;
	const char *id = list_id_split(v, &plen, &idlen);

	hl_begin(&h, out, "List-Id");
	hl_value(&h, sc, v, plen, 1);
	hl_put(&h, "<", id, idlen, ">");
	hl_end(&h);
}

/* The mailto URI's body, without a "mailto:" the caller may have put. */
static const char *
mailto_body(const char *m)
{
	return strncasecmp(m, "mailto:", 7) == 0 ? m + 7 : m;
}

static int
is_https(const char *url)
{
	return strncasecmp(url, "https://", 8) == 0;
}

static void
unsub_headers(struct buf *out, const char *mailto, const char *url)
{
	struct hline h;

	if (!present(mailto) && !present(url))
		return;
	hl_begin(&h, out, "List-Unsubscribe");
	if (present(mailto)) {
		mailto = mailto_body(mailto);
		hl_put(&h, "<mailto:", mailto, strlen(mailto), present(url) ? ">," : ">");
	}
	if (present(url))
		hl_put(&h, "<", url, strlen(url), ">");
	hl_end(&h);
	if (present(url) && is_https(url))
		buf_puts(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
}

/* ------------------------------------------------------------------ */
/* Date, in Europe/Paris time.                                         */
/* ------------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* The Unix time of 01:00 UTC on the last Sunday of month m (a 31-day month). */
static long long
last_sunday_1h(long long y, unsigned m)
{
	long long d = days_from_civil(y, m, 31);
	long long wday = ((d % 7) + 7 + 4) % 7;	/* 1970-01-01 was a Thursday */

	return (d - wday) * 86400 + 3600;
}

/* Seconds east of UTC in Paris at t: summer time under the EU rule. */
static int
paris_offset(long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	long long y;

	gmtime_r(&tt, &tm);
	y = tm.tm_year + 1900LL;
	return t >= last_sunday_1h(y, 3) && t < last_sunday_1h(y, 10) ? 7200 : 3600;
}

static void
date_header(struct buf *out, long long t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int off = paris_offset(t);
	time_t local = (time_t)(t + off);
	struct tm tm;

	gmtime_r(&local, &tm);
	buf_printf(out, "Date: %s, %d %s %d %02d:%02d:%02d +0%d00\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off / 3600);
}

/* ------------------------------------------------------------------ */
/* Quoted-printable bodies.                                            */
/* ------------------------------------------------------------------ */

/* 1 for the bytes that may stand for themselves: printable ASCII but "=", SP, HT. */
static const unsigned char qp_lit[256] = {
	0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,0,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
	1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0,
};

static int
is_eol(unsigned char c)
{
	return c == '\r' || c == '\n' || c == '\0';
}

/*
 * What the k-byte character at s takes at column col: k bytes as it is,
 * or 3k encoded. Encoded: "=", controls, 8-bit bytes, white space ending
 * the line, and a "." or "From " starting one (mbox and SMTP dot lines).
 */
static size_t
qp_width(size_t col, const unsigned char *s, size_t k)
{
	if (k > 1 || !qp_lit[s[0]])
		return 3 * k;
	if ((s[0] == ' ' || s[0] == '\t') && is_eol(s[1]))
		return 3;
	if (col == 0 && (s[0] == '.' || strncmp((const char *)s, "From ", 5) == 0))
		return 3;
	return 1;
}

static void
qp_soft(struct qp *q)
{
	memcpy(q->w, "=\r\n", 3);
	q->w += 3;
	q->col = 0;
}

static void
qp_crlf(struct qp *q)
{
	memcpy(q->w, "\r\n", 2);
	q->w += 2;
	q->col = 0;
}

/* Writes the k-byte character at s, soft-breaking first if it would not fit. */
static void
qp_char(struct qp *q, const unsigned char *s, size_t k)
{
	size_t width = qp_width(q->col, s, k);
	size_t max = is_eol(s[k]) ? QP_LINE : QP_LINE - 1;	/* room for a "=" */

	if (q->col + width > max) {
		qp_soft(q);
		width = qp_width(0, s, k);
	}
	if (width == k) {
		*q->w++ = (char)s[0];
	} else {
		for (size_t j = 0; j < k; j++) {
			q->w[0] = '=';
			q->w[1] = hex[s[j] >> 4];
			q->w[2] = hex[s[j] & 15];
			q->w += 3;
		}
	}
	q->col += width;
}

/*
 * 1 if none of the 8 bytes in x needs a look: no control (tab included),
 * DEL, "=" or 8-bit byte. Exact as a yes/no (Bit Twiddling Hacks' hasless
 * and haszero), and eight times faster than asking qp_lit each byte.
 */
static int
qp_plain8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t eq = x ^ (ones * '='), del = x ^ (ones * 0x7f);

	return (((x - ones * 0x20) & ~x & high) | (x & high) |
	    ((eq - ones) & ~eq & high) | ((del - ones) & ~del & high)) == 0;
}

/*
 * Copies the bytes from s on (end is the text's end) that stand for
 * themselves where they are: not at the start of a line ("." or "From "),
 * not white space ending one, leaving room for a soft break. Returns how
 * many. The common case, kept to a tight loop.
 */
static size_t
qp_run(struct qp *q, const unsigned char *s, const unsigned char *end)
{
	size_t max = QP_LINE - 1 - q->col, j = 0, w8;
	uint64_t x;

	if (q->col == 0)
		return 0;
	w8 = max < (size_t)(end - s) ? max : (size_t)(end - s);
	while (j + 8 <= w8 && (memcpy(&x, s + j, 8), qp_plain8(x)))
		j += 8;
	while (j < max && qp_lit[s[j]])
		j++;
	if (j > 0 && is_eol(s[j]) && (s[j - 1] == ' ' || s[j - 1] == '\t'))
		j--;
	memcpy(q->w, s, j);
	q->w += j;
	q->col += j;
	return j;
}

/* Encodes the text from s to end; -1 at the first byte that is not UTF-8. */
static int
qp_text(struct qp *q, const unsigned char *s, const unsigned char *end)
{
	while (s < end) {
		size_t k = qp_run(q, s, end);

		if (k > 0) {
			s += k;
		} else if (*s == '\r' || *s == '\n') {
			qp_crlf(q);
			s += s[0] == '\r' && s[1] == '\n' ? 2 : 1;
		} else {
			if ((k = *s < 0x80 ? 1 : utf8_seq(s, end)) == 0)
				return -1;
			qp_char(q, s, k);
			s += k;
		}
	}
	if (q->col > 0)
		qp_crlf(q);
	return 0;
}

/*
 * Appends text, quoted-printable, every line ended by CRLF (CRLF, LF or a
 * lone CR in the text each end a line). -1 and nothing kept if not UTF-8.
 */
static int
qp_body(struct buf *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text);
	struct qp q;

	/* At most 3 bytes per byte, a soft break per 64 and 2 per line end. */
	buf_grow(out, 4 * n + 8);
	q.w = out->data + out->len;
	q.col = 0;
	if (qp_text(&q, s, s + n) == -1) {
		out->data[out->len] = '\0';
		return -1;
	}
	out->len = (size_t)(q.w - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ */
/* What is refused.                                                    */
/* ------------------------------------------------------------------ */

/* 1 if c may appear in a dot-atom: RFC 5322 atext, or ".". */
static int
is_atext(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr(".!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_domain_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* 1 if the n bytes at s are a plain addr-spec: dot-atom "@" host name. */
static int
addr_ok(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t local = at ? (size_t)(at - s) : 0;

	if (local == 0 || local + 1 >= n || n > 254)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (i < local ? !is_atext((unsigned char)s[i]) :
		    i > local && !is_domain_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* 1 if the n bytes at s can sit between < and >: printable ASCII, no space. */
static int
token_ok(const char *s, size_t n)
{
	if (n == 0 || n > ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '<' || s[i] == '>')
			return 0;
	return 1;
}

/* NULL if list holds ids (one, with an "@", if single); else bad. */
static const char *
ids_why(const char *list, int single, const char *bad)
{
	const char *id;
	size_t n, count = 0;

	while ((id = id_next(&list, &n)) != NULL) {
		if (!token_ok(id, n) || (single && memchr(id, '@', n) == NULL))
			return bad;
		count++;
	}
	return count == 0 || (single && count > 1) ? bad : NULL;
}

static const char *
list_id_why(const char *v)
{
	size_t plen, n;
	const char *id = list_id_split(v, &plen, &n);

	if (n == 0 || n > ID_MAX)
		return "list_id: no list id";
	for (size_t i = 0; i < n; i++)
		if (!is_atext((unsigned char)id[i]))
			return "list_id: the id is not a dot-atom";
	return NULL;
}

static const char *
unsub_why(const char *mailto, const char *url)
{
	if (present(mailto)) {
		const char *m = mailto_body(mailto);
		size_t n = strlen(m), addr = strcspn(m, "?");

		if (!token_ok(m, n) || !addr_ok(m, addr))
			return "unsub_mailto: not an address with an optional ?query";
	}
	if (present(url) && (!token_ok(url, strlen(url)) ||
	    (strncasecmp(url, "http://", 7) != 0 && !is_https(url))))
		return "unsub_url: not an http(s) URL";
	return NULL;
}

static const char *
addrs_why(const struct compose_in *in)
{
	if (!present(in->from_addr) || !addr_ok(in->from_addr, strlen(in->from_addr)))
		return "from_addr: missing, or not a plain ASCII address";
	if (!present(in->to_addr) || !addr_ok(in->to_addr, strlen(in->to_addr)))
		return "to_addr: missing, or not a plain ASCII address";
	if (present(in->reply_to) && !addr_ok(in->reply_to, strlen(in->reply_to)))
		return "reply_to: not a plain ASCII address";
	return NULL;
}

/* NULL if every header field is acceptable; else why not. */
static const char *
fields_why(const struct compose_in *in)
{
	const char *why = addrs_why(in);

	if (why == NULL && (in->subject == NULL || in->text == NULL))
		why = in->subject == NULL ? "subject: missing" : "text: missing";
	if (why == NULL && in->message_id == NULL)
		why = "message_id: missing";
	if (why == NULL)
		why = ids_why(in->message_id, 1, "message_id: not one id with an @");
	if (why == NULL && present(in->in_reply_to))
		why = ids_why(in->in_reply_to, 0, "in_reply_to: not a list of ids");
	if (why == NULL && present(in->references))
		why = ids_why(in->references, 0, "references: not a list of ids");
	if (why == NULL && present(in->list_id))
		why = list_id_why(in->list_id);
	if (why == NULL)
		why = unsub_why(in->unsub_mailto, in->unsub_url);
	if (why == NULL && (in->date < 0 || in->date > DATE_MAX))
		why = "date: before 1970 or after 9999";
	return why;
}

const char *
deliver_compose_check(const struct compose_in *in)
{
	const char *why = fields_why(in);

	if (why == NULL && !utf8_valid(in->text, strlen(in->text), NULL))
		why = "text: not UTF-8";
	if (why == NULL && present(in->html) && !utf8_valid(in->html, strlen(in->html), NULL))
		why = "html: not UTF-8";
	return why;
}

/* ------------------------------------------------------------------ */
/* The message.                                                        */
/* ------------------------------------------------------------------ */

static const char qp_cte[] = "Content-Transfer-Encoding: quoted-printable\r\n";

/* "=_palier_" and the FNV-1a hash of the Message-ID. */
static void
boundary_make(struct buf *b, const char *message_id)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)message_id; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	buf_printf(b, "=_palier_%016llx", (unsigned long long)h);
}

static void
headers_put(struct buf *out, struct scratch *sc, const struct compose_in *in)
{
	date_header(out, in->date);
	mailbox_header(out, sc, "From", in->from_name, in->from_addr);
	mailbox_header(out, sc, "To", in->to_name, in->to_addr);
	if (present(in->reply_to))
		mailbox_header(out, sc, "Reply-To", in->reply_to_name, in->reply_to);
	text_header(out, sc, "Subject", in->subject, 0);
	ids_header(out, "Message-ID", in->message_id);
	if (present(in->in_reply_to))
		ids_header(out, "In-Reply-To", in->in_reply_to);
	if (present(in->references))
		ids_header(out, "References", in->references);
	if (present(in->list_id))
		list_id_header(out, sc, in->list_id);
	unsub_headers(out, in->unsub_mailto, in->unsub_url);
	if (in->auto_generated)
		buf_puts(out, "Auto-Submitted: auto-generated\r\n"
		    "X-Auto-Response-Suppress: OOF, AutoReply\r\n"
		    "Precedence: list\r\n");
	buf_puts(out, "MIME-Version: 1.0\r\n");
}

/* One part of the alternative: its delimiter, its headers, then its body. */
static int
part_put(struct buf *out, const char *lead, const char *boundary, const char *type,
    const char *body)
{
	buf_printf(out, "%s--%s\r\nContent-Type: %s; charset=UTF-8\r\n%s\r\n",
	    lead, boundary, type, qp_cte);
	return qp_body(out, body);
}

static int
alternative_put(struct buf *out, struct scratch *sc, const struct compose_in *in)
{
	const char *bd;

	buf_reset(&sc->quoted);
	boundary_make(&sc->quoted, in->message_id);
	bd = buf_cstr(&sc->quoted);
	buf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", bd);
	if (part_put(out, "", bd, "text/plain", in->text) == -1 ||
	    part_put(out, "\r\n", bd, "text/html", in->html) == -1)
		return -1;
	buf_printf(out, "\r\n--%s--\r\n", bd);
	return 0;
}

static int
bodies_put(struct buf *out, struct scratch *sc, const struct compose_in *in)
{
	if (present(in->html))
		return alternative_put(out, sc, in);
	buf_printf(out, "Content-Type: text/plain; charset=UTF-8\r\n%s\r\n", qp_cte);
	return qp_body(out, in->text);
}

int
deliver_compose(const struct compose_in *in, struct buf *out)
{
	struct scratch sc = { BUF_INIT, BUF_INIT };
	size_t mark = out->len;
	int rc;

	if (fields_why(in) != NULL)
		return -1;
	headers_put(out, &sc, in);
	rc = bodies_put(out, &sc, in);
	buf_free(&sc.clean);
	buf_free(&sc.quoted);
	if (rc == -1) {
		out->len = mark;
		out->data[mark] = '\0';
	}
	return rc;
}
