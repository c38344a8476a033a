-- The catalog's words for the search's spelling pass, rebuilt at the end of every import. A query word no
-- food has is looked up by its typo keys (search::typo_keys: the word, and the word less one letter), and
-- joined or split words ("icecream", "straw berries") by the words themselves — indexed look-ups, never a
-- scan of the catalog.
CREATE TABLE catalog_word (
    word  TEXT PRIMARY KEY,    -- a description word as search::index_words gives it (folded, unstemmed)
    stem  TEXT NOT NULL,
    foods INTEGER NOT NULL     -- how many descriptions have it: of two near spellings the commoner wins
) WITHOUT ROWID;
CREATE INDEX catalog_word_by_stem ON catalog_word (stem);

CREATE TABLE catalog_word_typo (
    key  TEXT NOT NULL,        -- one of search::typo_keys of the word or of its stem
    word TEXT NOT NULL,
    PRIMARY KEY (key, word)
) WITHOUT ROWID;

-- The fts5vocab table the previous spelling pass read (by first letter) is replaced by the two above.
DROP TABLE catalog_vocab;
