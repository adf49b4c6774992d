-- 006_intake_speed: the raw message kept for audit is compressed with lz4
-- rather than pglz: several times cheaper in CPU for every message the
-- intake stores (a 2 KB message is compressed on its way into the row, a
-- 10 MB one into TOAST), at about the same size. Rows already written keep
-- their compression; nothing is rewritten.
ALTER TABLE inbound ALTER COLUMN raw SET COMPRESSION lz4;
