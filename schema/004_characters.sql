-- vidbatch ledger, schema version 4.
-- Characters (cameos) of manifests' `characters` sections: created once per
-- provider and name (POST /videos/characters), their id kept here so that no
-- run creates one twice. state: pending (not sent), creating (a create request
-- may be on its way: committed before it leaves), created (remote_id known),
-- ambiguous (a create request lost its answer; `vidbatch resolve` decides).
CREATE TABLE characters (
  id          INTEGER PRIMARY KEY,
  provider    TEXT    NOT NULL,           -- the config provider's name
  name        TEXT    NOT NULL,
  video_path  TEXT    NOT NULL,           -- the local video it is made from
  state       TEXT    NOT NULL,
  remote_id   TEXT    NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (provider, name)
);
