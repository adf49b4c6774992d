/*
 * sms_words.c — reading an inbound SMS: cleaning its text, then deciding
 * whether the whole message is a command (STOP, START, AIDE) or a vote.
 * Pure: owns only the strings it returns, does no I/O, never logs (texts are
 * residents' words), and must never crash or over-read on hostile bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "ingest/sms_words.h"

#define DROPPED		(-1)	/* a byte that is not UTF-8, or a dropped character */
#define FOLD_FLAGS	(UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT | \
			 UTF8PROC_COMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD)

static const struct {
	const char		*words;
	enum sms_command	 cmd;
} commands[] = {
	{ "stop", SMS_CMD_STOP }, { "stop sms", SMS_CMD_STOP },
	{ "stopsms", SMS_CMD_STOP }, { "stop all", SMS_CMD_STOP },
	{ "stopall", SMS_CMD_STOP }, { "arret", SMS_CMD_STOP },
	{ "arret sms", SMS_CMD_STOP }, { "arreter", SMS_CMD_STOP },
	{ "desabonner", SMS_CMD_STOP }, { "se desabonner", SMS_CMD_STOP },
	{ "desabonnement", SMS_CMD_STOP }, { "desinscrire", SMS_CMD_STOP },
	{ "se desinscrire", SMS_CMD_STOP }, { "desinscription", SMS_CMD_STOP },
	{ "unsubscribe", SMS_CMD_STOP }, { "cancel", SMS_CMD_STOP },
	{ "end", SMS_CMD_STOP }, { "quit", SMS_CMD_STOP },
	{ "start", SMS_CMD_START }, { "unstop", SMS_CMD_START },
	{ "reprendre", SMS_CMD_START },
	{ "aide", SMS_CMD_HELP }, { "help", SMS_CMD_HELP },
	{ "info", SMS_CMD_HELP }, { "infos", SMS_CMD_HELP },
};

static const char *const greetings[] = { "bonjour", "bonsoir" };
/* Longer phrases first: "merci beaucoup" before "merci". */
static const char *const courtesies[] = {
	"merci beaucoup", "merci", "svp", "stp", "s il vous plait",
	"s il te plait", "cordialement",
};
static const char *const connectors[] = { "ou", "et", "or", "and" };
static const char *const number_words[] = { "n", "no", "num", "numero" };

