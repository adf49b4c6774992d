/*
 * config.h — the loaded configuration, one field per key of config.def.
 * A struct config is built whole by config_load or not at all; the caller
 * owns it and frees it with config_free.
 */
#ifndef PALIER_CORE_CONFIG_H
#define PALIER_CORE_CONFIG_H

#include <stddef.h>

struct cfg_span {
	int	none;		/* 1: no quiet hours */
	int	start;		/* minutes after midnight */
	int	end;
};

#define CFG_T_STR	char *
#define CFG_T_INT	long long
#define CFG_T_SIZE	long long
#define CFG_T_HHMM	int		/* minutes after midnight */
#define CFG_T_WEEKDAY	int		/* 0 = sunday */
#define CFG_T_SPAN	struct cfg_span

struct config {
	char	*path;		/* file read, or "(embedded defaults)" */
#define CFG(sec, key, type, def, min, max, check) CFG_T_##type sec##_##key;
#include "core/config.def"
#undef CFG
};

#define CONFIG_DEFAULT_PATH "/etc/palier/palier.conf"

/*
 * Loads path, or the embedded defaults when path is NULL. On error returns
 * NULL and sets *err to "file:line: reason" (the caller frees it).
 */
struct config *config_load(const char *path, char **err);
/*
 * The file palier reads when not told: -c, else $PALIER_CONF, else the
 * default path if it exists, else NULL (embedded defaults). Borrowed.
 */
const char *config_choose(const char *opt_path);
void config_free(struct config *cfg);
/*
 * A data directory named by the config (filters, templates): as written,
 * unless it is the default relative name and no such directory is here,
 * then the installed one (PREFIX/share/palier/NAME). Newly allocated.
 */
char *config_data_dir(const char *dir, const char *name);
/* Writes every key with its value, as an ini file, to a newly allocated string. */
char *config_dump(const struct config *cfg);

#endif
