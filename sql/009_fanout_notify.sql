-- 009_fanout_notify: a post that becomes published (a bulletin from
-- palierctl or by email, a post, a held post approved) wakes the fan-out at
-- once, wherever it runs, instead of at its next look (every half second).
-- NOTIFY is delivered at commit, and once per transaction however many
-- posts it published.

CREATE FUNCTION palier_fanout_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('palier_fanout', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER posts_published AFTER INSERT ON posts
    FOR EACH ROW WHEN (NEW.status = 'published') EXECUTE FUNCTION palier_fanout_notify();
CREATE TRIGGER posts_approved AFTER UPDATE OF status ON posts
    FOR EACH ROW WHEN (NEW.status = 'published' AND OLD.status <> 'published')
    EXECUTE FUNCTION palier_fanout_notify();