/* In a poll whose options are exactly Oui and Non: other ways to say them. */
static const struct {
	const char	*said;
	const char	*means;
} yes_no[] = {
	{ "ouais", "oui" }, { "yes", "oui" }, { "d accord", "oui" },
	{ "daccord", "oui" }, { "no", "non" }, { "pas d accord", "non" },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- characters -------------------------------------------------------- */

/* The character at *p, advancing *p; DROPPED if the bytes are not UTF-8. */
static int32_t
next_cp(const unsigned char **p, const unsigned char *end)
{
	size_t k = utf8_seq(*p, end);
	utf8proc_int32_t cp = DROPPED;

	if (k == 0) {
		(*p)++;
		return DROPPED;
	}
	utf8proc_iterate(*p, (utf8proc_ssize_t)k, &cp);
	*p += k;
	return cp;
}

static int32_t
peek_cp(const unsigned char *p, const unsigned char *end)
{
	return p < end ? next_cp(&p, end) : DROPPED;
}

static int
is_word_cp(int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

static int
is_pictograph(int32_t cp)
{
	return cp >= 0 && utf8proc_category(cp) == UTF8PROC_CATEGORY_SO;
}

/* Variation selector 16 and skin tones: they stay part of the pictograph. */
static int
is_pict_modifier(int32_t cp)
{
	return cp == 0xfe0f || (cp >= 0x1f3fb && cp <= 0x1f3ff);
}

/* What cp becomes in a normalized text: itself, ' ', or DROPPED. */
static int32_t
cleaned(int32_t cp, int after_pict, const unsigned char *next,
    const unsigned char *end)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_CC:
		return (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 ? ' ' : DROPPED;
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
		return ' ';
	case UTF8PROC_CATEGORY_CF:
		if (cp == 0x200d && after_pict && is_pictograph(peek_cp(next, end)))
			return cp;
		return DROPPED;
	default:
		return cp;
	}
}

/* text without bad bytes, controls and format characters. Caller frees. */
static char *
strip_format(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *end = p + strlen(text);
	struct buf b = BUF_INIT;
	int after_pict = 0;

	while (p < end) {
		int32_t cp;
		utf8proc_uint8_t enc[4];

		if (*p < 0x80) {	/* ASCII: what cleaned() makes of it, without the tables */
			if (*p >= 0x20 && *p < 0x7f)
				buf_putc(&b, (char)*p);
			else if (*p >= 0x09 && *p <= 0x0d)
				buf_putc(&b, ' ');
			p++;
			after_pict = 0;
			continue;
		}
		cp = next_cp(&p, end);
		if (cp == DROPPED || (cp = cleaned(cp, after_pict, p, end)) == DROPPED)
			continue;
		after_pict = is_pictograph(cp) || (after_pict && is_pict_modifier(cp));
		buf_append(&b, enc, (size_t)utf8proc_encode_char(cp, enc));
	}
	return buf_take(&b);
}

char *
sms_normalize(const char *text)
{
	char *stripped = strip_format(text);
	char *clean = utf8_clean_space(stripped);

	free(stripped);
	return clean;
}

/* ---- folding and words ------------------------------------------------- */

/* s from its first to its last letter or digit. Caller frees. */
static char *
trim_to_words(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s), *first = NULL, *last = NULL;

	while (p < end) {
		const unsigned char *at = p;

		if (is_word_cp(next_cp(&p, end))) {
			if (first == NULL)
				first = at;
			last = p;
		}
	}
	return first ? xstrndup((const char *)first, (size_t)(last - first)) : xstrdup("");
}

char *
sms_fold(const char *normalized)
{
	char *clean = NULL, *out;
	utf8proc_uint8_t *folded = NULL;

	if (!utf8_valid(normalized, strlen(normalized), NULL))
		normalized = clean = sms_normalize(normalized);
	if (utf8proc_map((const utf8proc_uint8_t *)normalized, 0, &folded, FOLD_FLAGS) < 0)
		out = xstrdup("");
	else
		out = trim_to_words((const char *)folded);
	free(folded);
	free(clean);
	return out;
}

/* The next run of letters and digits at or after *p; 0 at the end. */
static int
next_word(const unsigned char **p, const unsigned char *end,
    const unsigned char **w, size_t *wlen)
{
	const unsigned char *at;

	do {				/* skip to the first letter or digit */
		at = *p;
		if (at >= end)
			return 0;
	} while (!is_word_cp(next_cp(p, end)));
	*w = at;
	for (at = *p; *p < end && is_word_cp(next_cp(p, end)); at = *p)
		;
	*p = at;
	*wlen = (size_t)(at - *w);
	return 1;
}

/* folded's words joined by single spaces, a word repeated straight after
 * itself kept once ("stop stop" -> "stop"). Caller frees. */
static char *
words_of(const char *folded)
{
	const unsigned char *p = (const unsigned char *)folded;
	const unsigned char *end = p + strlen(folded), *w;
	struct buf b = BUF_INIT;
	size_t wlen, prev = 0, prevlen = 0;

	while (next_word(&p, end, &w, &wlen)) {
		if (b.len > 0 && wlen == prevlen && memcmp(b.data + prev, w, wlen) == 0)
			continue;
		if (b.len > 0)
			buf_putc(&b, ' ');
		prev = b.len;
		prevlen = wlen;
		buf_append(&b, w, wlen);
	}
	return buf_take(&b);
}

