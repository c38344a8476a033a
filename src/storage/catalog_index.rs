//! The catalog's search index in memory, built with each snapshot of its foods: the recall FTS5 gave
//! (porter prefix terms, bm25 order with description hits weighted 4 to 1 over category) and the word
//! table of the spelling pass, so a catalog search runs no SQL and no scan of the catalog.
//!
//! Why in memory: a search ran up to ten FTS5 queries, each `ORDER BY bm25` over every match of its
//! words (thousands of rows for "whole" or "raw"), plus the word-table and summary queries, each a
//! hop to sqlx's worker thread. The index is immutable like the snapshot that owns it, and swapped
//! with it when an import commits.
//!
//! Order is kept exactly: each pass scores its matches with FTS5's own bm25 formula (same IDF floor,
//! same arithmetic in the same order, k1 = 1.2, b = 0.75, weights 4.0 and 1.0) and breaks ties by
//! FDC id, as SQLite's sorter did over FTS5's rowid-ordered matches.

use std::cmp::{Ordering, Reverse};
use std::collections::{HashMap, HashSet};

use crate::food::search;
use crate::storage::porter;

/// At most this many readings of one query are looked for (its own, a respelled one, aliases).
const MAX_READINGS: usize = 5;
/// bm25's column weights: a description hit counts four times a category hit.
const DESCRIPTION_WEIGHT: f64 = 4.0;
const CATEGORY_WEIGHT: f64 = 1.0;
/// FTS5's bm25 constants.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// One food's hits of one term.
#[derive(Clone, Copy, Debug)]
struct Posting {
    /// The food's place in the snapshot (FDC id order).
    food: u32,
    description: u16,
    category: u16,
}

/// A description word of the spelling pass, as `search::index_words` gives it.
#[derive(Debug)]
struct Word {
    text: Box<str>,
    stem: Box<str>,
    /// How many descriptions have it: of two near spellings the commoner wins.
    foods: u32,
}

/// Posting lists by term, and the word table with its stem and typo-key look-ups; every list sorted,
/// so a prefix or a key is a binary search.
#[derive(Debug, Default)]
pub(super) struct CatalogIndex {
    /// FTS terms (porter stems), sorted; `starts[i]..starts[i + 1]` are term i's postings.
    terms: Vec<Box<str>>,
    starts: Vec<u32>,
    postings: Vec<Posting>,
    /// Terms per food, description and category together (bm25's document length).
    lengths: Vec<u32>,
    average_length: f64,
    /// Sorted by text.
    words: Vec<Word>,
    /// (stem, word) sorted.
    stems: Vec<(Box<str>, u32)>,
    /// (typo key, word) sorted: `search::typo_keys` of each word and of its stem.
    typos: Vec<(Box<str>, u32)>,
}

/// One reading of the query for the index: each required slot with its alternatives (a respelled
/// word may have several), and the cooking words any of which a first pass asks for.
#[derive(Clone, Debug, PartialEq)]
struct Reading {
    required: Vec<Vec<String>>,
    cooking: Vec<String>,
}

/// One phrase of a pass (a prefix term): its foods in order with their weighted hit counts, and
/// its IDF over the whole catalog.
struct Phrase {
    hits: Vec<(u32, f64)>,
    idf: f64,
}

impl Phrase {
    fn frequency(&self, food: u32) -> f64 {
        match self.hits.binary_search_by_key(&food, |(f, _)| *f) {
            Ok(at) => self.hits[at].1,
            Err(_) => 0.0,
        }
    }
}

