/*
 * sms-gateway.c — a diagnostic for tests/bench/sms.sh: palier's own Kannel
 * backend (daemon/deliver/gateway.c, linked as is) driven without the
 * database, to tell the HTTP side of `palierd --role deliver` from the rest.
 *
 *   sms-gateway URL USER PASSWORD SENDER DLR_URL TEXT N THREADS BATCH
 *
 * THREADS threads (send.c runs 2 for SMS), each with its own backend as a
 * delivery worker has, send N messages in all, BATCH per call of the
 * backend's send() (send.c claims 200). Prints one line:
 *   gateway: N sent (OK ok) in S s = R/s, batch calls: n, p50 X ms, max Y ms
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deliver/deliver.h"
#include "deliver/gateway.h"

static const char *url, *user, *password, *sender, *dlr, *text;
static long total, per_thread, batch;
static double *lat;		/* every send() call's duration, ms */
static long nlat, okn;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
worker(void *arg)
{
	long first = (long)arg, ok = 0;
	char *err = NULL;
	struct deliver_backend *b = deliver_gateway_new("kannel", url, user, password, sender, dlr, &err);
	struct outmsg *m = calloc((size_t)batch, sizeof(*m));
	char (*to)[24] = calloc((size_t)batch, sizeof(*to));

	if (b == NULL || m == NULL || to == NULL) {
		fprintf(stderr, "sms-gateway: %s\n", err ? err : "out of memory");
		exit(1);
	}
	for (long done = 0; done < per_thread; ) {
		long n = per_thread - done < batch ? per_thread - done : batch;
		double t0;

		for (long i = 0; i < n; i++) {
			long id = first + done + i;

			snprintf(to[i], sizeof(to[i]), "+3326191%04ld", id % 10000);
			memset(&m[i], 0, sizeof(m[i]));
			m[i].id = id;
			m[i].recipient = to[i];
			m[i].data = text;
			m[i].len = strlen(text);
		}
		t0 = now_s();
		b->send(b, m, (size_t)n);
		pthread_mutex_lock(&mu);
		lat[nlat++] = (now_s() - t0) * 1000;
		pthread_mutex_unlock(&mu);
		for (long i = 0; i < n; i++)
			ok += m[i].result == DELIVER_OK;
		done += n;
	}
	pthread_mutex_lock(&mu);
	okn += ok;
	pthread_mutex_unlock(&mu);
	b->free(b);
	free(m);
	free(to);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	pthread_t th[64];
	long threads;
	double t0, el;

	if (argc != 10) {
		fprintf(stderr, "usage: sms-gateway URL USER PASSWORD SENDER DLR_URL TEXT N THREADS BATCH\n");
		return 2;
	}
	url = argv[1], user = argv[2], password = argv[3], sender = argv[4], dlr = argv[5], text = argv[6];
	total = atol(argv[7]), threads = atol(argv[8]), batch = atol(argv[9]);
	if (total < 1 || threads < 1 || threads > 64 || batch < 1) {
		fprintf(stderr, "sms-gateway: N >= 1, 1 <= THREADS <= 64, BATCH >= 1\n");
		return 2;
	}
	per_thread = total / threads;
	lat = calloc((size_t)(total / batch + threads + 1), sizeof(*lat));
	deliver_gateway_rate(100000);
	t0 = now_s();
	for (long i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, (void *)(i * per_thread));
	for (long i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	el = now_s() - t0;
	qsort(lat, (size_t)nlat, sizeof(*lat), cmp);
	printf("gateway: %ld sent (%ld ok) in %.3f s = %.0f/s, %ld threads x %ld per send(): %ld calls, p50 %.0f ms, max %.0f ms\n",
	    per_thread * threads, okn, el, (double)okn / el, threads, batch, nlat,
	    lat[nlat / 2], lat[nlat - 1]);
	return 0;
}
