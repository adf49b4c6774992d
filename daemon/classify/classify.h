/*
 * classify.h — the filter rules every post goes through, whatever way it
 * came: they set its topic, may move it to the district or city channel,
 * hold it with a reason, refuse it with a reason, or tag it.
 * Rules are read from *.rules files (see filters/README.md).
 */
#ifndef PALIER_CLASSIFY_CLASSIFY_H
#define PALIER_CLASSIFY_CLASSIFY_H

#include <stddef.h>

enum classify_role { CLASSIFY_RESIDENT, CLASSIFY_PUBLISHER, CLASSIFY_UNKNOWN };
enum classify_source { CLASSIFY_EMAIL, CLASSIFY_SMS };
enum classify_decision { CLASSIFY_PUBLISH, CLASSIFY_HOLD, CLASSIFY_REFUSE };
enum classify_scope { CLASSIFY_SAME, CLASSIFY_DISTRICT, CLASSIFY_CITY };

struct classify_input {
	enum classify_source	 source;
	enum classify_role	 role;
	const char		*subject;	/* UTF-8; "" for an SMS */
	const char		*body;		/* UTF-8, the trimmed text */
	const char *const	*header_names;	/* email header fields, nheaders of them */
	const char *const	*header_values;
	size_t			 nheaders;
};

struct classify_match {
	char	*file;		/* the rule's file name (basename) */
	int	 line;		/* the line its rule starts on */
	char	*name;		/* the rule's name */
};

struct classify_result {
	char			*topic;		/* NULL: no topic rule matched */
	enum classify_decision	 decision;
	char			*reason;	/* for hold and refuse */
	enum classify_scope	 scope;
	char			**tags;
	size_t			 ntags;
	struct classify_match	*matches;	/* the rules that matched and acted, in order (see filters/README.md) */
	size_t			 nmatches;
	int			 limited;	/* a match hit its time or depth limit (logged) */
};

struct rules;

/*
 * Reads every *.rules file of each directory, in name order (dirs is a
 * NULL-terminated list; a NULL or "" entry is skipped), compiles every
 * pattern with JIT. On error returns NULL and *err = "file:line: reason"
 * (caller frees).
 */
struct rules *classify_rules_load(const char *const *dirs, char **err);
void classify_rules_free(struct rules *r);
/* How many rules are loaded. */
size_t classify_rules_count(const struct rules *r);

/*
 * Runs every rule over in; fills out (zeroed first). Thread-safe: several
 * threads may classify with one rule set at once. Returns 0, -1 on an
 * internal error (out->decision is then CLASSIFY_HOLD with a reason).
 */
int classify_run(const struct rules *r, const struct classify_input *in,
    struct classify_result *out);
void classify_result_free(struct classify_result *res);

#endif
