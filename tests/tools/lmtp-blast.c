/*
 * lmtp-blast.c — an LMTP client for tests and benchmarks: N messages of
 * about SIZE bytes over S concurrent sessions, each with a unique
 * Message-ID; a message that gets a 4xx or a broken connection is sent
 * again (as an MTA would) until it gets 250 or the deadline passes. Writes
 * the Message-IDs that got 250 to a file, one per line.
 *   lmtp-blast -p PORT [-H HOST] -n N -s S -z SIZE -t RCPT -f FROM [-o ACKS] [-x PREFIX] [-d SECONDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host = "127.0.0.1", *rcpt, *from, *acks_path, *prefix = "blast";
static int port, nmsg = 1000, nsess = 20, size = 2048, deadline_s = 120;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *acks;
static long acked, retries;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct conn {
	int	fd;
	char	buf[8192];
	size_t	len;
};

static int
conn_open(struct conn *c)
{
	struct sockaddr_in sa;
	int one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	c->len = 0;
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* The next reply line's code (the last line of a multi-line reply); -1 on EOF. */
static int
reply_code(struct conn *c)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t n;

		if (nl) {
			int code = atoi(c->buf), more = c->len > 3 && c->buf[3] == '-';
			size_t used = (size_t)(nl - c->buf) + 1;

			memmove(c->buf, c->buf + used, c->len - used);
			c->len -= used;
			if (!more)
				return code;
			continue;
		}
		if (c->len == sizeof(c->buf))
			c->len = 0;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static char *
message(int i, size_t *len)
{
	static const char words[] = "Bonjour a tous, la reunion du conseil syndical aura lieu "
	    "jeudi a 18 h dans la salle commune. Merci de venir nombreux. ";
	size_t cap = (size_t)size + 1024, n;
	char *m = malloc(cap);

	n = (size_t)snprintf(m, cap, "From: <%s>\r\nTo: <%s>\r\nSubject: Message %d\r\n"
	    "Message-ID: <%s-%d@blast.example>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0100\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
	    from, rcpt, i, prefix, i);
	while (n < (size_t)size) {
		size_t w = sizeof(words) - 1;

		memcpy(m + n, words, w);
		n += w;
		memcpy(m + n, "\r\n", 2);
		n += 2;
	}
	memcpy(m + n, ".\r\n", 3);
	*len = n + 3;
	return m;
}

/* One message over c; 0 on 250, 1 to retry, -1 when the connection broke. */
static int
one(struct conn *c, int i)
{
	char head[512];
	size_t len;
	char *m = message(i, &len);
	int n = snprintf(head, sizeof(head), "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", from, rcpt);
	int a, b, d, e = -1;

	if (send_all(c->fd, head, (size_t)n) < 0) {
		free(m);
		return -1;
	}
	a = reply_code(c);
	b = reply_code(c);
	d = reply_code(c);
	if (d == 354) {
		if (send_all(c->fd, m, len) == 0)
			e = reply_code(c);
	} else if (a > 0 && send_all(c->fd, "RSET\r\n", 6) == 0) {
		reply_code(c);
	}
	free(m);
	if (a < 0 || b < 0 || d < 0 || (d == 354 && e < 0))
		return -1;
	return e == 250 ? 0 : 1;
}

static void *
worker(void *arg)
{
	long k = (long)arg;
	struct conn c = { -1, { 0 }, 0 };
	double end = now() + deadline_s;

	for (int i = (int)k; i < nmsg && now() < end;) {
		int r;

		if (c.fd < 0) {
			if (conn_open(&c) < 0 || reply_code(&c) != 220 ||
			    send_all(c.fd, "LHLO blast\r\n", 12) < 0 || reply_code(&c) != 250) {
				if (c.fd >= 0)
					close(c.fd);
				c.fd = -1;
				usleep(100000);
				continue;
			}
		}
		if ((r = one(&c, i)) == 0) {
			pthread_mutex_lock(&mu);
			acked++;
			if (acks)
				fprintf(acks, "%s-%d@blast.example\n", prefix, i);
			pthread_mutex_unlock(&mu);
			i += nsess;
			continue;
		}
		pthread_mutex_lock(&mu);
		retries++;
		pthread_mutex_unlock(&mu);
		if (r < 0) {
			close(c.fd);
			c.fd = -1;
		}
		usleep(50000);
	}
	if (c.fd >= 0) {
		send_all(c.fd, "QUIT\r\n", 6);
		close(c.fd);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t *t;
	double t0, dt;
	int opt;

	while ((opt = getopt(argc, argv, "H:p:n:s:z:t:f:o:x:d:")) != -1) {
		switch (opt) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'n': nmsg = atoi(optarg); break;
		case 's': nsess = atoi(optarg); break;
		case 'z': size = atoi(optarg); break;
		case 't': rcpt = optarg; break;
		case 'f': from = optarg; break;
		case 'o': acks_path = optarg; break;
		case 'x': prefix = optarg; break;
		case 'd': deadline_s = atoi(optarg); break;
		default: fprintf(stderr, "usage: see the comment at the top of lmtp-blast.c\n"); return 2;
		}
	}
	if (!port || !rcpt || !from || nsess < 1) {
		fprintf(stderr, "lmtp-blast: -p, -t and -f are required\n");
		return 2;
	}
	if (acks_path && (acks = fopen(acks_path, "w")) == NULL) {
		perror(acks_path);
		return 2;
	}
	t = calloc((size_t)nsess, sizeof(*t));
	t0 = now();
	for (long k = 0; k < nsess; k++)
		pthread_create(&t[k], NULL, worker, (void *)k);
	for (int k = 0; k < nsess; k++)
		pthread_join(t[k], NULL);
	dt = now() - t0;
	if (acks)
		fclose(acks);
	printf("lmtp-blast: %ld of %d messages acknowledged in %.2f s: %.0f msg/s (%ld retries)\n",
	    acked, nmsg, dt, (double)acked / dt, retries);
	free(t);
	return acked == nmsg ? 0 : 1;
}
