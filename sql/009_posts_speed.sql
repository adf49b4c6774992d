-- 009_posts_speed: a post is written without per-row foreign-key checks,
-- and its body is compressed with lz4 like the raw message (006).
-- Every message the intake stores writes an inbound row and a post in one
-- statement; the five checks on the post (its inbound row, channel,
-- resident, publisher, thread) cost PostgreSQL as much as writing both
-- rows. Posts are only made by palier's own statements, from ids read in
-- the directory or written in the same statement (the inbound row), and
-- palier deletes no inbound row, channel, resident, publisher or post.
-- pglz showed in the intake's profile compressing 2 KB bodies; lz4 does it
-- for a fraction of the CPU. Rows already written are not rewritten.

ALTER TABLE posts DROP CONSTRAINT posts_inbound_id_fkey;
ALTER TABLE posts DROP CONSTRAINT posts_channel_id_fkey;
ALTER TABLE posts DROP CONSTRAINT posts_resident_id_fkey;
ALTER TABLE posts DROP CONSTRAINT posts_publisher_id_fkey;
ALTER TABLE posts DROP CONSTRAINT posts_thread_id_fkey;
ALTER TABLE posts ALTER COLUMN body SET COMPRESSION lz4;