impl CatalogIndex {
    /// Indexes the foods' (description, category) in snapshot order.
    pub(super) fn build<'a>(foods: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Self {
        let mut by_term: HashMap<String, Vec<Posting>> = HashMap::new();
        let mut words: HashMap<String, (String, u32)> = HashMap::new();
        let mut lengths = Vec::new();
        for (food, (description, category)) in foods.into_iter().enumerate() {
            let food = u32::try_from(food).unwrap_or(u32::MAX);
            let description_terms = porter::terms(description);
            let category_terms = category.map(porter::terms).unwrap_or_default();
            let length = description_terms.len() + category_terms.len();
            lengths.push(u32::try_from(length).unwrap_or(u32::MAX));
            for (terms, in_description) in [(description_terms, true), (category_terms, false)] {
                for term in terms {
                    let list = by_term.entry(term).or_default();
                    if list.last().is_none_or(|p| p.food != food) {
                        list.push(Posting {
                            food,
                            description: 0,
                            category: 0,
                        });
                    }
                    let posting = list.last_mut().expect("pushed above");
                    let count = if in_description {
                        &mut posting.description
                    } else {
                        &mut posting.category
                    };
                    *count = count.saturating_add(1);
                }
            }
            for (word, stem) in search::index_words(description) {
                words.entry(word).or_insert((stem, 0)).1 += 1;
            }
        }
        // The vocabulary's everyday words are words of the spelling pass too, in no description:
        // a misspelt one is respelled to it, and its alias then finds the food.
        for (word, stem) in search::vocabulary_words() {
            words
                .entry(word.to_string())
                .or_insert_with(|| (stem.to_string(), 0));
        }

        let mut sorted: Vec<(String, Vec<Posting>)> = by_term.into_iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let (mut terms, mut starts, mut postings) = (Vec::new(), vec![0], Vec::new());
        for (term, list) in sorted {
            terms.push(term.into_boxed_str());
            postings.extend(list);
            starts.push(u32::try_from(postings.len()).unwrap_or(u32::MAX));
        }
        let total: u64 = lengths.iter().map(|l| u64::from(*l)).sum();
        let average_length = total as f64 / lengths.len().max(1) as f64;

        let mut words: Vec<Word> = words
            .into_iter()
            .map(|(text, (stem, foods))| Word {
                text: text.into_boxed_str(),
                stem: stem.into_boxed_str(),
                foods,
            })
            .collect();
        words.sort_unstable_by(|a, b| a.text.cmp(&b.text));
        let mut stems = Vec::with_capacity(words.len());
        let mut typos = Vec::new();
        for (at, word) in words.iter().enumerate() {
            let at = u32::try_from(at).unwrap_or(u32::MAX);
            stems.push((word.stem.clone(), at));
            let mut keys = search::typo_keys(&word.text);
            keys.extend(search::typo_keys(&word.stem));
            keys.sort_unstable();
            keys.dedup();
            typos.extend(keys.into_iter().map(|k| (k.into_boxed_str(), at)));
        }
        stems.sort_unstable();
        typos.sort_unstable();
        terms.shrink_to_fit();
        postings.shrink_to_fit();
        typos.shrink_to_fit();

