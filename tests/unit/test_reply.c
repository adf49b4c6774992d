/*
 * test_reply.c — unit tests for ingest/reply.c: golden trimming fixtures
 * (tests/fixtures/reply/NAME.txt -> NAME.out), speed and bounds on hostile
 * input, machine-sent mail detection and bounce reading. Builds struct mail
 * values by hand and never calls the MIME parser; frees all it allocates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "ingest/reply.h"

#include "growth.h"

#define MIN_FIXTURES	40
#define MB		(1024 * 1024)


/* CPU time of this thread: the cost per core, whatever else the machine runs. */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ */
/* Golden fixtures.                                                    */
/* ------------------------------------------------------------------ */

static char *
fixture_dir(void)
{
	const char *src = getenv("PALIER_SRC");

	if (src && *src)
		return xasprintf("%s/tests/fixtures/reply", src);
	return xstrdup("tests/fixtures/reply");
}

/* The whole file, or NULL. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_take(&b);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fixture base names (without .txt), sorted; *n set. */
static char **
fixture_names(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len <= 4 || strcmp(e->d_name + len - 4, ".txt") != 0)
			continue;
		names = xreallocarray(names, *n + 1, sizeof(*names));
		names[(*n)++] = xstrndup(e->d_name, len - 4);
	}
	closedir(d);
	qsort(names, *n, sizeof(*names), name_cmp);
	return names;
}

/* 1 if fixture name trims to its .out (trailing newlines of .out ignored). */
static int
fixture_check(const char *dir, const char *name)
{
	char *tp = xasprintf("%s/%s.txt", dir, name), *op = xasprintf("%s/%s.out", dir, name);
	char *in = slurp(tp), *want = slurp(op), *got = NULL;
	int ok = 0;

	if (in == NULL || want == NULL) {
		printf("# fixture %s: missing %s\n", name, in ? op : tp);
	} else {
		size_t wl = strlen(want);

		while (wl > 0 && want[wl - 1] == '\n')
			want[--wl] = '\0';
		got = ingest_reply_trim(in);
		ok = strcmp(got, want) == 0;
		if (!ok)
			printf("# fixture %s:\n# --- want\n%s\n# --- got\n%s\n# ---\n", name, want, got);
	}
	free(tp);
	free(op);
	free(in);
	free(want);
	free(got);
	return ok;
}

static void
test_fixtures(void **state)
{
	char *dir = fixture_dir();
	size_t n, failed = 0;
	char **names = fixture_names(dir, &n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		failed += !fixture_check(dir, names[i]);
		free(names[i]);
	}
	free(names);
	printf("# %zu reply fixtures, %zu failed (%s)\n", n, failed, dir);
	free(dir);
	assert_true(n >= MIN_FIXTURES);
	assert_int_equal(failed, 0);
}

static void
check_trim(const char *in, const char *want)
{
	char *got = ingest_reply_trim(in);

	assert_string_equal(got, want);
	free(got);
}

static void
test_trim_edges(void **state)
{
	(void)state;
	check_trim(NULL, "");
	check_trim("", "");
	check_trim("\xef\xbb\xbfOui", "Oui");
	check_trim("Oui", "Oui");
	check_trim("  indenté\n", "  indenté");
	check_trim("--", "--");			/* only a signature: nothing else to show */
	check_trim("> tout est cité\n> encore", "> tout est cité\n> encore");
	check_trim("Non.\n\xff\xfe invalide\n> cité", "Non.\n\xff\xfe invalide");
	check_trim("A\n-- \nsig\n> q\nB", "A\nB");	/* a quote ends the signature */
}

/* Random splices of reply-shaped fragments: no crash, no leak, never longer than the input. */
static void
test_trim_fuzz(void **state)
{
	static const char *const parts[] = {
		"> ", ">", "-- ", "--", "\n", "\n\n", "Le ", "On ", "10:12", "a écrit :",
		"wrote:", "De : ", "Envoyé : ", "À : ", "Objet : ", "@example.fr", "\xc2\xa0",
		"\xe2\x80\xaf", "-----Message d'origine-----", "Message du 03/11/26",
		"Envoyé de mon iPhone", "____", "é", "\xcc\x81", "\xff", "Bonjour", " ", "\t",
		"\r", "*", "=====",
	};
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct buf b = BUF_INIT;
		char *out;
		int k = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 60;

		for (int i = 0; i < k; i++) {
			seed = seed * 1103515245u + 12345u;
			buf_puts(&b, parts[(seed >> 16) % (sizeof(parts) / sizeof(parts[0]))]);
		}
		out = ingest_reply_trim(buf_cstr(&b));
		assert_true(strlen(out) <= b.len);
		free(out);
		buf_free(&b);
	}
}

