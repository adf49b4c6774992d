-- 002_intake: what arrives. Every inbound message is kept, raw, once per
-- recipient address (the dedup key); posts are what residents and
-- publishers see; attachments are recorded, never stored as files.

CREATE TABLE inbound (
    id              bigserial PRIMARY KEY,
    source          text NOT NULL CHECK (source IN ('email', 'sms')),
    via             text NOT NULL,          -- lmtp, imap, kannel, twilio
    dedup_key       text NOT NULL UNIQUE,   -- Message-ID (or content hash) and recipient; gateway message id
    received_at     timestamptz NOT NULL DEFAULT now(),
    envelope_from   text,
    recipient       text,                   -- the address or number it was sent to
    sender          text,                   -- From addr-spec, or E.164 number
    subject         text,
    raw             bytea,                  -- the message as received, for audit
    disposition     text NOT NULL CHECK (disposition IN
                    ('post', 'bulletin', 'reply', 'vote', 'bounce', 'command', 'automatic', 'ignored')),
    note            text                    -- why, for the operator
);
CREATE INDEX inbound_received ON inbound (received_at);

CREATE TABLE posts (
    id              bigserial PRIMARY KEY,
    inbound_id      bigint REFERENCES inbound (id),
    channel_id      bigint NOT NULL REFERENCES channels (id),
    kind            text NOT NULL CHECK (kind IN ('post', 'bulletin', 'reply')),
    status          text NOT NULL CHECK (status IN ('published', 'held', 'refused')),
    reason          text,                   -- why held or refused
    topic           text,
    tags            text[] NOT NULL DEFAULT '{}',
    source          text NOT NULL CHECK (source IN ('email', 'sms')),
    resident_id     bigint REFERENCES residents (id),
    publisher_id    bigint REFERENCES publishers (id),
    author          text NOT NULL,          -- what readers see: a name
    sender          text NOT NULL,          -- the address or number it came from
    subject         text NOT NULL DEFAULT '',
    body            text NOT NULL,
    thread_id       bigint REFERENCES posts (id),   -- the thread's first post; NULL for a first post
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz
);
CREATE INDEX posts_channel ON posts (channel_id, created_at);
CREATE INDEX posts_thread ON posts (thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX posts_held ON posts (created_at) WHERE status = 'held';

CREATE TABLE attachments (
    id              bigserial PRIMARY KEY,
    inbound_id      bigint NOT NULL REFERENCES inbound (id) ON DELETE CASCADE,
    filename        text,
    content_type    text NOT NULL,
    size            bigint NOT NULL
);
CREATE INDEX attachments_inbound ON attachments (inbound_id);

-- Bounces, matched to the outgoing message their bounce+ token names.
CREATE TABLE bounces (
    id              bigserial PRIMARY KEY,
    inbound_id      bigint REFERENCES inbound (id),
    outgoing_id     bigint,                 -- the message that bounced (from the token)
    resident_id     bigint REFERENCES residents (id),
    address         text,
    permanent       boolean NOT NULL,
    status          text,                   -- 5.1.1
    diagnostic      text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bounces_resident ON bounces (resident_id);

-- The automatic answers palier gives, so that a sender gets at most one a day.
CREATE TABLE auto_answers (
    sender          text NOT NULL,          -- lower-cased address or E.164 number
    kind            text NOT NULL,          -- command, refusal...
    answered_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sender, kind)
);
