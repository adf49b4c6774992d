-- 001_base: the directory. Channels form a tree (city > district > building,
-- or city > building); residents live in a building; publishers may send
-- bulletins to a channel and everything below it.

CREATE TABLE channels (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('city', 'district', 'building')),
    slug        text NOT NULL UNIQUE
                CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    name        text NOT NULL CHECK (name <> ''),
    parent_id   bigint REFERENCES channels (id),
    address     text,                       -- a building's postal address
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'city') = (parent_id IS NULL))
);
CREATE INDEX channels_parent ON channels (parent_id);

CREATE TABLE residents (
    id                  bigserial PRIMARY KEY,
    building_id         bigint NOT NULL REFERENCES channels (id),
    unit                text NOT NULL DEFAULT '',
    name                text NOT NULL CHECK (name <> ''),
    email               text CHECK (email IS NULL OR position('@' IN email) > 1),
    phone               text CHECK (phone IS NULL OR phone ~ '^\+[1-9][0-9]{6,14}$'),
    digest              text NOT NULL DEFAULT 'daily'
                        CHECK (digest IN ('immediate', 'daily', 'weekly', 'none')),
    digest_by_resident  boolean NOT NULL DEFAULT false, -- set by the resident: a roster never overrides it
    sms                 boolean NOT NULL DEFAULT false, -- wants SMS (the roster says so)
    consent_at          timestamptz NOT NULL DEFAULT now(), -- first listed with these contact points
    sms_consent_at      timestamptz,
    sms_stopped_at      timestamptz,    -- STOP by SMS; no SMS goes out while set
    email_stopped_at    timestamptz,    -- STOP by email; no email goes out while set
    email_suspended_at  timestamptz,    -- too many bounces
    bounce_score        integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (email IS NOT NULL OR phone IS NOT NULL)
);
-- A resident is the same person across imports: same building, unit and name.
CREATE UNIQUE INDEX residents_identity ON residents (building_id, lower(unit), lower(name));
CREATE INDEX residents_email ON residents (lower(email));
CREATE INDEX residents_phone ON residents (phone);

CREATE TABLE publishers (
    id          bigserial PRIMARY KEY,
    channel_id  bigint NOT NULL REFERENCES channels (id),
    email       text NOT NULL CHECK (position('@' IN email) > 1),
    name        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX publishers_identity ON publishers (channel_id, lower(email));
CREATE INDEX publishers_email ON publishers (lower(email));