/*
 * About 2 KB: a short answer, then the notice it answers, quoted with "> "
 * under a Gmail attribution or, Outlook style, unquoted under a header block
 * (every line of which is then read in full).
 */
static char *
typical_reply(int outlook)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "Bonjour,\n\nJe serai là jeudi, merci pour l'organisation.\n\n"
	    "Odette\n\nEnvoyé de mon iPhone\n\n");
	if (outlook)
		buf_puts(&b, "________________________________\n"
		    "De : Conseil syndical <conversation+k3f9@palier.example.org>\n"
		    "Envoyé : lundi 3 novembre 2026 10:12\nÀ : Odette Marchand "
		    "<odette.marchand@example.fr>\nObjet : Réunion du conseil syndical\n\n");
	else
		buf_puts(&b, "Le lun. 3 nov. 2026 à 10:12, Conseil syndical "
		    "<conversation+k3f9@palier.example.org> a écrit :\n\n");
	while (b.len < 2048)
		buf_puts(&b, outlook ? "La réunion du conseil syndical aura lieu jeudi à 18 h, "
		    "salle commune. Ordre du jour : ascenseur, chauffage.\n\n" :
		    "> La réunion du conseil syndical aura lieu jeudi à 18 h, "
		    "salle commune. Ordre du jour : ascenseur, chauffage.\n>\n");
	return buf_take(&b);
}

static void
test_trim_rate(void **state)
{
	static const char *const style[] = { "Gmail, quoted", "Outlook, unquoted" };
	int n = 20000;

	(void)state;
	for (int outlook = 0; outlook < 2; outlook++) {
		char *in = typical_reply(outlook);
		double t0 = now_ms(), ms;

		for (int i = 0; i < n; i++)
			free(ingest_reply_trim(in));
		ms = now_ms() - t0;
		printf("# trim rate: %.0f replies/s per core (%zu-byte reply, %s; %d in %.1f ms CPU)\n",
		    n / (ms / 1e3), strlen(in), style[outlook], n, ms);
		free(in);
	}
}

/* A 1 MB text made by repeating unit (or one line of it). */
static char *
hostile(const char *unit, size_t size)
{
	struct buf b = BUF_INIT;

	buf_grow(&b, size + 64);
	while (b.len < size)
		buf_puts(&b, unit);
	return buf_take(&b);
}

/* unit with its newlines written \n, for a "# ..." line. */
static char *
escaped(const char *unit)
{
	struct buf b = BUF_INIT;

	for (; *unit; unit++)
		if (*unit == '\n')
			buf_puts(&b, "\\n");
		else
			buf_putc(&b, *unit);
	return buf_take(&b);
}

static void
trim_once(void *in)
{
	free(ingest_reply_trim(in));
}

/* 64 KB then 1 MB of each repeated unit: the cost grows with the size, no faster. */
static void
test_trim_hostile(void **state)
{
	static const char *const units[] = {
		"a", "\n", "x\n", "e\n", ">", "> \n", "--\n", "-- \n> \nx\n", "Le 1 10:12 a\n", "Le 1 10:12 a\nécrit\n",
		"De : a@b.fr\n", "De : a@b.fr\nEnvoyé : x\n", "----", "é\xcc\x81\xc2\xa0",
		"Le Le Le Le 10:12 @@@@ a écrit", "\n\n\n\nDe : x@y.fr\nObjet : z\n",
		"____\n\n", "Message du 1\n> x\n", "De : x\n\n", "Le 1 10:12\nx :\ny :\n", "Le 1 10:12\nx ecrit\ny ecrit\n",
		"envoye depuis l'applicatio\n", "\xc2\xa0\xc2\xa0>\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		char *small = hostile(units[i], MB / GROWTH_FACTOR), *big = hostile(units[i], MB);
		char *label = escaped(units[i]), what[128];
		double s_ms = growth_best_ms(trim_once, small), b_ms = growth_best_ms(trim_once, big);

		snprintf(what, sizeof(what), "trim of \"%.40s\"", label);
		growth_assert_linear(what, s_ms, b_ms);
		free(label);
		free(small);
		free(big);
	}
}

