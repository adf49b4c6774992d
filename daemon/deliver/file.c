/*
 * file.c — the embedded default: each message written to its own file in a
 * directory (var/mail/NNN.eml, var/sms/NNN.sms), atomically (temporary name,
 * fsync, rename), so that a reader never sees half a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "core/log.h"
#include "deliver/deliver.h"

struct file_backend {
	struct deliver_backend	 b;
	char			*dir;
	char			*ext;
};

static int
write_one(const struct file_backend *f, struct outmsg *m)
{
	char *tmp = xasprintf("%s/.tmp-%ld-%d", f->dir, m->id, (int)getpid());
	char *dst = xasprintf("%s/%08ld.%s", f->dir, m->id, f->ext);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640), rc = -1;

	if (fd >= 0 && write(fd, m->data, m->len) == (ssize_t)m->len && fsync(fd) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		rc = rename(tmp, dst);
	}
	if (rc < 0)
		snprintf(m->error, sizeof(m->error), "%s: %s", dst, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	free(dst);
	return rc;
}

static int
file_send(struct deliver_backend *b, struct outmsg *msgs, size_t n)
{
	struct file_backend *f = (struct file_backend *)b;

	for (size_t i = 0; i < n; i++) {
		if (deliver_msg_load(&msgs[i]) < 0)
			continue;
		msgs[i].result = write_one(f, &msgs[i]) == 0 ? DELIVER_OK : DELIVER_TEMP;
		deliver_msg_unload(&msgs[i]);
	}
	return 0;
}

static void
file_free(struct deliver_backend *b)
{
	struct file_backend *f = (struct file_backend *)b;

	free(f->dir);
	free(f->ext);
	free(f);
}

struct deliver_backend *
deliver_file_new(const char *dir, const char *ext, char **err)
{
	struct file_backend *f;

	if (fs_mkdir_p(dir, 0750) < 0) {
		*err = xasprintf("%s: %s", dir, strerror(errno));
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->b.name = "file";
	f->b.lazy = 1;
	f->b.send = file_send;
	f->b.free = file_free;
	f->dir = xstrdup(dir);
	f->ext = xstrdup(ext);
	return &f->b;
}

int
deliver_msg_load(struct outmsg *m)
{
	if (m->load == NULL || m->data != NULL)
		return 0;
	return m->load(m);
}

void
deliver_msg_unload(struct outmsg *m)
{
	if (m->load && m->unload)
		m->unload(m);
}

void
deliver_backend_free(struct deliver_backend *b)
{
	if (b)
		b->free(b);
}

struct deliver_backend *
deliver_email_new(const char *relay, char **err)
{
	if (strncmp(relay, "file:", 5) == 0)
		return deliver_file_new(relay + 5, "eml", err);
	return deliver_smtp_new(relay, NULL, err);
}
