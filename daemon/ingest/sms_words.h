/*
 * sms_words.h — what an inbound SMS says: its text cleaned, a command
 * (STOP, START, AIDE) or a vote. Pure functions; texts are untrusted bytes
 * from a gateway and may be anything, including not UTF-8.
 */
#ifndef PALIER_INGEST_SMS_WORDS_H
#define PALIER_INGEST_SMS_WORDS_H

enum sms_command {
	SMS_CMD_NONE,
	SMS_CMD_STOP,
	SMS_CMD_START,
	SMS_CMD_HELP,
};

/*
 * The text as it should be stored and read: bytes that are not UTF-8
 * dropped (so are lone surrogates written as ED A0..ED BF sequences, and
 * overlong forms); format characters (category Cf: U+00AD, U+200B..U+200F,
 * U+202A..U+202E, U+2060..U+2064, U+2066..U+2069, U+FEFF ...) dropped,
 * except a U+200D joiner between two pictographs, which keeps 👨‍👩‍👧 whole;
 * control characters dropped, the white-space ones (tab, LF, CR, ...) and
 * U+2028/U+2029 made spaces; NFC; every run of white space made one space
 * (line breaks too: an SMS is one paragraph), trimmed. Newly allocated;
 * the caller frees it.
 */
char *sms_normalize(const char *text);

/*
 * normalized (sms_normalize's output) folded for comparison: NFKC (so
 * fullwidth "１" is "1", "ﬁ" is "fi"), case-folded, accents stripped, and
 * every character that is not a letter or digit removed from both ends:
 * "Stop!" -> "stop", "ARRÊT." -> "arret", "#1" -> "1", "?" -> "". Inner
 * punctuation and spaces stay ("n°1" -> "n°1"). Newly allocated; the caller
 * frees it. Text that is not UTF-8 is normalized first.
 */
char *sms_fold(const char *normalized);

/*
 * The command that text is, if the whole message is one. The words of the
 * message are compared: text is normalized, folded, every run of other
 * characters made one space ("STOP-SMS", "stop.sms" -> "stop sms"), a word
 * repeated straight after itself dropped ("STOP STOP"), then greetings and
 * courtesy are peeled off — "bonjour" or "bonsoir" before, "merci",
 * "merci beaucoup", "svp", "stp", "s'il vous plaît", "s'il te plaît",
 * "cordialement" after — so that "Stop merci" or "Bonjour, STOP svp" stops.
 * What remains must then be exactly one of:
 *   SMS_CMD_STOP:  stop, stop sms, stopsms, stop all, stopall, arret,
 *                  arret sms, arreter, desabonner, se desabonner,
 *                  desabonnement, desinscrire, se desinscrire,
 *                  desinscription, unsubscribe, cancel, end, quit
 *                  (the last three and STOPALL are Twilio's own opt-out
 *                  words: Twilio blocks the number after them, so we must
 *                  record the stop too);
 *   SMS_CMD_START: start, unstop, reprendre (not "yes", Twilio's third
 *                  opt-in word: here it is an answer to a poll);
 *   SMS_CMD_HELP:  aide, help, info, infos, or a message of nothing but
 *                  punctuation holding a "?" ("?", "??", "？").
 * Case, accents, zero-width and format characters, and punctuation around
 * the words do not matter ("Arrêt !", "ST\u200bOP", "« STOP »"); any other
 * word does: "Stop aux incivilités dans le hall" is a post, SMS_CMD_NONE.
 */
enum sms_command sms_command(const char *text);
/* The same, for a text sms_normalize() made already. */
enum sms_command sms_command_normalized(const char *norm);

/*
 * Whether text is a vote for one of options[0..noptions-1] (labels as shown
 * to residents; NULL options are skipped). The words are found as for
 * sms_command, greetings and courtesy peeled off ("2 merci", "Non merci").
 * A vote is a sequence of:
 *   a number of one or two ASCII digits, alone or after "n", "no", "num"
 *   or "numero" ("1", " 1 ", "1.", "1!", "(1)", "#1", "n°1", "N° 1",
 *   "No 1", fullwidth "１"; not Arabic-Indic "١"): option number-1;
 *   an option's label, compared folded ("oui", "OUI !", "Samedi matin");
 *   the connectors "ou", "et", "or", "and".
 * When the options are exactly Oui and Non (folded, either order), "ouais",
 * "yes", "d'accord" also mean Oui and "no", "pas d'accord" Non. Failing
 * that, three or more letters that begin exactly one label vote for it
 * ("sam" for "Samedi"; "samedi" for both "Samedi matin" and "Samedi soir"
 * is ambiguous).
 * Returns 1 with *choice (0-based) set when the text names exactly one
 * option ("oui oui" too); -1 when it looks like a vote but does not name
 * exactly one — two options ("1 ou 2", "oui non"), a number that is no
 * option ("7" of 3, "0"), an ambiguous prefix — so the caller asks again;
 * 0 when it is not a vote at all (a post, "Merci", "", "2024").
 */
int sms_vote_choice(const char *text, const char *const *options, int noptions,
    int *choice);

#endif
