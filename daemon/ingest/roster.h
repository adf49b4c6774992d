/*
 * roster.h — reading a resident roster (CSV) into a struct roster.
 */
#ifndef PALIER_INGEST_ROSTER_H
#define PALIER_INGEST_ROSTER_H

#include <stddef.h>

#include "core/buf.h"
#include "store/store.h"

/*
 * Parses a whole roster file: RFC 4180 CSV (libcsv), ',' ';' or tab
 * separated (guessed from the header), UTF-8 with or without BOM, or
 * Windows-1252 (then *cp1252 is set). Every problem is appended to errors
 * as "line N: reason\n". Returns the number of problems; out holds the
 * rows only when that is 0 (the caller frees it with roster_free either way).
 */
int ingest_roster_parse(const char *data, size_t len, struct roster *out,
    struct buf *errors, int *cp1252);

#endif
