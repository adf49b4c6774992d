/*
 * table.c — aligned text tables for listings. Control characters in cells
 * are shown as '?': a resident's name never moves the operator's cursor.
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "core/alloc.h"
#include "ctl/table.h"

struct table {
	int	 ncols;
	char	**cells;	/* rows * ncols, row 0 the headings */
	size_t	 nrows, cap;
};

struct table *
table_new(int ncols, const char *const *headings)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	table_row(t, headings);
	return t;
}

static char *
cell_clean(const char *s)
{
	char *c = xstrdup(s ? s : "-");

	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

void
table_row(struct table *t, const char *const *cells)
{
	if ((t->nrows + 1) * (size_t)t->ncols > t->cap) {
		t->cap = t->cap ? t->cap * 2 : (size_t)t->ncols * 16;
		t->cells = xreallocarray(t->cells, t->cap, sizeof(*t->cells));
	}
	for (int i = 0; i < t->ncols; i++)
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = cell_clean(cells[i]);
	t->nrows++;
}

static size_t
width(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t w = 0;

	while (*p) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p, -1, &cp);

		if (k <= 0) {
			k = 1;
			cp = '?';
		}
		w += (size_t)(utf8proc_charwidth(cp) > 0 ? utf8proc_charwidth(cp) : 0);
		p += k;
	}
	return w;
}

void
table_print(const struct table *t, FILE *fp)
{
	size_t *w = xcalloc((size_t)t->ncols, sizeof(*w));

	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			size_t cw = width(t->cells[r * (size_t)t->ncols + (size_t)c]);

			if (cw > w[c])
				w[c] = cw;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * (size_t)t->ncols + (size_t)c];

			fputs(cell, fp);
			if (c + 1 < t->ncols)
				fprintf(fp, "%*s", (int)(w[c] - width(cell) + 2), "");
		}
		fputc('\n', fp);
	}
	free(w);
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
