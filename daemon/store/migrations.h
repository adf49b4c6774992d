/*
 * migrations.h — the schema migrations compiled into the programs
 * (generated from sql/NNN_*.sql by scripts/embed-sql.sh).
 */
#ifndef PALIER_STORE_MIGRATIONS_H
#define PALIER_STORE_MIGRATIONS_H

struct migration {
	int		 version;
	const char	*name;		/* file name without .sql */
	const char	*sql;
};

/* In version order, ended by an entry whose name is NULL. */
extern const struct migration store_migrations[];

#endif