/* ------------------------------------------------------------------ */
/* Machine-sent mail.                                                  */
/* ------------------------------------------------------------------ */

/* A person's reply to palier, in the shape the MIME parser leaves it. */
static struct mail
resident_mail(struct mail_header *h, size_t nh)
{
	struct mail m;

	memset(&m, 0, sizeof(m));
	m.headers = h;
	m.nheaders = nh;
	m.from_addr = "odette.marchand@example.fr";
	m.from_name = "Odette Marchand";
	m.subject = "Re: Réunion du conseil syndical";
	m.text = "Je serai absente jeudi, désolée.\n";
	return m;
}

static void
assert_auto(const struct mail *m, int want)
{
	const char *why = "unset";
	int got = ingest_reply_is_automatic(m, &why);

	if (got != want)
		print_error("subject=%s from=%s why=%s\n", m->subject ? m->subject : "(none)",
		    m->from_addr ? m->from_addr : "(none)", why ? why : "(null)");
	assert_int_equal(got, want);
	if (want)
		assert_non_null(why);
	else
		assert_null(why);
}

/* Plain char * so that the literals fill struct mail without casts. */
struct hcase {
	char	*name, *value;
	int	 want;
};

static void
test_auto_headers(void **state)
{
	static const struct hcase cases[] = {
		{ "Auto-Submitted", "auto-replied", 1 },
		{ "auto-submitted", "auto-generated", 1 },
		{ "Auto-Submitted", "auto-replied (vacation)", 1 },
		{ "Auto-Submitted", "no", 0 },
		{ "Auto-Submitted", " No ", 0 },
		{ "X-Autoreply", "yes", 1 },
		{ "X-Autorespond", "Out of office", 1 },
		{ "X-Auto-Response-Suppress", "All", 1 },
		{ "X-Auto-Response-Suppress", "DR, OOF, AutoReply", 1 },
		{ "X-Auto-Response-Suppress", "DR, RN, NRN", 0 },
		{ "X-Auto-Response-Suppress", "AllButOOF", 0 },
		{ "Precedence", "bulk", 1 },
		{ "Precedence", "junk", 1 },
		{ "Precedence", "list", 1 },
		{ "Precedence", "auto_reply", 1 },
		{ "Precedence", "normal", 0 },
		{ "List-Id", "Les Tilleuls <tilleuls.palier.example.org>", 1 },
		{ "List-Id", "Conversation <k3f9.conversation.palier.example.org>", 1 },
		{ "List-Unsubscribe", "<https://news.example.org/u?x=1>", 1 },
		{ "Return-Path", "<>", 1 },
		{ "Return-Path", " < > ", 1 },
		{ "Return-Path", "<odette.marchand@example.fr>", 0 },
		{ "Content-Type", "multipart/report; report-type=delivery-status; boundary=x", 1 },
		{ "Content-Type", "multipart/alternative; boundary=x", 0 },
		{ "X-Mailer", "Apple Mail (2.3774)", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_header h[2] = {
			{ "Date", "Mon, 3 Nov 2026 10:12:00 +0100" },
			{ NULL, NULL },
		};
		struct mail m;

		h[1].name = cases[i].name;
		h[1].value = cases[i].value;
		m = resident_mail(h, 2);
		assert_auto(&m, cases[i].want);
	}
}

static void
test_auto_senders(void **state)
{
	static const struct { char *from; int want; } cases[] = {
		{ "MAILER-DAEMON@mx.example.org", 1 },
		{ "postmaster@example.fr", 1 },
		{ "noreply@example.org", 1 },
		{ "no-reply@notifications.example.org", 1 },
		{ "ne-pas-repondre@impots.example.fr", 1 },
		{ "nepasrepondre@banque.example.fr", 1 },
		{ "Ne_Pas_Repondre@example.fr", 1 },
		{ "nora.bernard@example.fr", 0 },
		{ "repondeur.marie@example.fr", 0 },
		{ "post.master.class@example.fr", 0 },
	};
	struct mail m = resident_mail(NULL, 0);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m.from_addr = cases[i].from;
		assert_auto(&m, cases[i].want);
	}
}

