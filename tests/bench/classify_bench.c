/*
 * classify_bench.c — how many posts per second one core classifies with the
 * default rules (filters/, or $PALIER_SRC/filters), over a corpus of
 * realistic 1.5 KB French posts built from a fixed seed. Prints one line
 * and exits 1 if the rate is under the target (10,000 posts/s per core).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify/classify.h"
#include "core/buf.h"

#define TARGET		10000.0
#define CORPUS		2000
#define POST_BYTES	1500
#define MIN_SECONDS	2.0

static const char *const openings[] = {
	"Bonjour à tous,", "Bonsoir chers voisins,", "Salut tout le monde !",
	"Madame, Monsieur,", "Coucou les voisins", "Bonjour,", "BONJOUR",
};

static const char *const sentences[] = {
	"Nous cherchons une nounou pour le mercredi après-midi, deux enfants de 5 et 7 ans.",
	"Quelqu'un pourrait-il arroser mes plantes pendant mon absence du 3 au 17 août ?",
	"Je vends une poussette en très bon état, 40 euros, à venir chercher au 2e étage.",
	"Il y a une fuite d'eau au 3e, l'eau coule dans l'escalier depuis ce matin.",
	"Notre chat a disparu depuis hier soir, il est tigré et répond au nom de Filou.",
	"J'ai trouvé des clés dans le hall, avec un porte-clés rouge, elles sont chez moi.",
	"La fête des voisins aura lieu vendredi dans la cour, chacun apporte un plat.",
	"L'ascenseur est encore en panne, pensez aux personnes âgées du 6e étage.",
	"La mairie organise une réunion publique sur le nouveau jardin partagé jeudi.",
	"Merci à la personne qui a rentré mes volets pendant l'orage de la nuit dernière.",
	"Les poubelles débordent dans le local depuis une semaine, le syndic est prévenu.",
	"Je propose des cours de maths pour les collégiens, le soir après 18 heures.",
	"Il faisait vraiment beau ce week-end, les enfants ont joué dans la cour.",
	"Le gardien sera absent lundi, les colis seront déposés à la loge mardi.",
	"On se retrouve samedi pour l'apéro sur la terrasse, vers 18h30, venez nombreux.",
	"Pensez à fermer la porte du hall derrière vous, elle claque avec le vent.",
	"Mon fils cherche un stage de troisième, si quelqu'un a une idée, merci d'avance.",
	"Est-ce que quelqu'un entend aussi un bourdonnement la nuit vers deux heures ?",
	"La collecte des encombrants passe le premier mardi du mois dans notre rue.",
	"Je donne des vêtements de bébé de 0 à 6 mois, tout est propre et repassé.",
	"Voici le lien du formulaire : https://www.ville.example/inscriptions/ete",
	"Le chauffage ne marche plus dans l'escalier B, les radiateurs sont froids.",
	"Félicitations à Mme Martin pour ses quatre-vingt-dix ans, quelle énergie !",
	"Qui aurait une perceuse à me prêter pour accrocher deux étagères dimanche ?",
};

static const char *const signatures[] = {
	"Cordialement,\nMme Da Silva, 1er gauche", "Merci !\nKarima (4e)",
	"Bonne journée,\nJean-Pierre, bâtiment B", "-- \nEnvoyé de mon téléphone",
	"Amitiés,\nles Nguyen du rez-de-chaussée",
};

static const char *const hnames[] = {
	"Received", "From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
	"Content-Type", "X-Spam-Status",
};

static const char *const hvalues[] = {
	"from mx.example by mx.residence.example; Tue, 4 Jun 2024 09:12:01 +0200",
	"Voisine <voisine@example.org>", "residence-les-tilleuls@residence.example",
	"Info", "Tue, 4 Jun 2024 09:12:00 +0200", "<abc123@example.org>", "1.0",
	"text/plain; charset=utf-8", "No, score=-0.1",
};

struct post {
	char	*subject;
	char	*body;
};

static unsigned long seed = 20240604;

static size_t
pick(size_t n)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (size_t)((seed >> 33) % n);
}

#define PICK(a)	((a)[pick(sizeof(a) / sizeof((a)[0]))])

static void
post_make(struct post *p)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s\n\n", PICK(openings));
	while (b.len < POST_BYTES - 120)
		buf_printf(&b, "%s ", PICK(sentences));
	buf_printf(&b, "\n\n%s", PICK(signatures));
	p->body = buf_take(&b);
	p->subject = strdup(PICK(sentences));
	p->subject[strcspn(p->subject, ",.?!")] = '\0';
}

/* CPU time of this thread: the rate per core holds on a busy machine too. */
static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Classifies the corpus until MIN_SECONDS have passed; returns posts/s. */
static double
bench(const struct rules *r, const struct post *corpus, size_t *bytes)
{
	struct classify_input in = { .header_names = hnames, .header_values = hvalues };
	double t0 = now(), t;
	size_t n = 0;

	*bytes = 0;
	do {
		for (size_t i = 0; i < CORPUS; i++, n++) {
			struct classify_result res;

			in.source = i % 4 == 3 ? CLASSIFY_SMS : CLASSIFY_EMAIL;
			in.nheaders = in.source == CLASSIFY_SMS ? 0 : sizeof(hnames) / sizeof(hnames[0]);
			in.subject = in.source == CLASSIFY_SMS ? "" : corpus[i].subject;
			in.body = corpus[i].body;
			*bytes += strlen(in.body);
			if (classify_run(r, &in, &res) != 0)
				exit(2);
			classify_result_free(&res);
		}
	} while ((t = now() - t0) < MIN_SECONDS);
	*bytes /= n;
	return (double)n / t;
}

int
main(void)
{
	const char *root = getenv("PALIER_SRC");
	struct post *corpus = calloc(CORPUS, sizeof(*corpus));
	char dir[4096], *err = NULL;
	const char *dirs[] = { dir, NULL };
	struct rules *r;
	size_t avg;
	double rate;

	snprintf(dir, sizeof(dir), "%s/filters", root && *root ? root : ".");
	if ((r = classify_rules_load(dirs, &err)) == NULL) {
		fprintf(stderr, "classify_bench: %s\n", err);
		return 2;
	}
	for (size_t i = 0; i < CORPUS; i++)
		post_make(&corpus[i]);
	rate = bench(r, corpus, &avg);
	printf("classify: %.0f posts/s per core (default rules, %zu rules, 1.5 KB posts, "
	    "avg %zu bytes); target >= %.0f: %s\n", rate, classify_rules_count(r), avg,
	    TARGET, rate >= TARGET ? "ok" : "MISSED");
	for (size_t i = 0; i < CORPUS; i++) {
		free(corpus[i].subject);
		free(corpus[i].body);
	}
	free(corpus);
	classify_rules_free(r);
	return rate >= TARGET ? 0 : 1;
}
