-- Every catalog ever made active, with its full TOML text (issue 11 §3): the
-- newest row is the live catalog, `tollgate catalog export` writes its text, and
-- the admin panel's edits start from it. Append-only, like the audit log.
CREATE TABLE catalog_versions (
    version     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text NOT NULL,
    text        text NOT NULL,
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    -- What changed, in words (an admin edit), or empty for a file load.
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