static void
test_auto_subjects(void **state)
{
	static const struct { char *subject; int want; } cases[] = {
		{ "Absence du bureau", 1 },
		{ "Réponse automatique : Re: Réunion du conseil syndical", 1 },
		{ "REPONSE AUTOMATIQUE: Réunion", 1 },
		{ "Re\xcc\x81ponse automatique", 1 },		/* NFD */
		{ "Message d'absence", 1 },
		{ "Message d’absence", 1 },
		{ "Je suis absente", 1 },
		{ "Je suis absent(e)", 1 },
		{ "Absente du 3 au 10 novembre", 1 },
		{ "Absent(e) du 3 au 10 novembre", 1 },
		{ "Out of Office: Meeting", 1 },
		{ "Out of office reply", 1 },
		{ "Automatic reply: Garden clean-up day", 1 },
		{ "Auto-reply", 1 },
		{ "Autoreply: vacances", 1 },
		{ "Away from the office", 1 },
		{ "Undeliverable: Réunion", 1 },
		{ "Non remis : Réunion", 1 },
		{ "Mail delivery failed: returning message to sender", 1 },
		{ "Delivery Status Notification (Failure)", 1 },
		{ "Returned mail: see transcript for details", 1 },
		{ "Échec de la remise : Réunion", 1 },
		{ "ÉCHEC DE LA REMISE", 1 },
		{ "Message non délivré", 1 },
		{ "Re: Réunion du conseil syndical", 0 },
		{ "Re: absence de chauffage au 2e", 0 },
		{ "Re: Qui sera absent du 3 au 5 ?", 0 },
		{ "Clés non remises à la gardienne", 0 },
		{ "Bureau de vote", 0 },
		{ "", 0 },
	};
	struct mail m = resident_mail(NULL, 0);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m.subject = cases[i].subject;
		assert_auto(&m, cases[i].want);
	}
}

static void
test_auto_misc(void **state)
{
	struct mail_header h[] = {
		{ "From", "Odette Marchand <odette.marchand@example.fr>" },
		{ "Subject", "Re: Réunion du conseil syndical" },
		{ "Content-Type", "text/plain; charset=utf-8" },
	};
	struct mail m = resident_mail(h, 3);
	const char *why = "unset";

	(void)state;
	m.text = "Je suis absente du 3 au 10, Réponse automatique de ma part : oui.\n";
	assert_auto(&m, 0);			/* words in the body do not count */
	m.is_dsn = 1;
	assert_auto(&m, 1);
	m.is_dsn = 0;
	m.subject = NULL;
	m.from_addr = NULL;
	assert_auto(&m, 0);
	memset(&m, 0, sizeof(m));
	assert_auto(&m, 0);			/* an empty mail is a person's until shown otherwise */
	assert_int_equal(ingest_reply_is_automatic(NULL, &why), 0);
	m.is_dsn = 1;
	assert_int_equal(ingest_reply_is_automatic(&m, NULL), 1);
}

/* ------------------------------------------------------------------ */
/* Bounces that are not standard DSNs.                                 */
/* ------------------------------------------------------------------ */

#define MAXA 8

/* subject NULL: "Undelivered Mail Returned to Sender". */
struct bcase {
	char		*label, *from, *subject, *text;
	int		 n;
	const char	*addr[3];
	int		 perm[3];
};

