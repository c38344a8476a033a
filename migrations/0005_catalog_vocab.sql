-- The search index's terms (porter-stemmed), for the typo pass: a query word that matches nothing is
-- compared with the terms that share its first letter.
CREATE VIRTUAL TABLE catalog_vocab USING fts5vocab (catalog_fts, row);
