/*
 * net.h — listening sockets from config strings, and careful I/O.
 */
#ifndef PALIER_CORE_NET_H
#define PALIER_CORE_NET_H

#include <stddef.h>

/*
 * Listens on "host:port", "[v6]:port", "unix:/path" or "/path" (a stale
 * socket file is replaced; the socket is made mode 0666 so that the MTA can
 * reach it: restrict access by its directory). Returns the fd, or -1 with
 * *err (caller frees).
 */
int net_listen(const char *spec, int backlog, char **err);
/* Writes all n bytes, waiting up to timeout_ms for room each time; 0, or -1 with errno (ETIMEDOUT: no room in time). */
int net_write_all(int fd, const void *p, size_t n, int timeout_ms);
/* A printable name for the peer of fd ("127.0.0.1:4242", "unix"). Static per thread. */
const char *net_peer(int fd);

#endif
