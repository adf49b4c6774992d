-- 003_outgoing: what palier sends. A content is written once (a bulletin,
-- a post notification, a digest, an answer); the outgoing queue holds one
-- small row per recipient, claimed by delivery workers with
-- FOR UPDATE SKIP LOCKED under a lease, so that several palierd share it.

ALTER TABLE posts ADD COLUMN fanned_out_at timestamptz;
CREATE INDEX posts_to_fan_out ON posts (id) WHERE fanned_out_at IS NULL AND status = 'published';

ALTER TABLE residents ADD COLUMN last_digest_at timestamptz;

CREATE TABLE contents (
    id          bigserial PRIMARY KEY,
    purpose     text NOT NULL,          -- bulletin, post, digest, answer, moderation, refusal, poll-invite, poll-results
    post_id     bigint REFERENCES posts (id),
    channel_id  bigint REFERENCES channels (id),
    data        jsonb NOT NULL DEFAULT '{}',    -- what the templates need besides the resident
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outgoing (
    id          bigserial PRIMARY KEY,
    content_id  bigint NOT NULL REFERENCES contents (id),
    kind        text NOT NULL CHECK (kind IN ('email', 'sms')),
    resident_id bigint REFERENCES residents (id),
    recipient   text NOT NULL,          -- an address or an E.164 number
    state       text NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    urgent      boolean NOT NULL DEFAULT false, -- SMS: ignores quiet hours
    after_stop  boolean NOT NULL DEFAULT false, -- the confirmation of a STOP: the one message that may follow it
    segments    integer,                -- SMS parts, once rendered
    not_before  timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    gateway_id  text,                   -- the SMS gateway's id, for delivery reports
    report      text,                   -- the last delivery report: delivered, failed, buffered...
    reported_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outgoing_ready ON outgoing (kind, urgent DESC, id) WHERE state IN ('queued', 'sending');
CREATE INDEX outgoing_resident ON outgoing (resident_id);
CREATE INDEX outgoing_gateway ON outgoing (gateway_id) WHERE gateway_id IS NOT NULL;

-- Digest runs: one per frequency and period, whichever palierd gets there first.
CREATE TABLE digest_runs (
    id          bigserial PRIMARY KEY,
    frequency   text NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    period      text NOT NULL,          -- the day (daily) or the week (weekly) it covers
    since       timestamptz NOT NULL,
    until       timestamptz NOT NULL,
    contents    integer NOT NULL,
    messages    integer NOT NULL,
    run_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (frequency, period)
);
CREATE INDEX posts_decided ON posts (decided_at) WHERE status = 'published';