/* Removes one greeting before or one courtesy after the words; 1 if done. */
static int
peel_once(char *words)
{
	size_t n = strlen(words);

	for (size_t i = 0; i < NITEMS(greetings); i++) {
		size_t k = strlen(greetings[i]);

		if (strncmp(words, greetings[i], k) != 0)
			continue;
		if (words[k] == '\0')
			words[0] = '\0';
		else if (words[k] == ' ')
			memmove(words, words + k + 1, n - k);	/* with the NUL */
		else
			continue;
		return 1;
	}
	for (size_t i = 0; i < NITEMS(courtesies); i++) {
		size_t k = strlen(courtesies[i]);

		if (n >= k && strcmp(words + n - k, courtesies[i]) == 0 &&
		    (n == k || words[n - k - 1] == ' ')) {
			words[n == k ? 0 : n - k - 1] = '\0';
			return 1;
		}
	}
	return 0;
}

/* The words of a raw text, courtesy peeled if peel. Caller frees. */
static char *
key_of(const char *text, int peel)
{
	char *norm = sms_normalize(text), *folded = sms_fold(norm);
	char *words = words_of(folded);

	while (peel && peel_once(words))
		;
	free(folded);
	free(norm);
	return words;
}

/* ---- commands ---------------------------------------------------------- */

/* A message of nothing but punctuation, holding a question mark. */
static int
is_bare_question(const char *norm, const char *folded)
{
	return *folded == '\0' && (strchr(norm, '?') != NULL ||
	    strstr(norm, "\xef\xbc\x9f") != NULL || strstr(norm, "\xc2\xbf") != NULL);
}

enum sms_command
sms_command(const char *text)
{
	char *norm = sms_normalize(text);
	enum sms_command cmd = sms_command_normalized(norm);

	free(norm);
	return cmd;
}

enum sms_command
sms_command_normalized(const char *norm)
{
	char *folded = sms_fold(norm);
	char *words = words_of(folded);
	enum sms_command cmd = SMS_CMD_NONE;

	while (peel_once(words))
		;
	for (size_t i = 0; i < NITEMS(commands); i++)
		if (strcmp(words, commands[i].words) == 0)
			cmd = commands[i].cmd;
	if (cmd == SMS_CMD_NONE && is_bare_question(norm, folded))
		cmd = SMS_CMD_HELP;
	free(words);
	free(folded);
	return cmd;
}

/* ---- votes ------------------------------------------------------------- */

struct ballot {
	char	**keys;		/* each option's words; "" for a NULL option */
	int	  n;
};

struct tally {
	int	first;		/* the first option named, or -1 */
	int	several;	/* another option was named too */
	int	bad;		/* a number that is no option */
};

/* Length of the word at s if it is one of list, else 0. */
static size_t
word_in(const char *s, const char *const *list, size_t n)
{
	size_t k = strcspn(s, " ");

	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == k && strncmp(s, list[i], k) == 0)
			return k;
	return 0;
}

static void
tally_add(struct tally *t, int choice)
{
	if (t->first < 0)
		t->first = choice;
	else if (t->first != choice)
		t->several = 1;
}

/* The longest option label at s, as whole words; its length, or 0. */
static size_t
match_option(const char *s, const struct ballot *bl, struct tally *t)
{
	size_t best = 0;
	int who = -1, tie = 0;

	for (int i = 0; i < bl->n; i++) {
		size_t k = strlen(bl->keys[i]);

		if (k == 0 || strncmp(s, bl->keys[i], k) != 0 || (s[k] != ' ' && s[k] != '\0'))
			continue;
		if (k > best) {
			best = k;
			who = i;
			tie = 0;
		} else if (k == best)
			tie = 1;		/* two options with the same label */
	}
	if (who >= 0) {
		tally_add(t, who);
		t->several |= tie;
	}
	return best;
}

/* A number of 1-2 ASCII digits at s, after an optional "n", "no" ...; its
 * length with the prefix, or 0. */