static const struct bcase bounces[] = {
	{ "exim permanent", "Mailer-Daemon@mx.palier.example.org", NULL,
	  "This message was created automatically by mail delivery software.\n\n"
	  "A message that you sent could not be delivered to one or more of its\n"
	  "recipients. This is a permanent error. The following address(es) failed:\n\n"
	  "  Bob.Martin@Example.fr\n"
	  "    host mx.example.fr [192.0.2.10]\n"
	  "    SMTP error from remote mail server after RCPT TO:<bob.martin@example.fr>:\n"
	  "    550 5.1.1 <bob.martin@example.fr>: Recipient address rejected: User unknown\n\n"
	  "------ This is a copy of the message, including all the headers. ------\n\n"
	  "Return-path: <bounce+r7k2@palier.example.org>\n"
	  "To: claire.petit@example.fr\n",
	  1, { "bob.martin@example.fr" }, { 1 } },
	{ "exim two, one full", "Mailer-Daemon@mx.palier.example.org", NULL,
	  "This message was created automatically by mail delivery software.\n\n"
	  "A message that you sent could not be delivered to one or more of its\n"
	  "recipients. The following address(es) failed:\n\n"
	  "  alice.roy@example.fr\n"
	  "    host mx.example.fr [192.0.2.10]\n"
	  "    SMTP error from remote mail server after end of data:\n"
	  "    552 5.2.2 Mailbox full\n\n"
	  "  jean.noel@example.org\n"
	  "    SMTP error from remote mail server after RCPT TO:<jean.noel@example.org>:\n"
	  "    550 5.1.1 No such user\n",
	  2, { "alice.roy@example.fr", "jean.noel@example.org" }, { 0, 1 } },
	{ "exim delayed", "Mailer-Daemon@mx.palier.example.org", NULL,
	  "This message was created automatically by mail delivery software.\n"
	  "A message that you sent has not yet been delivered to one or more of its\n"
	  "recipients after more than 24 hours on the queue on mx.palier.example.org.\n\n"
	  "The address to which the message has not yet been delivered is:\n\n"
	  "  gerard.vasseur@example.fr\n"
	  "    Delay reason: SMTP error from remote mail server after RCPT TO:<gerard.vasseur@example.fr>:\n"
	  "    451 4.7.1 Greylisted, please try again later\n\n"
	  "No action is required on your part.\n",
	  1, { "gerard.vasseur@example.fr" }, { 0 } },
	{ "qmail", "MAILER-DAEMON@mail.example.org", NULL,
	  "Hi. This is the qmail-send program at mail.example.org.\n"
	  "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
	  "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
	  "<bob@example.fr>:\n"
	  "192.0.2.1 does not like recipient.\n"
	  "Remote host said: 550 5.1.1 <bob@example.fr>... User unknown\n"
	  "Giving up on 192.0.2.1.\n\n"
	  "--- Below this line is a copy of the message.\n\n"
	  "Return-Path: <bounce+q1@palier.example.org>\n"
	  "To: other.resident@example.fr\n",
	  1, { "bob@example.fr" }, { 1 } },
	{ "sendmail groups", "MAILER-DAEMON@relay.example.org", NULL,
	  "The original message was received at Mon, 3 Nov 2026 10:12:00 +0100\n"
	  "from localhost [127.0.0.1]\n\n"
	  "   ----- The following addresses had permanent fatal errors -----\n"
	  "<lucie.carpentier@example.fr>\n\n"
	  "   ----- The following addresses had transient non-fatal errors -----\n"
	  "<marc.hubert@example.fr>\n\n"
	  "   ----- Transcript of session follows -----\n"
	  "... while talking to mx.example.fr.:\n",
	  2, { "lucie.carpentier@example.fr", "marc.hubert@example.fr" }, { 1, 0 } },
	{ "exchange en", "postmaster@example.onmicrosoft.com", NULL,
	  "Delivery has failed to these recipients or groups:\n\n"
	  "bob.durand@example.fr (bob.durand@example.fr)\n"
	  "The e-mail address you entered couldn't be found. Please check the "
	  "recipient's e-mail address and try to resend the message.\n\n"
	  "Diagnostic information for administrators:\n\n"
	  "Generating server: mail.example.org\n\n"
	  "bob.durand@example.fr\n"
	  "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n\n"
	  "Original message headers:\n\n"
	  "From: Conseil syndical <bounce+x1@palier.example.org>\n",
	  1, { "bob.durand@example.fr" }, { 1 } },
	{ "exchange fr", "postmaster@example.fr", NULL,
	  "Échec de la remise aux destinataires suivants : jeanne.aubert@example.fr\n\n"
	  "Informations de diagnostic pour les administrateurs :\n"
	  "#550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup ##\n\n"
	  "En-têtes de message d'origine :\n"
	  "To: voisin@example.fr\n",
	  1, { "jeanne.aubert@example.fr" }, { 1 } },
	{ "postfix without dsn", "MAILER-DAEMON@mail.example.org", NULL,
	  "This is the mail system at host mail.example.org.\n\n"
	  "I'm sorry to have to inform you that your message could not\n"
	  "be delivered to one or more recipients. It's attached below.\n\n"
	  "For further assistance, please send mail to postmaster.\n\n"
	  "                   The mail system\n\n"
	  "<roland.baron@example.fr>: host mx.example.fr[192.0.2.20] said: 550 5.1.1\n"
	  "    <roland.baron@example.fr>: Recipient address rejected: User unknown in\n"
	  "    virtual mailbox table (in reply to RCPT TO command)\n",
	  1, { "roland.baron@example.fr" }, { 1 } },
	{ "orange fr", "postmaster@orange.example.fr", NULL,
	  "Bonjour,\n\n"
	  "Votre message n’a pas pu être remis à l’adresse suivante : denise.poirier@example.fr\n\n"
	  "L'adresse denise.poirier@example.fr est introuvable. Vérifiez-la et renvoyez votre message.\n\n"
	  "Message d'origine :\n"
	  "De : Résidence <bounce+o9@palier.example.org>\n",
	  1, { "denise.poirier@example.fr" }, { 1 } },
	{ "gmail en", "mailer-daemon@googlemail.com", NULL,
	  "** Address not found **\n\n"
	  "Your message wasn't delivered to thomas.lebrun@example.org because the address "
	  "couldn't be found, or is unable to receive mail.\n\n"
	  "The response from the remote server was:\n"
	  "550 5.1.1 The email account that you tried to reach does not exist.\n",
	  1, { "thomas.lebrun@example.org" }, { 1 } },
	{ "gmail fr delay", "mailer-daemon@googlemail.com", NULL,
	  "** Distribution retardée **\n\n"
	  "Un problème temporaire est survenu lors de la distribution de votre message à "
	  "irene.duval@example.fr. Gmail va réessayer pendant 47 heures.\n",
	  1, { "irene.duval@example.fr" }, { 0 } },
	{ "quota fr", "MAILER-DAEMON@smtp.example.fr", NULL,
	  "Votre message n'a pas pu être remis.\n\n"
	  "<anne.leroux@example.fr> : boîte aux lettres pleine (552 5.2.2)\n",
	  1, { "anne.leroux@example.fr" }, { 0 } },
	{ "n'existe pas, no code", "postmaster@example.fr", NULL,
	  "Votre message n'a pas été remis.\n"
	  "Le destinataire leon.fabre@example.fr n'existe pas.\n",
	  1, { "leon.fabre@example.fr" }, { 1 } },
	{ "silent bounce is permanent, sender and palier skipped", "MAILER-DAEMON@mx.example.org", NULL,
	  "Delivery to the following recipient failed: <MAILER-DAEMON@mx.example.org>, "
	  "<bounce+z9@palier.example.org>, postmaster@example.org, rose.michaud@example.fr\n",
	  1, { "rose.michaud@example.fr" }, { 1 } },
	{ "no report in a resident's mail", "odette.marchand@example.fr", "Re: Colis",
	  "Bonjour, pouvez-vous écrire à gardienne@example.fr ? Merci.\n",
	  0, { NULL }, { 0 } },
	{ "a resident's words are not a report", "odette.marchand@example.fr", "Re: Colis",
	  "Mon message n'a pas pu être remis à jean.dupuis@example.fr, il a changé d'adresse.\n"
	  "Address not found, disait le message.\n",
	  0, { NULL }, { 0 } },
	{ "exchange from an unnamed system, by its subject", "MicrosoftExchange329e71ec88ae@example.org",
	  "Non remis : Réunion du conseil syndical",
	  "Échec de la remise aux destinataires suivants :\n\njean.dupuis@example.fr\n",
	  1, { "jean.dupuis@example.fr" }, { 1 } },
	{ "mail system, plain words", "MAILER-DAEMON@mx.example.org", NULL,
	  "Sorry, we could not reach paul.simon@example.fr.\n",
	  1, { "paul.simon@example.fr" }, { 1 } },
};

