/*
 * cmd_digest.c — palierctl digest run [--now]: builds the digests that are
 * due, or every frequency's now. The deliver role sends them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "fanout/fanout.h"

int
cmd_digest(struct ctl *c, int argc, char **argv)
{
	static const char *const freqs[] = { "daily", "weekly" };
	int now = ctl_take_flag(&argc, argv, "--now"), rc, any = 0;
	time_t t = time(NULL);

	if (argc != 1 || strcmp(argv[0], "run") != 0)
		return ctl_fail(c, "usage: digest run [--now]");
	if ((rc = ctl_connect(c, 0)) != EXIT_OK)
		return rc;
	for (int i = 0; i < 2; i++) {
		char period[40];
		struct digest_stats st;

		if (now)
			snprintf(period, sizeof(period), "now-%lld", (long long)t);
		else if (fanout_digest_due(c->cfg, t, freqs[i], period, sizeof(period)) == NULL)
			continue;
		any = 1;
		if (store_digest_run(c->store, freqs[i], period, now, &st) < 0)
			return ctl_store_fail(c);
		if (st.already)
			printf("%s digest for %s: built already\n", freqs[i], period);
		else
			printf("%s digest for %s: %ld building%s, %ld message%s queued\n", freqs[i],
			    period, st.contents, st.contents == 1 ? "" : "s", st.messages,
			    st.messages == 1 ? "" : "s");
	}
	if (!any)
		printf("no digest is due now (daily at %02lld:%02lld; --now builds them anyway)\n",
		    (long long)c->cfg->digest_daily_at / 60, (long long)c->cfg->digest_daily_at % 60);
	return EXIT_OK;
}