        CatalogIndex {
            terms,
            starts,
            postings,
            lengths,
            average_length,
            words,
            stems,
            typos,
        }
    }

    /// Up to `limit` candidates for `query` (places in the snapshot), in match order. The query is
    /// looked for as each of its readings (`search::recall`: its own words, and with the
    /// vocabulary's replacements, "aubergine" as eggplant) and, when a word of it is in no
    /// description, with that word spelled as the catalog spells it (a near spelling, "brocoli" →
    /// broccoli; two words, "icecream" → ice cream; or two query words joined, "straw berries" →
    /// strawberries). Every word is a prefix term after porter stemming. Foods with every word of a
    /// reading come first — those also naming the query's cooking state before the rest; every
    /// reading gets an equal share of `limit`, then the readings in order fill what is left — then,
    /// when they are under a quarter of `limit`, foods with any word, each pass in bm25 order.
    pub(super) fn recall(&self, query: &str, limit: usize) -> Vec<u32> {
        let mut readings = readings_of(query);
        if readings.is_empty() || limit == 0 || self.lengths.is_empty() {
            return Vec::new();
        }
        if let Some(spelled) = self.respell(&readings[0]) {
            // The respelled words' own vocabulary readings ("oatmeel" → oatmeal → oats), after it.
            let text: Vec<&str> = spelled
                .required
                .iter()
                .filter_map(|slot| slot.first().map(String::as_str))
                .collect();
            let aliased: Vec<Reading> = readings_of(&text.join(" "))
                .into_iter()
                .skip(1)
                .filter(|r| !readings.contains(r))
                .collect();
            readings.insert(1, spelled);
            for (k, reading) in aliased.into_iter().enumerate() {
                readings.insert(2 + k, reading);
            }
        }
        readings.truncate(MAX_READINGS);
        self.candidates(&readings, limit)
    }

    /// The candidates of these readings: each one's passes, its share, the readings in order
    /// filling the rest, and the any-word pass when that is short.
    fn candidates(&self, readings: &[Reading], limit: usize) -> Vec<u32> {
        let mut lists: Vec<Vec<u32>> = Vec::with_capacity(readings.len());
        for reading in readings {
            let mut found = Vec::new();
            if !reading.cooking.is_empty() {
                let mut cooked = reading.required.clone();
                cooked.push(reading.cooking.clone());
                self.matches(&cooked, limit, &mut found);
            }
            self.matches(&reading.required, limit, &mut found);
            lists.push(found);
        }
        // Every reading gets its share of the candidates before the first fills the rest: "cheese"
        // alone matches hundreds of foods, and its vocabulary reading (cheese cheddar) must still be
        // among those the ranking sees.
        let mut ids: Vec<u32> = Vec::with_capacity(limit);
        let share = limit.div_ceil(lists.len());
        for take in [share, limit] {
            for id in lists.iter().flat_map(|list| list.iter().take(take)) {
                if ids.len() < limit && !ids.contains(id) {
                    ids.push(*id);
                }
            }
        }
        // Foods missing a word never score as confident matches, so they only fill a short list.
        if ids.len() < limit / 4 {
            let words: Vec<String> = readings
                .iter()
                .flat_map(|r| r.required.iter().flatten().cloned())
                .collect();
            self.matches(&[words], limit, &mut ids);
        }
        ids
    }

    /// Appends the best `limit` foods having a word of every group (FTS5's `a AND (b OR c)`, each
    /// word a prefix term) not already in `ids`, up to `limit` in all: bm25 order, FDC id on ties.
    fn matches(&self, groups: &[Vec<String>], limit: usize, ids: &mut Vec<u32>) {
        if ids.len() >= limit || groups.is_empty() {
            return;
        }
        let phrases: Vec<Vec<Phrase>> = groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    // Only words of letters and digits reached FTS5 (no user text as syntax).
                    .filter(|w| !w.is_empty() && w.chars().all(char::is_alphanumeric))
                    .map(|w| self.phrase(w))
                    .collect()
            })
            .collect();
        let mut found: Vec<u32> = phrases[0]
            .iter()
            .flat_map(|p| p.hits.iter().map(|(food, _)| *food))
            .collect();
        found.sort_unstable();
        found.dedup();
        for group in &phrases[1..] {
            found.retain(|food| group.iter().any(|p| p.frequency(*food) > 0.0));
        }

        let mut scored: Vec<(f64, u32)> = found
            .into_iter()
            .map(|food| (self.bm25(&phrases, food), food))
            .collect();
        scored.sort_unstable_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .unwrap_or(Ordering::Equal)
                .then(a.1.cmp(&b.1))
        });
        for (_, food) in scored.into_iter().take(limit) {
            if ids.len() >= limit {
                break;
            }
            if !ids.contains(&food) {
                ids.push(food);
            }
        }
    }

    /// FTS5's `bm25(catalog_fts, 4.0, 1.0)` of one food: negative, lower is better. Summed over the
    /// phrases in expression order, as FTS5 does, so that equal scores stay equal.
    fn bm25(&self, phrases: &[Vec<Phrase>], food: u32) -> f64 {
        let length = f64::from(self.lengths[food as usize]);
        let mut score = 0.0;
        for phrase in phrases.iter().flatten() {
            let f = phrase.frequency(food);
            score += phrase.idf
                * ((f * (K1 + 1.0)) / (f + K1 * (1.0 - B + B * length / self.average_length)));
        }
        // FTS5 returns `-1.0 * score`: the same bits as negation.
        -score
    }

    /// A query word as a prefix term: every food with a term starting with its stem, hits weighted
    /// by column, and the IDF of that set. A word that is no single term (not one `search` gives)
    /// matches nothing, as FTS5's empty phrase.
    fn phrase(&self, word: &str) -> Phrase {
        let mut hits: Vec<(u32, f64)> = Vec::new();
        if let [prefix] = porter::terms(word).as_slice() {
            let from = self.terms.partition_point(|t| **t < **prefix);
            let to = from + self.terms[from..].partition_point(|t| t.starts_with(prefix.as_str()));
            let (first, last) = (self.starts[from] as usize, self.starts[to] as usize);
            hits.extend(self.postings[first..last].iter().map(|p| {
                let f = f64::from(p.description) * DESCRIPTION_WEIGHT
                    + f64::from(p.category) * CATEGORY_WEIGHT;
                (p.food, f)
            }));
            if to - from > 1 {
                hits.sort_by_key(|(food, _)| *food);
                hits.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        kept.1 += later.1;
                    }
                    same
                });
            }
        }
        // IDF = log((N - nHit + 0.5) / (nHit + 0.5)), floored at 1e-6 as FTS5 does.
        let (n, hit) = (self.lengths.len() as i64, hits.len() as i64);
        let idf = (((n - hit) as f64 + 0.5) / (hit as f64 + 0.5)).ln();
        Phrase {
            hits,
            idf: if idf <= 0.0 { 1e-6 } else { idf },
        }
    }

    /// The reading with each word no description has spelled as the catalog spells it, or `None`
    /// when every word is known or none has a known spelling.
    fn respell(&self, reading: &Reading) -> Option<Reading> {
        let words: Vec<&String> = reading.required.iter().flatten().collect();
        // Every form that could be a catalog word: the words, their stems, their halves (for a split)
        // and neighbours joined (for a join).
        let mut forms: Vec<String> = Vec::new();
        for word in &words {
            forms.push((*word).clone());
            forms.extend(search::index_words(word).into_iter().map(|(_, stem)| stem));
            forms.extend(halves(word).into_iter().flat_map(|(a, b)| [a, b]));
        }
        for pair in words.windows(2) {
            forms.push(format!("{}{}", pair[0], pair[1]));
        }
        let known = self.known(&forms);
        let is_known = |w: &str| {
            known.contains(w)
                || search::index_words(w)
                    .iter()
                    .any(|(_, stem)| known.contains(stem))
        };

        let mut required: Vec<Vec<String>> = Vec::new();
        let mut changed = false;
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            if let Some(next) = words.get(i + 1) {
                let joined = format!("{word}{next}");
                if known.contains(&joined) {
                    required.push(vec![joined]);
                    changed = true;
                    i += 2;
                    continue;
                }
            }
            if is_known(word) {
                required.push(vec![word.clone()]);
                i += 1;
                continue;
            }
            let near = self.near_spellings(word);
            // One mistake in the word as written is likelier than two words run together
            // ("cheescake" is cheesecake, not "chees cake").
            let one_mistake = near
                .first()
                .is_some_and(|w| search::spelling_rank(word, w, w) == Some(0));
            if let Some((a, b)) = halves(word)
                .into_iter()
                .find(|(a, b)| known.contains(a) && known.contains(b))
                .filter(|_| !one_mistake)
            {
                required.push(vec![a]);
                required.push(vec![b]);
                changed = true;
            } else {
                changed |= !near.is_empty();
                required.push(if near.is_empty() {
                    vec![word.clone()]
                } else {
                    near
                });
            }
            i += 1;
        }
        changed.then(|| Reading {
            required,
            cooking: reading.cooking.clone(),
        })
    }

    /// The words and stems of every description word that is one of `forms` or has one as its stem.
    fn known(&self, forms: &[String]) -> HashSet<String> {
        let mut known = HashSet::new();
        for form in forms {
            let by_text = self
                .words
                .binary_search_by(|w| (*w.text).cmp(form.as_str()))
                .ok();
            let by_stem = equal_range(&self.stems, form).map(|(_, at)| *at as usize);
            for at in by_text.into_iter().chain(by_stem) {
                let word = &self.words[at];
                known.insert(word.text.to_string());
                known.insert(word.stem.to_string());
            }
        }
        known
    }

    /// The catalog words a typo away from `word`, commonest first (at most three): a look-up of its
    /// typo keys.
    fn near_spellings(&self, word: &str) -> Vec<String> {
        let mut keys = search::typo_keys(word);
        for (_, stem) in search::index_words(word) {
            keys.extend(search::typo_keys(&stem));
        }
        let mut candidates: Vec<usize> = keys
            .iter()
            .flat_map(|key| equal_range(&self.typos, key).map(|(_, at)| *at as usize))
            .collect();
        // Without one mistake in the word as written, two may be nearer than what the keys found
        // (a near spelling of the stem: "vinager" is vinegar, not "vintage").
        let one_mistake = candidates.iter().any(|&at| {
            search::spelling_rank(word, &self.words[at].text, &self.words[at].stem) == Some(0)
        });
        if !one_mistake {
            candidates.extend(self.opening_range(word));
        }
        candidates.sort_unstable();
        candidates.dedup();
        self.commonest_near(word, candidates)
    }

    /// Two mistakes ("vinager", "cauliflour") share no typo key with the word meant: the catalog words
    /// opening with the same three letters are read too — a range of the sorted words, a few
    /// hundred at most — and tested with the scorer's rule.
    fn opening_range(&self, word: &str) -> std::ops::Range<usize> {
        let opening: String = word.chars().take(3).collect();
        if word.chars().count() < 7 || opening.chars().count() < 3 {
            return 0..0;
        }
        let from = self.words.partition_point(|w| *w.text < *opening);
        let to =
            from + self.words[from..].partition_point(|w| w.text.starts_with(opening.as_str()));
        from..to
    }

    /// Of these words, the first three near spellings of `word`: the nearest first
    /// (`search::spelling_rank`), then the commonest, then by text.
    fn commonest_near(&self, word: &str, candidates: Vec<usize>) -> Vec<String> {
        let mut near: Vec<(usize, Reverse<u32>, &str)> = candidates
            .into_iter()
            .map(|at| &self.words[at])
            .filter_map(|w| {
                let rank = search::spelling_rank(word, &w.text, &w.stem)?;
                Some((rank, Reverse(w.foods), &*w.text))
            })
            .collect();
        near.sort_unstable();
        near.into_iter()
            .take(3)
            .map(|(_, _, text)| text.to_string())
            .collect()
    }
}

