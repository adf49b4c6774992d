/*
 * words.c — French words for dates, frequencies, sections, scopes and
 * topics. Pure; what residents read, so written for them.
 */
#include <string.h>
#include <strings.h>

#include "core/calendar.h"
#include "fanout/words.h"

static const char *const days[] = {
	"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"
};
static const char *const months[] = {
	"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
	"septembre", "octobre", "novembre", "décembre"
};

void
words_date(struct buf *out, time_t t, int with_time)
{
	struct tm tm;

	paris_time(t, &tm, NULL);
	buf_printf(out, "%s %d%s %s", days[tm.tm_wday], tm.tm_mday, tm.tm_mday == 1 ? "er" : "",
	    months[tm.tm_mon]);
	if (with_time) {
		if (tm.tm_min)
			buf_printf(out, " à %d h %02d", tm.tm_hour, tm.tm_min);
		else
			buf_printf(out, " à %d h", tm.tm_hour);
	}
}

void
words_frequency(struct buf *out, const char *digest, const struct config *cfg)
{
	int h = cfg->digest_daily_at / 60, m = cfg->digest_daily_at % 60;

	if (digest == NULL || strcmp(digest, "daily") == 0) {
		buf_printf(out, "chaque jour, vers %d h", h);
		if (m)
			buf_printf(out, " %02d", m);
		buf_puts(out, ", en un seul courriel");
	} else if (strcmp(digest, "weekly") == 0) {
		buf_printf(out, "une fois par semaine, le %s, en un seul courriel",
		    days[cfg->digest_weekly_on]);
	} else if (strcmp(digest, "immediate") == 0) {
		buf_puts(out, "dès qu'un message arrive, un courriel par message");
	} else {
		buf_puts(out, "seulement pour les messages de la mairie et du bailleur");
	}
}

const char *
words_section(const char *kind)
{
	if (kind && strcmp(kind, "building") == 0)
		return "Votre immeuble";
	if (kind && strcmp(kind, "district") == 0)
		return "Votre quartier";
	return "La mairie et vous";
}

void
words_scope(struct buf *out, const char *kind, const char *name)
{
	if (kind && strcmp(kind, "district") == 0 && strncasecmp(name, "quartier ", 9) == 0)
		buf_printf(out, "tous les habitants du quartier %s", name + 9);
	else if (kind && strcmp(kind, "district") == 0)
		buf_printf(out, "tous les habitants du quartier %s", name);
	else if (kind && strcmp(kind, "city") == 0)
		buf_printf(out, "tous les habitants de %s", name);
	else
		buf_printf(out, "tous les habitants de l'immeuble %s", name);
}

const char *
words_topic(const char *topic)
{
	static const struct { const char *id, *title; } titles[] = {
		{ "enfants", "Enfants" }, { "vacances", "Vacances" }, { "annonces", "Annonces" },
		{ "travaux", "Travaux" }, { "objets-trouves", "Objets trouvés" },
		{ "evenements", "Événements" },
	};

	/* "mairie" posts sit under "La mairie et vous" already: no second heading. */
	if (topic == NULL || *topic == '\0' || strcmp(topic, "mairie") == 0)
		return NULL;
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (strcmp(topic, titles[i].id) == 0)
			return titles[i].title;
	return topic;
}
