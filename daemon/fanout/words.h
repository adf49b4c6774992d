/*
 * words.h — the French words residents read in templates: dates, digest
 * frequencies, sections and topics, scopes.
 */
#ifndef PALIER_FANOUT_WORDS_H
#define PALIER_FANOUT_WORDS_H

#include <time.h>

#include "core/buf.h"
#include "core/config.h"

/* "jeudi 26 novembre à 10 h 05" (with_time) or "jeudi 26 novembre", Paris time. */
void words_date(struct buf *out, time_t t, int with_time);
/* How often a resident hears from us: "chaque jour, vers 18 h, en un seul courriel". */
void words_frequency(struct buf *out, const char *digest, const struct config *cfg);
/* The digest section of a channel kind: "Votre immeuble", "Votre quartier", "La mairie et vous". */
const char *words_section(const char *kind);
/* Who a bulletin goes to: "tous les habitants du quartier Centre-Ville". */
void words_scope(struct buf *out, const char *kind, const char *name);
/* A topic as a tab's title: "objets-trouves" -> "Objets trouvés". Static or borrowed. */
const char *words_topic(const char *topic);

#endif
