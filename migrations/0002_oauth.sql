-- OAuth 2.1 authorization server: clients, authorization codes, tokens.
-- Secrets are never stored in clear: client secrets, codes and tokens appear only as SHA-256 hashes.
-- Times are Unix seconds.

CREATE TABLE oauth_clients (
    client_id      TEXT    PRIMARY KEY NOT NULL,
    client_name    TEXT,
    redirect_uris  TEXT    NOT NULL,  -- JSON array of strings, exactly as registered
    grant_types    TEXT    NOT NULL,  -- space-separated
    auth_method    TEXT    NOT NULL
        CHECK (auth_method IN ('none', 'client_secret_post', 'client_secret_basic')),
    secret_hash    BLOB    CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER
) STRICT;

-- The sweep looks for registrations never used.
CREATE INDEX oauth_clients_unused ON oauth_clients (created_at) WHERE last_used_at IS NULL;

CREATE TABLE oauth_codes (
    code_hash       BLOB    PRIMARY KEY NOT NULL CHECK (length(code_hash) = 32),
    client_id       TEXT    NOT NULL,
    redirect_uri    TEXT,              -- as the authorization request carried it, if it did
    code_challenge  TEXT    NOT NULL,  -- S256 only
    scopes          TEXT    NOT NULL,  -- space-separated
    resource        TEXT    NOT NULL,
    family_id       TEXT    NOT NULL,  -- the token family its redemption issues
    expires_at      INTEGER NOT NULL,
    redeemed_at     INTEGER
) STRICT;

CREATE INDEX oauth_codes_expires_at ON oauth_codes (expires_at);

CREATE TABLE oauth_tokens (
    token_hash  BLOB    PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
    kind        TEXT    NOT NULL CHECK (kind IN ('access', 'refresh', 'rotated')),
    client_id   TEXT    NOT NULL,
    family_id   TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,      -- space-separated
    resource    TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX oauth_tokens_expires_at ON oauth_tokens (expires_at);
