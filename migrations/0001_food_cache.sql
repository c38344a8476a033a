-- Upstream answers cached by FoodCache: foods ("usda:173944", "openfoodfacts:3017620422003")
-- and searches ("search:usda:<sha256 of the normalized query>"). Payloads are JSON.
CREATE TABLE food_cache (
    key        TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('food', 'search')),
    payload    TEXT NOT NULL,
    fetched_at INTEGER NOT NULL, -- unix seconds
    expires_at INTEGER NOT NULL  -- unix seconds; after this the entry is stale
);
CREATE INDEX food_cache_expires_at ON food_cache (expires_at);

-- Foods the owner saved with save_food. Never swept: they are the owner's data.
CREATE TABLE custom_foods (
    id         TEXT PRIMARY KEY NOT NULL, -- "custom:<hash of lower(name), lower(brand)>"
    name       TEXT NOT NULL,
    brand      TEXT,
    payload    TEXT NOT NULL,             -- the normalized Food as JSON
    saved_at   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL           -- saved_at + custom TTL: after it answers say "stale"
);
