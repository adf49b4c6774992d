/*
 * test_vote.c — unit tests for ingest/vote.c: which poll an SMS or an
 * email reply answers, with which option, and when it is unclear, late or
 * no vote at all (then an SMS is a post).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ingest/poll_draft.h"
#include "ingest/vote.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static struct vote_poll
poll(long id, char code, int open, const char *o1, const char *o2, const char *o3)
{
	struct vote_poll p;

	memset(&p, 0, sizeof(p));
	p.id = id;
	p.resident_id = 7;
	p.code = code;
	p.open = open;
	p.options[p.noptions++] = (char *)(uintptr_t)o1;
	p.options[p.noptions++] = (char *)(uintptr_t)o2;
	if (o3)
		p.options[p.noptions++] = (char *)(uintptr_t)o3;
	return p;
}

struct sms_case {
	const char	*text;
	enum vote_kind	 kind;
	long		 poll;
	int		 choice;
};

static void
check_sms(const struct vote_poll *polls, size_t n, const struct sms_case *c, size_t nc, int several)
{
	for (size_t i = 0; i < nc; i++) {
		struct vote_decision d;

		vote_decide_sms(c[i].text, polls, n, &d);
		if (d.kind != c[i].kind || (c[i].kind != VOTE_NONE && (d.poll != c[i].poll ||
		    d.choice != c[i].choice || d.resident != 7)))
			fail_msg("\"%s\": kind %d poll %ld choice %d, wanted kind %d poll %ld choice %d",
			    c[i].text, d.kind, d.poll, d.choice, c[i].kind, c[i].poll, c[i].choice);
		assert_int_equal(d.several, several);
	}
}

static void
test_one_open_poll(void **state)
{
	struct vote_poll p[] = { poll(3, 'A', 1, "Oui", "Non", "Sans avis") };
	static const struct sms_case c[] = {
		{ "1", VOTE_COUNT, 3, 1 }, { " 2 ", VOTE_COUNT, 3, 2 }, { "3.", VOTE_COUNT, 3, 3 },
		{ "OUI", VOTE_COUNT, 3, 1 }, { "non merci", VOTE_COUNT, 3, 2 },
		{ "Bonjour, oui", VOTE_COUNT, 3, 1 }, { "sans avis", VOTE_COUNT, 3, 3 },
		{ "A2", VOTE_COUNT, 3, 2 }, { "a 1", VOTE_COUNT, 3, 1 }, { "A: non", VOTE_COUNT, 3, 2 },
		{ "1 ou 2", VOTE_UNCLEAR, 3, 0 }, { "7", VOTE_UNCLEAR, 3, 0 }, { "oui non", VOTE_UNCLEAR, 3, 0 },
		{ "Fuite d'eau au 3e", VOTE_NONE, 0, 0 }, { "Merci", VOTE_NONE, 0, 0 }, { "", VOTE_NONE, 0, 0 },
		{ "A 1 heure il y a une fuite", VOTE_NONE, 0, 0 }, { "2024", VOTE_NONE, 0, 0 },
	};

	(void)state;
	check_sms(p, NITEMS(p), c, NITEMS(c), 0);
}

static void
test_two_open_polls(void **state)
{
	struct vote_poll p[] = {
		poll(5, 'B', 1, "Samedi", "Dimanche", NULL),
		poll(3, 'A', 1, "Oui", "Non", "Sans avis"),
	};
	static const struct sms_case c[] = {
		{ "1", VOTE_UNCLEAR, 5, 0 },		/* both polls have a 1 */
		{ "dimanche", VOTE_COUNT, 5, 2 },	/* only one has Dimanche */
		{ "oui", VOTE_COUNT, 3, 1 },
		{ "B1", VOTE_COUNT, 5, 1 }, { "b 2", VOTE_COUNT, 5, 2 }, { "A3", VOTE_COUNT, 3, 3 },
		{ "B3", VOTE_UNCLEAR, 5, 0 },		/* B has two options */
		{ "C1", VOTE_NONE, 0, 0 },		/* no poll C, and no answer */
		{ "Fête samedi soir chez moi", VOTE_NONE, 0, 0 },
	};

	(void)state;
	check_sms(p, NITEMS(p), c, NITEMS(c), 1);
}

static void
test_closed_polls(void **state)
{
	struct vote_poll closed[] = { poll(3, 'A', 0, "Oui", "Non", NULL) };
	struct vote_poll mixed[] = {
		poll(5, 'A', 1, "Samedi", "Dimanche", NULL),	/* A was reused by a newer poll */
		poll(3, 'A', 0, "Oui", "Non", NULL),
	};
	static const struct sms_case late[] = {
		{ "1", VOTE_LATE, 3, 0 }, { "oui", VOTE_LATE, 3, 0 }, { "A2", VOTE_LATE, 3, 0 },
		{ "Bonjour à tous", VOTE_NONE, 0, 0 },
	};
	static const struct sms_case reused[] = {
		{ "A1", VOTE_COUNT, 5, 1 }, { "1", VOTE_COUNT, 5, 1 },
		{ "oui", VOTE_NONE, 0, 0 },	/* an open poll takes precedence: no late answer */
	};

	(void)state;
	check_sms(closed, NITEMS(closed), late, NITEMS(late), 0);
	check_sms(mixed, NITEMS(mixed), reused, NITEMS(reused), 0);
	check_sms(NULL, 0, (const struct sms_case[]){ { "1", VOTE_NONE, 0, 0 } }, 1, 0);
}

