-- 007_fanout_cursor: a post is fanned out in chunks of buildings, each
-- committed with the cursor it reached, so that delivery starts while a
-- 100,000-resident bulletin is still being fanned out, and a crash in the
-- middle resumes after the last commit: no recipient lost, none queued twice.

ALTER TABLE posts ADD COLUMN fanout_content_id bigint REFERENCES contents (id);
ALTER TABLE posts ADD COLUMN fanout_after bigint;  -- the last building (channel id) fanned out
