-- Embeddable widgets (issue 13, "Embeddable in the customer's product").

-- The widgets' colors and font, from the catalog's [catalog.theme].
ALTER TABLE catalog_info ADD COLUMN theme jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(theme) = 'object');

-- The key embed tokens are signed with (HMAC-SHA256): made once by the first
-- server that needs it, shared by every process through the database.
CREATE TABLE embed_signing_keys (
    id          smallint PRIMARY KEY CHECK (id = 1),
    secret      bytea NOT NULL CHECK (length(secret) = 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);
