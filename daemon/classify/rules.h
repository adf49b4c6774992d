/*
 * rules.h — private to classify/: the compiled rule set that parse.c and
 * rules.c build and run.c walks, and the text folding of fold.c.
 * Nothing outside daemon/classify/ includes this file; use classify.h.
 */
#ifndef PALIER_CLASSIFY_RULES_H
#define PALIER_CLASSIFY_RULES_H

#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "classify/classify.h"

struct buf;

/* Only the first CLASSIFY_FIELD_MAX bytes of a field are matched. */
#define CLASSIFY_FIELD_MAX	(64 * 1024)
/* Bounds on one pcre2_match call, and on every match of one post. */
#define CLASSIFY_MATCH_LIMIT	200000
#define CLASSIFY_DEPTH_LIMIT	5000
#define CLASSIFY_HEAP_LIMIT_KB	8192
#define CLASSIFY_JIT_STACK_MAX	(512 * 1024)
#define CLASSIFY_BUDGET_MS	40
/* caps needs this many letters before it measures anything. */
#define CLASSIFY_CAPS_MIN	20

enum cond_kind { COND_MATCH, COND_COUNT, COND_CAPS, COND_ROLE, COND_SOURCE };
enum cond_field { FIELD_NONE, FIELD_SUBJECT, FIELD_BODY, FIELD_TEXT, FIELD_HEADER };
enum act_kind { ACT_TOPIC, ACT_SCOPE, ACT_HOLD, ACT_REFUSE, ACT_TAG, ACT_STOP };

struct cond {
	enum cond_kind	 kind;
	int		 negate;
	enum cond_field	 field;
	char		*header;	/* FIELD_HEADER: the field name (owned) */
	int		 raw;		/* match the text as received, not folded */
	pcre2_code	*re;		/* COND_MATCH, COND_COUNT (owned) */
	unsigned	 mask;		/* COND_ROLE, COND_SOURCE: 1 << accepted value */
	long		 min;		/* COND_COUNT: matches; COND_CAPS: percent */
};

struct action {
	enum act_kind		 kind;
	char			*arg;	/* topic, tag or reason (owned) */
	enum classify_scope	 scope;
	int			 line;
};

struct rule {
	size_t		 file;		/* index into rules.files */
	int		 line;
	char		*name;		/* owned */
	struct cond	*conds;
	size_t		 nconds;
	struct action	*acts;
	size_t		 nacts;
};

struct rule_file {
	char	*path;		/* as the caller's directory made it (owned) */
	char	*base;		/* its last component (owned) */
};

struct rules {
	struct rule		*v;
	size_t			 n;
	struct rule_file	*files;
	size_t			 nfiles;
	char			**topics;	/* declared topic names (owned) */
	size_t			 ntopics;
};

/* The state of parse.c while it reads one file into set. */
struct parse {
	struct rules	*set;
	size_t		 file;		/* index into set->files */
	int		 line;
	int		 in_rule;	/* the set's last rule is the one being read */
	char		*err;		/* the first error, "path:line: reason" (owned) */
};

/* Reads one line (without its newline) into ps->set; -1 with ps->err set. */
int classify_parse_line(struct parse *ps, const char *line);
/* Ends the file ps is reading: checks its last rule. 0 or -1 with ps->err. */
int classify_parse_end(struct parse *ps);
void classify_rule_clear(struct rule *r);

/* Appends the accent-free, case-folded copy of s[0..n) to out (at most
 * about CLASSIFY_FIELD_MAX bytes of it). */
void classify_fold(struct buf *out, const char *s, size_t n);
/* n cut to CLASSIFY_FIELD_MAX, back to the start of a UTF-8 character. */
size_t classify_cap(const char *s, size_t n);
/* Counts upper-case and lower-case letters of s[0..n) into *upper, *lower. */
void classify_count_case(const char *s, size_t n, size_t *upper, size_t *lower);

#endif
