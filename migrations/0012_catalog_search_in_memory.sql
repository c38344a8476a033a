-- The catalog's search index is built in memory with each snapshot of its foods
-- (storage::catalog_index): the FTS5 table and the spelling pass's word tables are no longer read,
-- so imports stop rebuilding them.
DROP TABLE catalog_fts;
DROP TABLE catalog_word_typo;
DROP TABLE catalog_word;
