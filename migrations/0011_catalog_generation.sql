-- The catalog's generation: every committed import adds one, in the import's own transaction. A
-- running server keeps the catalog's foods in memory (storage::catalog_foods) and compares this one
-- number now and then to see that an import — its own, or `food-mcp import usda` in another
-- process — replaced the catalog, without reading the catalog itself.
CREATE TABLE catalog_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO catalog_generation (id, generation) VALUES (1, 0);
