-- The owner's food diary and daily goals. Never swept: they are the owner's data.

-- One row per logged food. `food` is a snapshot of the food's data (the normalized Food as JSON)
-- when it was logged, and `nutrients` the scaled, unrounded amounts computed from it: history
-- never changes when the cache or the catalog does.
CREATE TABLE diary_entries (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT, -- logging order, never reused
    id                  TEXT    NOT NULL UNIQUE,           -- "entry:<16 hex digits>"
    date                TEXT    NOT NULL                   -- the owner's calendar day
        CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    time                TEXT    CHECK (time IS NULL OR time GLOB '[0-2][0-9]:[0-5][0-9]'),
    meal                TEXT    CHECK (meal IS NULL OR meal IN ('breakfast', 'lunch', 'dinner', 'snack')),
    note                TEXT,
    source              TEXT    NOT NULL,
    food_id             TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    brand               TEXT,
    amount              REAL    NOT NULL CHECK (amount > 0),
    unit                TEXT    NOT NULL,
    grams               REAL,
    serving_description TEXT    NOT NULL,
    nutrients           TEXT    NOT NULL, -- JSON: nutrient key → unrounded amount
    food                TEXT    NOT NULL, -- JSON: the Food snapshot
    logged_at           INTEGER NOT NULL, -- unix seconds
    updated_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX diary_entries_date ON diary_entries (date, seq);

-- Daily targets, one row per nutrient (public key, e.g. "protein_g"), in the nutrient's unit.
CREATE TABLE diary_goals (
    nutrient   TEXT    PRIMARY KEY NOT NULL,
    target     REAL    NOT NULL CHECK (target >= 0),
    updated_at INTEGER NOT NULL
) STRICT;