static size_t
match_number(const char *s, const struct ballot *bl, struct tally *t)
{
	size_t pre = word_in(s, number_words, NITEMS(number_words));
	const char *d = pre && s[pre] == ' ' ? s + pre + 1 : s;
	size_t k = strspn(d, "0123456789");
	int v;

	if (k == 0 || k > 2 || (d[k] != ' ' && d[k] != '\0'))
		return 0;
	v = k == 1 ? d[0] - '0' : (d[0] - '0') * 10 + d[1] - '0';
	if (v < 1 || v > bl->n)
		t->bad = 1;
	else
		tally_add(t, v - 1);
	return (size_t)(d - s) + k;
}

/* Reads words as options, numbers and connectors; -1 if a word is none. */
static int
read_ballot(const char *words, const struct ballot *bl, struct tally *t)
{
	size_t pos = 0;

	while (words[pos] != '\0') {
		size_t k;

		if ((k = match_option(words + pos, bl, t)) == 0 &&
		    (k = match_number(words + pos, bl, t)) == 0 &&
		    (k = word_in(words + pos, connectors, NITEMS(connectors))) == 0)
			return -1;
		pos += k;
		pos += words[pos] == ' ';
	}
	return 0;
}

static size_t
count_letters(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	size_t n = 0;

	while (p < end) {
		utf8proc_category_t c = utf8proc_category(next_cp(&p, end));

		n += c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
	}
	return n;
}

/* Three letters or more that begin exactly one label: 1, 0 or -1. */
static int
vote_by_prefix(const char *words, const struct ballot *bl, int *choice)
{
	size_t k = strlen(words);
	int found = 0, who = -1;

	if (count_letters(words) < 3)
		return 0;
	for (int i = 0; i < bl->n; i++)
		if (strlen(bl->keys[i]) > k && strncmp(bl->keys[i], words, k) == 0) {
			found++;
			who = i;
		}
	if (found == 1)
		*choice = who;
	return found == 0 ? 0 : found == 1 ? 1 : -1;
}

/* words with a poll's other ways of saying Oui and Non. Borrowed. */
static const char *
yes_no_words(const char *words, const struct ballot *bl)
{
	if (bl->n != 2 || !((strcmp(bl->keys[0], "oui") == 0 && strcmp(bl->keys[1], "non") == 0) ||
	    (strcmp(bl->keys[0], "non") == 0 && strcmp(bl->keys[1], "oui") == 0)))
		return words;
	for (size_t i = 0; i < NITEMS(yes_no); i++)
		if (strcmp(words, yes_no[i].said) == 0)
			return yes_no[i].means;
	return words;
}

static int
vote_of(const char *words, const struct ballot *bl, int *choice)
{
	struct tally t = { -1, 0, 0 };

	if (*words == '\0')
		return 0;
	words = yes_no_words(words, bl);
	if (read_ballot(words, bl, &t) < 0)
		return vote_by_prefix(words, bl, choice);
	if (t.bad || t.several)
		return -1;
	if (t.first < 0)
		return 0;			/* only "ou", "et" ... */
	*choice = t.first;
	return 1;
}

int
sms_vote_choice(const char *text, const char *const *options, int noptions,
    int *choice)
{
	struct ballot bl = { NULL, noptions > 0 ? noptions : 0 };
	char *words = key_of(text, 1);
	int found, c = -1;

	bl.keys = xcalloc((size_t)bl.n + 1, sizeof(*bl.keys));
	for (int i = 0; i < bl.n; i++)
		bl.keys[i] = key_of(options && options[i] ? options[i] : "", 0);
	found = vote_of(words, &bl, &c);
	if (found == 1 && choice != NULL)
		*choice = c;
	for (int i = 0; i < bl.n; i++)
		free(bl.keys[i]);
	free(bl.keys);
	free(words);
	return found;
}
