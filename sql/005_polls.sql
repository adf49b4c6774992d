-- 005_polls: consultative polls. The electorate is fixed when a poll opens;
-- the database holds one ballot per resident and poll (the last valid vote)
-- and keeps every vote that arrived, counted or not, for the record.

CREATE TABLE polls (
    id              bigserial PRIMARY KEY,
    channel_id      bigint NOT NULL REFERENCES channels (id),
    question        text NOT NULL CHECK (question <> '' AND length(question) <= 300),
    options         text[] NOT NULL CHECK (array_length(options, 1) BETWEEN 2 AND 9),
    sender          text NOT NULL,          -- who asks, as residents read it
    code            text CHECK (code ~ '^[A-Z]$'), -- A..Z while open: tells two open polls apart in an SMS
    -- A publisher's poll by email is a draft until they answer OK, then
    -- confirmed until the fan-out opens it; palierctl opens at once.
    state           text NOT NULL DEFAULT 'open'
                    CHECK (state IN ('draft', 'confirmed', 'open', 'closed', 'cancelled')),
    created_by      text NOT NULL,          -- palierctl, or the publisher's address
    publisher_id    bigint REFERENCES publishers (id),
    opened_at       timestamptz NOT NULL DEFAULT now(),
    closes_at       timestamptz NOT NULL,
    closed_at       timestamptz,
    CHECK (state NOT IN ('open', 'closed') OR code IS NOT NULL)
);
CREATE INDEX polls_confirmed ON polls (id) WHERE state = 'confirmed';
CREATE INDEX polls_open ON polls (closes_at) WHERE state = 'open';

-- Who may vote: the residents in scope with a usable address or phone when
-- the poll opened. A ballot needs an elector. Written 100,000 rows at a
-- time from residents and channels themselves: no foreign key to them (a
-- check per row would double the time of opening a town-wide poll).
CREATE TABLE electorate (
    poll_id         bigint NOT NULL REFERENCES polls (id),
    resident_id     bigint NOT NULL,        -- residents (id)
    building_id     bigint NOT NULL,        -- channels (id): the tally by building
    PRIMARY KEY (poll_id, resident_id)
);
CREATE INDEX electorate_resident ON electorate (resident_id);

-- Every vote received, in the order it came: counted, or why not.
CREATE TABLE votes (
    id              bigserial PRIMARY KEY,
    poll_id         bigint NOT NULL REFERENCES polls (id),
    resident_id     bigint NOT NULL REFERENCES residents (id),
    inbound_id      bigint NOT NULL UNIQUE REFERENCES inbound (id),
    choice          smallint CHECK (choice BETWEEN 1 AND 9),
    source          text NOT NULL CHECK (source IN ('email', 'sms')),
    outcome         text NOT NULL CHECK (outcome IN ('counted', 'unclear', 'late', 'held')),
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX votes_voter ON votes (poll_id, resident_id);

-- The ballot that counts: one per resident and poll, the last counted vote.
CREATE TABLE ballots (
    poll_id         bigint NOT NULL,
    resident_id     bigint NOT NULL,
    choice          smallint NOT NULL CHECK (choice BETWEEN 1 AND 9),
    source          text NOT NULL CHECK (source IN ('email', 'sms')),
    vote_id         bigint NOT NULL REFERENCES votes (id),
    changes         integer NOT NULL DEFAULT 0,
    cast_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (poll_id, resident_id),
    FOREIGN KEY (poll_id, resident_id) REFERENCES electorate (poll_id, resident_id)
);

ALTER TABLE contents ADD COLUMN poll_id bigint REFERENCES polls (id);