static void
test_email(void **state)
{
	struct vote_poll open[] = { poll(3, 'A', 1, "Oui", "Non", "Sans avis") };
	struct vote_poll closed[] = { poll(3, 'A', 0, "Oui", "Non", NULL) };
	static const struct {
		const char	*body, *subject;
		enum vote_kind	 kind;
		int		 choice;
	} c[] = {
		{ "2\n", "Re: Votre avis : Faut-il ?", VOTE_COUNT, 2 },
		{ "\n\n  Oui\n\nJeanne\n", "Re: x", VOTE_COUNT, 1 },
		{ "Je suis pour.\nOui", "RE : Votre avis", VOTE_COUNT, 1 },	/* the whole of it */
		{ "", "1", VOTE_COUNT, 1 },		/* the mailto: link fills the subject */
		{ "", "Re: Fwd: 3", VOTE_COUNT, 3 },
		{ "A2", "Re: x", VOTE_COUNT, 2 },
		{ "Je ne sais pas", "Re: x", VOTE_UNCLEAR, 0 },
		{ "1 ou 2", "Re: x", VOTE_UNCLEAR, 0 },
	};
	struct vote_decision d;

	(void)state;
	for (size_t i = 0; i < NITEMS(c); i++) {
		vote_decide_email(c[i].body, c[i].subject, open, 1, &d);
		if (d.kind != c[i].kind || d.choice != c[i].choice || d.poll != 3)
			fail_msg("\"%s\" / \"%s\": kind %d choice %d", c[i].body, c[i].subject, d.kind, d.choice);
	}
	vote_decide_email("1", "Re: x", closed, 1, &d);
	assert_int_equal(d.kind, VOTE_LATE);
	vote_decide_email("1", "Re: x", NULL, 0, &d);
	assert_int_equal(d.kind, VOTE_NONE);
	vote_decide_email(NULL, NULL, open, 1, &d);
	assert_int_equal(d.kind, VOTE_UNCLEAR);
}

static void
test_drafts(void **state)
{
	static const struct {
		const char	*subject, *body;
		int		 is_poll, noptions;
		const char	*closes, *problem_has;
	} c[] = {
		{ "Sondage : Faut-il un composteur ?", "Bonjour,\n\n1. Oui\n2) Non\n3 - Sans avis\n\n", 1, 3, NULL, NULL },
		{ "SONDAGE: Q ?", "1.Oui\n2.Non\nFin : 15/12/2026 18h30\n", 1, 2, "2026-12-15 18:30", NULL },
		{ "sondage : Q ?", "1. Oui\n2. Non\nClôture : 1/2/2027\n", 1, 2, "2027-02-01 18:00", NULL },
		{ "Sondage : Q ?", "1. Oui\n2. Non\nJusqu'au 3/4/2027 à 9 h\n", 1, 2, "2027-04-03 09:00", NULL },
		{ "Sondage : Q ?", "1. Oui\n2. Non\n> 3. Cité\n", 1, 2, NULL, NULL },
		{ "Sondage : Q ?", "1. Oui\n", 1, 1, NULL, "deux choix" },
		{ "Sondage : Q ?", "1. Oui\n3. Non\n", 1, 1, NULL, "dans l'ordre" },
		{ "Sondage : Q ?", "1. Oui\n2. oui\n", 1, 2, NULL, "identiques" },
		{ "Sondage : Q ?", "1. Oui\n2. Non\nFin : 45/13/2026\n", 1, 2, NULL, "date de fin" },
		{ "Sondage :", "1. Oui\n2. Non\n", 1, 2, NULL, "question" },
		{ "Sondage : Q ?", "1. Oui\n2. Non\nFin : 31/02/2027\n", 1, 2, NULL, "date de fin" },
		{ "Sondage : Q ?", "1. Oui\n2. Non\nFin : 29/02/2027\n", 1, 2, NULL, "date de fin" },
		{ "Sondage : Q ?", "1. Oui\n2. Non\nFin : 29/02/2028 25h\n", 1, 2, NULL, "date de fin" },
		{ "Re: Sondage : Q ?", "1. Oui\n2. Non\n", 0, 0, NULL, NULL },
		{ "Sondages du quartier : résultats", "1. Oui\n2. Non\n", 0, 0, NULL, NULL },
		{ "Fête des voisins", "1. Oui\n2. Non\n", 0, 0, NULL, NULL },
		{ NULL, NULL, 0, 0, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < NITEMS(c); i++) {
		struct poll_draft d;
		int is = poll_draft_parse(c[i].subject, c[i].body, &d);

		if (is != c[i].is_poll || d.noptions != c[i].noptions ||
		    (c[i].closes == NULL) != (d.closes == NULL) ||
		    (c[i].closes && strcmp(c[i].closes, d.closes) != 0) ||
		    (c[i].problem_has == NULL) != (d.problem == NULL) ||
		    (c[i].problem_has && strstr(d.problem, c[i].problem_has) == NULL))
			fail_msg("\"%s\": poll %d, %d options, closes %s, problem %s", c[i].subject ? c[i].subject : "(null)",
			    is, d.noptions, d.closes ? d.closes : "-", d.problem ? d.problem : "-");
		poll_draft_free(&d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_open_poll),
		cmocka_unit_test(test_two_open_polls),
		cmocka_unit_test(test_closed_polls),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_drafts),
	};

	return cmocka_run_group_tests_name("vote", tests, NULL, NULL);
}
