-- Refresh-token grace that survives a restart. A rotated refresh token keeps, until its grace
-- ends, the random salt its successor pair was derived from: a retry presenting the rotated token
-- in clear re-derives the same pair (HMAC keyed with that token, which is stored only as a hash),
-- so no token is stored in clear. The sweep clears both columns when the grace is over.
ALTER TABLE oauth_tokens ADD COLUMN grace_salt BLOB
    CHECK (grace_salt IS NULL OR length(grace_salt) = 32);
ALTER TABLE oauth_tokens ADD COLUMN grace_until INTEGER;
