/*
 * rules.c — loads a rule set: gathers the *.rules files of each directory
 * (a later directory's file replaces an earlier one of the same name),
 * reads them in name order through parse.c and checks every topic used is
 * declared. Owns the set it returns; a failed load leaves nothing behind.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "classify/rules.h"

static int
is_rules_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 6 && strcmp(name + n - 6, ".rules") == 0;
}

/* Adds dir/name to set->files, or replaces the path of a file of that name. */
static void
file_add(struct rules *set, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	char *path = xasprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);

	for (size_t i = 0; i < set->nfiles; i++) {
		if (strcmp(set->files[i].base, name) == 0) {
			free(set->files[i].path);
			set->files[i].path = path;
			return;
		}
	}
	set->files = xreallocarray(set->files, set->nfiles + 1, sizeof(*set->files));
	set->files[set->nfiles++] = (struct rule_file){ path, xstrdup(name) };
}

static int
dir_scan(struct rules *set, const char *dir, char **err)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		*err = xasprintf("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (is_rules_name(de->d_name))
			file_add(set, dir, de->d_name);
	closedir(d);
	return 0;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rule_file *)a)->base,
	    ((const struct rule_file *)b)->base);
}

/* Strips the line ending; a file saved on Windows reads the same. */
static void
chomp(char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
}

static int
file_read(struct parse *ps, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		ps->line++;
		chomp(line);
		rc = classify_parse_line(ps, line);
	}
	free(line);
	return rc;
}

static int
file_load(struct rules *set, size_t idx, char **err)
{
	struct parse ps = { .set = set, .file = idx };
	const char *path = set->files[idx].path;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (file_read(&ps, f) == 0 && ferror(f))
		ps.err = xasprintf("%s: %s", path, strerror(errno));
	fclose(f);
	if (ps.err == NULL)
		classify_parse_end(&ps);
	*err = ps.err;
	return ps.err ? -1 : 0;
}

static int
topic_known(const struct rules *set, const char *topic)
{
	for (size_t i = 0; i < set->ntopics; i++)
		if (strcmp(set->topics[i], topic) == 0)
			return 1;
	return 0;
}

/* Every "topic X" needs a "declare topic X" somewhere in the set. */
static int
topics_check(const struct rules *set, char **err)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct rule *r = &set->v[i];

		for (size_t j = 0; j < r->nacts; j++) {
			if (r->acts[j].kind != ACT_TOPIC || topic_known(set, r->acts[j].arg))
				continue;
			*err = xasprintf("%s:%d: unknown topic '%s' (add 'declare topic %s')",
			    set->files[r->file].path, r->acts[j].line, r->acts[j].arg,
			    r->acts[j].arg);
			return -1;
		}
	}
	return 0;
}

struct rules *
classify_rules_load(const char *const *dirs, char **err)
{
	struct rules *set = xcalloc(1, sizeof(*set));

	*err = NULL;
	for (size_t i = 0; dirs != NULL && dirs[i] != NULL; i++)
		if (dirs[i][0] != '\0' && dir_scan(set, dirs[i], err) < 0)
			goto fail;
	if (set->nfiles > 1)
		qsort(set->files, set->nfiles, sizeof(*set->files), file_cmp);
	for (size_t i = 0; i < set->nfiles; i++)
		if (file_load(set, i, err) < 0)
			goto fail;
	if (topics_check(set, err) < 0)
		goto fail;
	return set;
fail:
	classify_rules_free(set);
	return NULL;
}

void
classify_rules_free(struct rules *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		classify_rule_clear(&set->v[i]);
	for (size_t i = 0; i < set->nfiles; i++) {
		free(set->files[i].path);
		free(set->files[i].base);
	}
	for (size_t i = 0; i < set->ntopics; i++)
		free(set->topics[i]);
	free(set->v);
	free(set->files);
	free(set->topics);
	free(set);
}

size_t
classify_rules_count(const struct rules *set)
{
	return set ? set->n : 0;
}