static void
check_bounce(const struct bcase *c)
{
	char *addrs[MAXA] = { NULL };
	int perm[MAXA] = { 0 };
	struct mail m;
	int n;

	memset(&m, 0, sizeof(m));
	m.from_addr = c->from;
	m.subject = c->subject ? c->subject : "Undelivered Mail Returned to Sender";
	m.text = c->text;
	n = ingest_reply_bounce_scan(&m, addrs, perm, MAXA);
	if (n != c->n)
		print_error("%s: %d addresses, want %d\n", c->label, n, c->n);
	assert_int_equal(n, c->n);
	for (int i = 0; i < n; i++) {
		if (strcmp(addrs[i], c->addr[i]) != 0 || perm[i] != c->perm[i])
			print_error("%s: [%d] %s perm=%d\n", c->label, i, addrs[i], perm[i]);
		assert_string_equal(addrs[i], c->addr[i]);
		assert_int_equal(perm[i], c->perm[i]);
		free(addrs[i]);
	}
}

static void
test_bounce_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bounces) / sizeof(bounces[0]); i++)
		check_bounce(&bounces[i]);
}

static void
test_bounce_limits(void **state)
{
	char *addrs[2] = { NULL, NULL };
	int perm[2] = { -1, -1 };
	struct mail m;
	struct mail_dsn d;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.from_addr = "MAILER-DAEMON@mx.example.org";
	m.text = "Delivery has failed to these recipients or groups:\n"
	    "a@example.fr\nb@example.fr\nA@EXAMPLE.FR\nc@example.fr\n";
	assert_int_equal(ingest_reply_bounce_scan(&m, addrs, perm, 2), 2);
	assert_string_equal(addrs[0], "a@example.fr");
	assert_string_equal(addrs[1], "b@example.fr");
	free(addrs[0]);
	free(addrs[1]);
	assert_int_equal(ingest_reply_bounce_scan(&m, addrs, perm, 0), 0);

	memset(&d, 0, sizeof(d));
	m.is_dsn = 1;				/* a standard DSN is read from its report */
	m.dsn = &d;
	m.ndsn = 1;
	assert_int_equal(ingest_reply_bounce_scan(&m, addrs, perm, 2), 0);
	m.ndsn = 0;				/* ... unless its report was empty */
	assert_int_equal(ingest_reply_bounce_scan(&m, addrs, perm, 1), 1);
	free(addrs[0]);
	m.text = NULL;
	assert_int_equal(ingest_reply_bounce_scan(&m, addrs, perm, 2), 0);
	assert_int_equal(ingest_reply_bounce_scan(NULL, addrs, perm, 2), 0);
}

