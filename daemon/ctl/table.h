/*
 * table.h — aligned text tables for palierctl listings, measured in
 * display columns (accents and wide characters count right).
 */
#ifndef PALIER_CTL_TABLE_H
#define PALIER_CTL_TABLE_H

#include <stdio.h>

struct table;

/* ncols columns with these headings (borrowed, static). */
struct table *table_new(int ncols, const char *const *headings);
/* Adds one row; cells are copied, NULL prints as "-". */
void table_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *fp);
void table_free(struct table *t);

#endif
