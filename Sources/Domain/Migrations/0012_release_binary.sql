-- A promotion names the build production's workers move to (`redial release promote --binary`);
-- `redial up` moves them one at a time when it sees it.
ALTER TABLE releases ADD COLUMN build_path text;
