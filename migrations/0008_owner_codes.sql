-- One-time consent codes: `food-mcp owner one-time-code` stores one; the consent page accepts it
-- once, before it expires, in place of the owner's password — also while password attempts are
-- locked out or backed off. Only the SHA-256 of a code is stored. Times are Unix seconds.
-- (Numbered 0008 to stay clear of the 0006/0007 other branches add; sqlx applies pending
-- migrations in version order, gaps allowed.)
CREATE TABLE owner_codes (
    code_hash   BLOB    PRIMARY KEY NOT NULL CHECK (length(code_hash) = 32),
    expires_at  INTEGER NOT NULL
) STRICT;
