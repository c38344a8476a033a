-- The single owner's consent password, as an argon2 PHC string. At most one row.
CREATE TABLE owner (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    password_hash TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