/// The entries of a sorted (key, value) list whose key is `key`.
/// The readings the ranking gives a query, each word a slot of its own.
fn readings_of(query: &str) -> Vec<Reading> {
    search::recall(query)
        .into_iter()
        .map(|r| Reading {
            required: r.required.into_iter().map(|w| vec![w]).collect(),
            cooking: r.cooking,
        })
        .collect()
}

fn equal_range<'a>(
    list: &'a [(Box<str>, u32)],
    key: &str,
) -> impl Iterator<Item = &'a (Box<str>, u32)> {
    let from = list.partition_point(|(k, _)| **k < *key);
    list[from..].iter().take_while(move |(k, _)| **k == *key)
}

/// The ways to cut a word into two of at least three letters: "icecream" → (ice, cream), ….
fn halves(word: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = word.chars().collect();
    (3..chars.len().saturating_sub(2))
        .map(|i| (chars[..i].iter().collect(), chars[i..].iter().collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::*;

    /// SR Legacy-like foods, in FDC id order, with their categories.
    const FOODS: &[(&str, Option<&str>)] = &[
        (
            "Milk, whole, 3.25% milkfat, with added vitamin D",
            Some("Dairy and Egg Products"),
        ),
        (
            "Milk, reduced fat, fluid, 2% milkfat",
            Some("Dairy and Egg Products"),
        ),
        ("Cheese, cheddar", Some("Dairy and Egg Products")),
        (
            "Cheese, cottage, creamed, large or small curd",
            Some("Dairy and Egg Products"),
        ),
        (
            "Cheese, mozzarella, whole milk",
            Some("Dairy and Egg Products"),
        ),
        ("Egg, whole, raw, fresh", Some("Dairy and Egg Products")),
        (
            "Egg, whole, cooked, hard-boiled",
            Some("Dairy and Egg Products"),
        ),
        (
            "Egg, whole, cooked, poached",
            Some("Dairy and Egg Products"),
        ),
        ("Eggplant, raw", Some("Vegetables and Vegetable Products")),
        ("Eggnog", Some("Dairy and Egg Products")),
        ("Broccoli, raw", Some("Vegetables and Vegetable Products")),
        (
            "Broccoli, cooked, boiled, drained, without salt",
            Some("Vegetables and Vegetable Products"),
        ),
        ("Strawberries, raw", Some("Fruits and Fruit Juices")),
        ("Ice creams, vanilla", Some("Sweets")),
        (
            "Cream, fluid, heavy whipping",
            Some("Dairy and Egg Products"),
        ),
        ("Bananas, raw", Some("Fruits and Fruit Juices")),
        ("Banana chips", Some("Snacks")),
        (
            "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
            Some("Poultry Products"),
        ),
        (
            "Beef, ground, 80% lean meat / 20% fat, raw",
            Some("Beef Products"),
        ),
        ("Vinegar, cider", Some("Beverages")),
        (
            "Cauliflower, raw",
            Some("Vegetables and Vegetable Products"),
        ),
        (
            "Rice, white, long-grain, regular, cooked",
            Some("Cereal Grains and Pasta"),
        ),
        (
            "Rice, brown, long-grain, cooked",
            Some("Cereal Grains and Pasta"),
        ),
        (
            "Tomatoes, red, ripe, raw, year round average",
            Some("Vegetables and Vegetable Products"),
        ),
        (
            "Tomatoes, yellow, raw",
            Some("Vegetables and Vegetable Products"),
        ),
        ("Jalapeño peppers, raw", None),
        (
            "Egg, whole, raw, frozen, pasteurized",
            Some("Dairy and Egg Products"),
        ),
    ];

    fn index() -> CatalogIndex {
        CatalogIndex::build(FOODS.iter().copied())
    }

    fn names(ids: &[u32]) -> Vec<&'static str> {
        ids.iter().map(|id| FOODS[*id as usize].0).collect()
    }

    fn reading(required: &[&[&str]], cooking: &[&str]) -> Reading {
        let owned = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        Reading {
            required: required.iter().map(|slot| owned(slot)).collect(),
            cooking: owned(cooking),
        }
    }

    /// The same foods in a real FTS5 table as the catalog had it (rowid = place + 1).
    async fn fts5() -> SqliteConnection {
        let mut db = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query(
            "CREATE VIRTUAL TABLE fts USING fts5 (description, category,
             tokenize = 'porter unicode61 remove_diacritics 2')",
        )
        .execute(&mut db)
        .await
        .unwrap();
        for (at, (description, category)) in FOODS.iter().enumerate() {
            sqlx::query("INSERT INTO fts (rowid, description, category) VALUES (?, ?, ?)")
                .bind(at as i64 + 1)
                .bind(description)
                .bind(category)
                .execute(&mut db)
                .await
                .unwrap();
        }
        db
    }

    /// The FTS5 expression the catalog used to send: groups ANDed, alternatives ORed, prefix terms.
    fn expression(groups: &[Vec<String>]) -> String {
        groups
            .iter()
            .map(|group| {
                let terms: Vec<String> = group.iter().map(|w| format!("\"{w}\"*")).collect();
                format!("({})", terms.join(" OR "))
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    #[tokio::test]
    async fn every_pass_recalls_and_orders_as_fts5_bm25_did() {
        let index = index();
        let mut db = fts5().await;
        for groups in [
            &[&["milk"][..]][..],
            &[&["whole"], &["milk"]],
            &[&["egg"]],
            &[&["egg"], &["whole"], &["boil", "poach"]],
            &[&["cheese"]],
            &[&["chees"], &["cheddar"]],
            &[&["brocoli", "broccoli"]],
            &[&["raw"]],
            &[&["r"]],
            &[&["rice"], &["white"]],
            &[&["product"]],
            &[&["jalapeno"]],
            &[&["milk", "whole", "milk"]],
            &[&["banana", "vinegar"]],
            &[&["zzz"]],
        ] {
            let groups: Vec<Vec<String>> = groups
                .iter()
                .map(|g| g.iter().map(|w| w.to_string()).collect())
                .collect();
            for limit in [3, 100] {
                let expected: Vec<i64> = sqlx::query_scalar(
                    "SELECT rowid FROM fts WHERE fts MATCH ?1
                     ORDER BY bm25(fts, 4.0, 1.0) LIMIT ?2",
                )
                .bind(expression(&groups))
                .bind(limit as i64)
                .fetch_all(&mut db)
                .await
                .unwrap();
                let mut found = Vec::new();
                index.matches(&groups, limit, &mut found);
                let found: Vec<i64> = found.iter().map(|id| i64::from(*id) + 1).collect();
                assert_eq!(found, expected, "{groups:?}, limit {limit}");
            }
        }
    }

    #[tokio::test]
    async fn terms_are_fts5s_porter_terms() {
        let mut db = fts5().await;
        sqlx::query("CREATE VIRTUAL TABLE vocab USING fts5vocab (fts, row)")
            .execute(&mut db)
            .await
            .unwrap();
        let expected: Vec<String> = sqlx::query_scalar("SELECT term FROM vocab ORDER BY term")
            .fetch_all(&mut db)
            .await
            .unwrap();
        assert_eq!(
            index()
                .terms
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>(),
            expected
        );
    }

    #[test]
    fn a_reading_naming_a_cooking_state_gets_those_foods_first() {
        let found = index().candidates(&[reading(&[&["egg"], &["whole"]], &["poach"])], 10);
        let found = names(&found);
        assert_eq!(found[0], "Egg, whole, cooked, poached");
        for egg in ["Egg, whole, raw, fresh", "Egg, whole, cooked, hard-boiled"] {
            assert!(
                found[1..].contains(&egg),
                "then the other whole eggs: {found:?}"
            );
        }
    }

    #[test]
    fn every_reading_gets_its_share_before_the_first_fills_the_rest() {
        let index = index();
        let egg = reading(&[&["egg"]], &[]);
        let frozen = reading(&[&["egg"], &["frozen"]], &[]);
        let alone = names(&index.candidates(std::slice::from_ref(&egg), 2));
        assert!(
            !alone.contains(&"Egg, whole, raw, frozen, pasteurized"),
            "{alone:?}"
        );
        let shared = names(&index.candidates(&[egg.clone(), frozen.clone()], 2));
        assert_eq!(
            shared[1], "Egg, whole, raw, frozen, pasteurized",
            "{shared:?}"
        );
        let filled = index.candidates(&[egg, frozen], 4);
        assert_eq!(
            filled.len(),
            4,
            "the first reading fills the rest, none twice"
        );
    }

    #[test]
    fn foods_with_only_some_words_fill_a_list_under_a_quarter_of_the_limit() {
        let index = index();
        let banana = index.candidates(&[reading(&[&["banana"]], &[])], 8);
        assert_eq!(banana.len(), 2, "two of eight is not short");
        let raw_banana = names(&index.candidates(&[reading(&[&["banana"], &["raw"]], &[])], 8));
        assert_eq!(raw_banana[0], "Bananas, raw", "foods with every word first");
        assert_eq!(
            raw_banana.len(),
            8,
            "then foods with either: {raw_banana:?}"
        );
        assert!(raw_banana.contains(&"Banana chips"));
        let neither = index.candidates(&[reading(&[&["banana"], &["vinegar"]], &[])], 8);
        assert_eq!(
            names(&neither),
            ["Vinegar, cider", "Banana chips", "Bananas, raw"],
            "bm25 order: the rarer word, then the shorter name"
        );
    }

    #[test]
    fn an_unknown_word_is_respelled_by_its_typo_keys() {
        let spelled = index()
            .respell(&reading(&[&["brocoli"], &["raw"]], &[]))
            .unwrap();
        assert_eq!(spelled.required, [vec!["broccoli"], vec!["raw"]]);
        assert!(
            index().respell(&reading(&[&["broccoli"]], &[])).is_none(),
            "known words stay"
        );
        assert!(
            index().respell(&reading(&[&["xylophone"]], &[])).is_none(),
            "nothing near"
        );
    }

    #[test]
    fn a_respelled_query_is_also_looked_for_through_the_vocabulary() {
        // "oatmeel" is respelled "oatmeal", which the vocabulary reads as oats.
        let index = CatalogIndex::build([
            ("Cookies, oatmeal, commercially prepared, regular", None),
            ("Bread, oatmeal", None),
            ("Oats", None),
        ]);
        assert!(index.recall("oatmeel", 8).contains(&2), "oats are recalled");
    }

    #[test]
    fn the_nearest_spelling_wins_and_a_vocabulary_word_is_a_word() {
        let index = CatalogIndex::build([
            ("Turkey, retail parts, wing, meat only, raw", None),
            ("Turkey, retail parts, breast, meat only, raw", None),
            ("Parsley, fresh", None),
            ("Cheesecake commercially prepared", None),
            ("Cake, sponge, commercially prepared", None),
            ("Cheese, cheddar", None),
            ("Chickpeas, mature seeds, raw", None),
            ("Vinegar, cider", None),
            ("Port, vintage", None),
        ]);
        // One transposition as written, before a near spelling of the stem ("pars" ~ "parts"),
        // however common.
        assert_eq!(index.recall("parsely", 8)[0], 2);
        // One mistake before two words run together ("chees" + "cake").
        assert_eq!(index.recall("cheescake", 8)[0], 3);
        // "garbanzo" is in no description, but the vocabulary reads it as chickpeas.
        assert!(index.recall("garbonzo beans", 8).contains(&6));
        // Two mistakes as written ("vinager" → vinegar) before one in the stem ("vinag" ~ "vintag"),
        // though the stem's shares a typo key.
        assert_eq!(index.recall("vinager", 8)[0], 7);
    }

    #[test]
    fn two_mistakes_are_found_in_the_range_of_words_with_the_same_opening() {
        let index = index();
        assert!(
            index
                .near_spellings("cauliflour")
                .contains(&"cauliflower".to_string())
        );
        assert!(
            index.near_spellings("caulifl").is_empty(),
            "not without two mistakes' worth"
        );
    }

    #[test]
    fn split_and_joined_words_are_read_as_the_catalog_writes_them() {
        let index = index();
        let split = index.respell(&reading(&[&["icecream"]], &[])).unwrap();
        assert_eq!(split.required, [vec!["ice"], vec!["cream"]]);
        let joined = index
            .respell(&reading(&[&["straw"], &["berries"]], &[]))
            .unwrap();
        assert_eq!(joined.required, [vec!["strawberries"]]);
    }

    #[test]
    fn halves_cut_a_word_into_two_of_three_letters_or_more() {
        let cuts = halves("icecream");
        assert!(cuts.contains(&("ice".to_string(), "cream".to_string())));
        assert!(cuts.iter().all(|(a, b)| a.len() >= 3 && b.len() >= 3));
        assert!(halves("pea").is_empty());
    }

    #[test]
    fn an_empty_catalog_or_limit_finds_nothing() {
        assert!(CatalogIndex::default().recall("egg", 10).is_empty());
        assert!(index().recall("egg", 0).is_empty());
        assert!(!index().recall("egg", 10).is_empty());
    }
}
