-- 004_moderation: who moderates which channel (and everything below it),
-- senders a moderator chose to trust, and what was told to whom.

CREATE TABLE moderators (
    id          bigserial PRIMARY KEY,
    channel_id  bigint NOT NULL REFERENCES channels (id),
    email       text NOT NULL CHECK (position('@' IN email) > 1),
    name        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX moderators_identity ON moderators (channel_id, lower(email));

-- A sender approved "with trust": their next posts to the channel are not
-- held for being strangers (the filter rules still apply).
CREATE TABLE trusted_senders (
    channel_id  bigint NOT NULL REFERENCES channels (id),
    sender      text NOT NULL,          -- lower-cased address or E.164 number
    trusted_by  text NOT NULL,          -- the moderator, or palierctl
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, sender)
);

ALTER TABLE posts ADD COLUMN author_verified boolean NOT NULL DEFAULT true;
ALTER TABLE posts ADD COLUMN moderation_notified_at timestamptz;
ALTER TABLE posts ADD COLUMN decided_by text;
CREATE INDEX posts_to_notify ON posts (id) WHERE status = 'held' AND moderation_notified_at IS NULL;

ALTER TABLE outgoing ADD COLUMN moderator_id bigint REFERENCES moderators (id);