struct scan { struct mail *m; char **addrs; int *perm; int n; };

static void
scan_once(void *arg)
{
	struct scan *sc = arg;

	for (int k = 0; k < sc->n; k++)
		free(sc->addrs[k]);
	sc->n = ingest_reply_bounce_scan(sc->m, sc->addrs, sc->perm, MAXA);
}

static void
test_bounce_hostile(void **state)
{
	static const struct { const char *unit; int want; } cases[] = {
		{ "Delivery has failed to these recipients: @@a@b.fr x@y.fr 550 5.1.1 ", 2 },
		{ "Delivery has failed to these recipients:\ntemporary quota mailbox full\n", 0 },
		{ "\n", 0 },
		{ "a@b.fr\n", 1 },		/* from a mail system: read from the top */
	};
	char *addrs[MAXA];
	int perm[MAXA];
	struct mail m;
	struct scan sc = { &m, addrs, perm, 0 };

	(void)state;
	memset(&m, 0, sizeof(m));
	m.from_addr = "MAILER-DAEMON@mx.example.org";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *label = escaped(cases[i].unit), what[128];
		double s_ms, b_ms;

		m.text = hostile(cases[i].unit, MB / GROWTH_FACTOR);
		s_ms = growth_best_ms(scan_once, &sc);
		free(m.text);
		m.text = hostile(cases[i].unit, MB);
		b_ms = growth_best_ms(scan_once, &sc);
		assert_int_equal(sc.n, cases[i].want);
		snprintf(what, sizeof(what), "bounce scan of \"%.24s\"", label);
		growth_assert_linear(what, s_ms, b_ms);
		for (int k = 0; k < sc.n; k++)
			free(addrs[k]);
		sc.n = 0;
		free(m.text);
		free(label);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_trim_edges),
		cmocka_unit_test(test_trim_fuzz),
		cmocka_unit_test(test_trim_rate),
		cmocka_unit_test(test_trim_hostile),
		cmocka_unit_test(test_auto_headers),
		cmocka_unit_test(test_auto_senders),
		cmocka_unit_test(test_auto_subjects),
		cmocka_unit_test(test_auto_misc),
		cmocka_unit_test(test_bounce_cases),
		cmocka_unit_test(test_bounce_limits),
		cmocka_unit_test(test_bounce_hostile),
	};

	return cmocka_run_group_tests_name("reply", tests, NULL, NULL);
}
