/*
 * sms-sink.c — the ceiling for tests/bench/sms.sh: an HTTP receiver that
 * does nothing but answer 200, built like palierd's http role (libmicrohttpd,
 * four threads serving their connections with epoll, its own listening
 * socket with a backlog of 1024).
 *
 *   sms-sink PORT
 *
 * Counts what it receives: GET /stats answers
 * "inbound=N last=EPOCH dlr=M dlr_last=EPOCH" (N requests under
 * /sms/kannel, M the other requests: delivery reports; each EPOCH the
 * wall-clock time of the last of them). Every other request gets 200 with
 * an empty body. Runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

static atomic_long inbound, dlr;
static atomic_llong last_ns, dlr_last_ns;

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	static int first;
	struct MHD_Response *r;
	enum MHD_Result rc;
	char body[128] = "";

	(void)cls; (void)method; (void)version; (void)upload;
	if (*con_cls == NULL) {		/* headers only */
		*con_cls = &first;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/stats") == 0) {
		long long ns = atomic_load(&last_ns), dns = atomic_load(&dlr_last_ns);

		snprintf(body, sizeof(body), "inbound=%ld last=%lld.%09lld dlr=%ld dlr_last=%lld.%09lld\n",
		    atomic_load(&inbound), ns / 1000000000LL, ns % 1000000000LL, atomic_load(&dlr),
		    dns / 1000000000LL, dns % 1000000000LL);
	} else if (strncmp(url, "/sms/kannel", 11) == 0) {
		atomic_store(&last_ns, now_ns());
		atomic_fetch_add(&inbound, 1);
	} else {
		atomic_store(&dlr_last_ns, now_ns());
		atomic_fetch_add(&dlr, 1);
	}
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	sigset_t set;
	int fd, one = 1, sig;

	if (argc != 2) {
		fprintf(stderr, "usage: sms-sink PORT\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0) {
		perror("sms-sink: listen");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* inherited by MHD's threads */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "sms-sink: cannot start libmicrohttpd\n");
		return 1;
	}
	printf("sms-sink: listening on 127.0.0.1:%s\n", argv[1]);
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	close(fd);
	return 0;
}
