/*
 * gateway.h — SMS gateways over HTTP (Kannel's sendsms, Twilio's REST API).
 */
#ifndef PALIER_DELIVER_GATEWAY_H
#define PALIER_DELIVER_GATEWAY_H

#include "deliver/deliver.h"

/*
 * kind is "kannel" or "twilio". url: Kannel's sendsms URL
 * (http://127.0.0.1:13013/cgi-bin/sendsms) or Twilio's API base
 * (https://api.twilio.com/2010-04-01). user/password: Kannel's
 * sendsms-user, or Twilio's account SID and auth token. dlr_url: where
 * delivery reports come back (our /sms/dlr/<kind>), or NULL.
 */
struct deliver_backend *deliver_gateway_new(const char *kind, const char *url,
    const char *user, const char *password, const char *sender, const char *dlr_url,
    char **err);
/* The contract rate shared by every gateway worker of the process. */
void deliver_gateway_rate(double per_second);

#endif
