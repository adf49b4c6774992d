/*
 * net.c — listening sockets (TCP or Unix) and blocking writes with a
 * deadline. Owns no connection: callers close what they get.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/net.h"

static int
listen_unix(const char *path, int backlog, char **err)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		*err = xasprintf("%s: socket path too long", path);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		*err = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, backlog) < 0) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
listen_tcp(const char *spec, int backlog, char **err)
{
	struct addrinfo hints, *res = NULL;
	const char *colon = strrchr(spec, ':');
	char *host = xstrndup(spec, (size_t)(colon - spec));
	int fd = -1, one = 1, rc;
	size_t hl = strlen(host);

	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res)) != 0) {
		*err = xasprintf("%s: %s", spec, gai_strerror(rc));
		free(host);
		return -1;
	}
	free(host);
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
		*err = xasprintf("%s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
net_listen(const char *spec, int backlog, char **err)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return listen_unix(spec + 5, backlog, err);
	if (spec[0] == '/')
		return listen_unix(spec, backlog, err);
	if (strrchr(spec, ':') == NULL) {
		*err = xasprintf("%s: not host:port or a socket path", spec);
		return -1;
	}
	return listen_tcp(spec, backlog, err);
}

int
net_write_all(int fd, const void *p, size_t n, int timeout_ms)
{
	const char *c = p;

	/* Sent at once when the socket has room (a reply nearly always does); waited for otherwise. */
	while (n > 0) {
		struct pollfd pfd = { fd, POLLOUT, 0 };
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			switch (poll(&pfd, 1, timeout_ms)) {
			case 0:
				errno = ETIMEDOUT;
				return -1;
			case -1:
				if (errno != EINTR)
					return -1;
			}
			continue;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

const char *
net_peer(int fd)
{
	static _Thread_local char name[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0 || ss.ss_family == AF_UNIX)
		return "unix";
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(name, sizeof(name), "%s:%d", host, ntohs(in->sin_port));
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(name, sizeof(name), "[%s]:%d", host, ntohs(in6->sin6_port));
	}
	return name;
}
