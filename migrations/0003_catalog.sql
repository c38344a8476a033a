-- Offline USDA catalog, filled by `food-mcp import usda`. Each import replaces every row of these
-- tables inside one transaction, so readers see either the previous catalog or the new one.

CREATE TABLE catalog_food (
    fdc_id      INTEGER PRIMARY KEY,  -- FoodData Central id: the same id the USDA API uses
    data_type   TEXT NOT NULL,        -- "SR Legacy", "Foundation" or "Survey (FNDDS)"
    description TEXT NOT NULL,
    category    TEXT
);

CREATE TABLE catalog_nutrient (
    fdc_id   INTEGER NOT NULL REFERENCES catalog_food (fdc_id),
    nutrient TEXT NOT NULL,     -- NutrientKey::key(), e.g. "protein_g"
    amount   REAL NOT NULL,     -- per 100 g, in the nutrient's own unit
    rank     INTEGER NOT NULL,  -- preference of the USDA number it came from; lower wins (energy 208 < 958 < 957)
    PRIMARY KEY (fdc_id, nutrient)
) WITHOUT ROWID;

CREATE TABLE catalog_portion (
    id          INTEGER PRIMARY KEY,
    fdc_id      INTEGER NOT NULL REFERENCES catalog_food (fdc_id),
    seq         INTEGER,            -- USDA display order (food_portion.seq_num)
    amount      REAL NOT NULL,
    unit        TEXT NOT NULL,
    modifier    TEXT,
    description TEXT NOT NULL,
    grams       REAL NOT NULL
);
CREATE INDEX catalog_portion_by_food ON catalog_portion (fdc_id, seq);

-- Search recall only (ranking happens above): external content over catalog_food, rebuilt at the end of
-- every import. porter lets "bananas" match "banana"; remove_diacritics 2 lets "jalapeno" match "jalapeño".
CREATE VIRTUAL TABLE catalog_fts USING fts5 (
    description,
    category,
    content = 'catalog_food',
    content_rowid = 'fdc_id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
