//! Search relevance: what a query means (its readings, through the vocabulary), how well a food's
//! name answers it (a calibrated match score, the same for every source), and the ranking of results
//! from all sources with de-duplication.
//!
//! The parts: `text` (folding, stemming, typo distance), `vocabulary` (the embedded
//! `vocabulary.toml`), `name` (a name's structure and word weights), `analysis` (what ranking
//! reads from a name and brand whatever the query, kept with each summary); this file scores and
//! ranks.

mod analysis;
mod name;
mod text;
mod vocabulary;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::food::model::{FoodSummary, Source};
pub use analysis::Analysed;
use analysis::{Analysis, Words};
use name::Name;
pub use text::typo_keys;
use text::{spelling_distance, stem, tokens};
use vocabulary::{Cooking, Phrase, Vocabulary, contains_phrase, vocabulary};

/// From this score on a result is taken to be the food the query names; see [`match_score`].
pub const CONFIDENT_MATCH: f64 = 0.7;

/// Weight of query words found in the result (recall), of the result's words the query covers
/// (precision), and of hitting the name's head noun. They sum to 1.
const RECALL_WEIGHT: f64 = 0.6;
const PRECISION_WEIGHT: f64 = 0.25;
const HEAD_WEIGHT: f64 = 0.15;

/// Credit for a query word found only as a near spelling ("brocoli" for broccoli).
const TYPO_CREDIT: f64 = 0.85;
/// Credit for a query word found as two of the name's words, or two query words as one of the
/// name's ("icecream" for ice cream, "straw berries" for strawberries).
const JOINED_CREDIT: f64 = 0.9;
/// Credit for a query word found only inside an ingredient clause ("egg" in "made with egg").
const CLAUSE_CREDIT: f64 = 0.6;
/// The most a name scores when a query word is only in its ingredient clause and its own words name
/// another kind: related, never confident.
const CLAUSE_KIND_CAP: f64 = 0.65;
/// Head credit when the name's head is a query word but not its last ("milk" is the head of
/// "chocolate milk", not of "milk chocolate").
const HEAD_NOT_LAST: f64 = 0.85;
/// Head credit when the query names only the class ("cheese" for "Cheese, cheddar").
const CATEGORY_HEAD: f64 = 0.5;
/// Head credit when the query's last word is the kind a later segment gives ("naan" for "Bread,
/// naan, plain") and no other result has that word as its head: SR files the food under its class.
const KIND_CREDIT: f64 = 0.9;
/// Head credit when the query names the product by its brand ("tabasco" for "Sauce, ready-to-serve,
/// pepper, TABASCO"): the brand is the product's name, a little less its kind, so that a vocabulary
/// reading naming the brand's plain product still wins among the brand's products.
const BRAND_CREDIT: f64 = 0.9;
/// Head credit when the query names the food only as an aside gives it ("garbanzo" for "Chickpeas
/// (garbanzo beans, bengal gram)").
const SYNONYM_CREDIT: f64 = 0.8;
/// Costs of a cooking state met by another of SR's words for it ("steamed" by boiled), by plain
/// "cooked", by no word, and contradicted by "raw".
const COOKING_NEAR_COST: f64 = 0.02;
const COOKING_GENERIC_COST: f64 = 0.04;
const COOKING_MISS: f64 = 0.08;
const COOKING_CONTRADICTED: f64 = 0.15;
/// A reading through an alias that replaces a query word scores a little under the query's own
/// words, so that a food named exactly as the query says wins a tie.
const ALIAS_FACTOR: f64 = 0.97;
/// The score of a first result whose own segment is the whole query, head last ([`named_whole`]).
const NAMED_WHOLE: f64 = 0.8;
/// At most this many readings of one query (its own words and alias replacements).
const MAX_READINGS: usize = 8;
/// The most the ordering adds for an everyday food ([`ordering_score`]), reached at
/// [`EVERYDAY_MEASURES`] household measures; a food without any gets nothing.
const EVERYDAY_WEIGHT: f64 = 0.04;
const EVERYDAY_MEASURES: usize = 5;
/// Under this score a result is not even related to the query (the `matchScore` bands).
const RELATED_MATCH: f64 = 0.5;

/// Costs: a soft word ("large", "cup") the name lacks, a prepared form when the query names none, an
/// addition the query did not ask for ("Cheese, cottage, with vegetables"), a brand product for a
/// generic query, and the cap on variant costs.
const SOFT_MISS: f64 = 0.02;
const PREPARED_PENALTY: f64 = 0.03;
const ADDITION_PENALTY: f64 = 0.1;
const BRANDED_PENALTY: f64 = 0.2;
/// Cost of each word of the food's own segment the query does not name ("griddle cake" in "Fast
/// foods, griddle cake sandwich" for "cheese sandwich"), up to a cap: the name is then another food
/// of the same kind, so the one the query names exactly comes first, and a dish SR lacks is not
/// confidently taken for one that merely shares its head noun.
const IDENTITY_MISS: f64 = 0.05;
const MAX_IDENTITY_MISS: f64 = 0.15;
const MAX_VARIANT_PENALTY: f64 = 0.35;

/// Two results with the same brand are the same food when their name words overlap at least this
/// much (Jaccard = shared / all words), as a ratio of integers so the test is exact: 9/10.
const DUPLICATE_JACCARD: (usize, usize) = (9, 10);

/// Canonical search text: lower case, diacritics, punctuation and stop words dropped, words stemmed,
/// in order — "Bananas, raw" → "banana raw". Use it for cache keys so that equivalent queries share
/// one entry.
pub fn normalize(text: &str) -> String {
    tokens(text).join(" ")
}

/// A query word: its stem, and its folded written form (stems of vocabulary replacements).
#[derive(Clone, Debug, PartialEq)]
struct QueryWord {
    stem: String,
    surface: String,
}

/// One way to read a query: its own words, or with vocabulary replacements or respellings.
#[derive(Clone, Debug)]
struct Reading {
    /// The words that name the food: each must be in a result for it to be the food.
    core: Vec<QueryWord>,
    /// Cooking states named ("grilled"): met by SR's words for them, cheap to miss.
    cooking: Vec<&'static Cooking>,
    /// Shape and amount words ("large", "cup"), as stems: cheap to miss.
    soft: Vec<Phrase>,
    /// Every stem of the reading, for telling which variant forms it asks for.
    stems: Vec<String>,
    factor: f64,
    /// Stems the query itself puts in an ingredient clause ("meat sauce" in "spaghetti with meat
    /// sauce"): a name's clause holding them is what the query asked for, found in full.
    clause: BTreeSet<String>,
    /// The words are in the query's own order, so the last is its head noun; a vocabulary
    /// replacement is written in SR's order ("cheese cheddar") and says nothing about the head.
    ordered: bool,
}

/// A query, read once and scored against many names.
#[derive(Debug)]
struct Query {
    /// The query's own content words, written (folded) and stemmed.
    own: Vec<QueryWord>,
    /// Stems after a clause word of the query ("with", "made with"): see [`Reading::clause`].
    clause: BTreeSet<String>,
    readings: Vec<Reading>,
}

/// The stems of a query's content words after its first "with" or "made with".
fn clause_stems(text: &str) -> BTreeSet<String> {
    let words = text::words(text);
    let Some(at) = words.iter().position(|w| w == "with") else {
        return BTreeSet::new();
    };
    words[at + 1..]
        .iter()
        .filter(|w| !text::is_stop_word(w))
        .map(|w| stem(w))
        .collect()
}

/// The query's content words (stop words dropped).
fn query_words(text: &str) -> Vec<QueryWord> {
    text::words(text)
        .into_iter()
        .filter(|w| !text::is_stop_word(w))
        .map(|w| QueryWord {
            stem: stem(&w),
            surface: w,
        })
        .collect()
}

impl Query {
    fn parse(text: &str, vocabulary: &'static Vocabulary) -> Query {
        let own = query_words(text);
        let mut query = Query {
            own: own.clone(),
            clause: clause_stems(text),
            readings: Vec::new(),
        };
        query.add(&own, 1.0, vocabulary);
        query
    }

    /// Adds the readings of these words (as they are, then with each alias and all aliases applied),
    /// scaled by `factor`, up to [`MAX_READINGS`].
    fn add(&mut self, own: &[QueryWord], factor: f64, vocabulary: &'static Vocabulary) {
        let mut sequences: Vec<(Vec<QueryWord>, f64, bool)> = vec![(own.to_vec(), factor, true)];
        let stems: Vec<String> = own.iter().map(|w| w.stem.clone()).collect();
        let mut matches: Vec<(usize, usize, &Vec<Phrase>)> = Vec::new();
        let mut i = 0;
        while i < stems.len() {
            match vocabulary.alias_at(&stems[i..]) {
                Some((from, to)) => {
                    matches.push((i, from.len(), to));
                    i += from.len();
                }
                None => i += 1,
            }
        }
        let replace = |picks: &[(usize, usize, &Phrase)]| -> Vec<QueryWord> {
            let mut words = Vec::new();
            let mut i = 0;
            while i < own.len() {
                match picks.iter().find(|(at, _, _)| *at == i) {
                    Some((_, len, to)) => {
                        words.extend(to.iter().map(|s| QueryWord {
                            stem: s.clone(),
                            surface: s.clone(),
                        }));
                        i += len;
                    }
                    None => {
                        words.push(own[i].clone());
                        i += 1;
                    }
                }
            }
            words
        };
        // A replacement keeping every word of the query only says which variety it means ("sausage"
        // → pork sausage link/patty): a name matching it is named as the query says, at full weight.
        let alias_factor = |words: &[QueryWord]| {
            if own.iter().all(|w| words.iter().any(|r| r.stem == w.stem)) {
                factor
            } else {
                factor * ALIAS_FACTOR
            }
        };
        for (at, len, to) in &matches {
            for replacement in to.iter() {
                let words = replace(&[(*at, *len, replacement)]);
                sequences.push((words.clone(), alias_factor(&words), false));
            }
        }
        if matches.len() > 1 {
            let all: Vec<(usize, usize, &Phrase)> = matches
                .iter()
                .map(|(at, len, to)| (*at, *len, &to[0]))
                .collect();
            let words = replace(&all);
            sequences.push((words.clone(), alias_factor(&words), false));
        }
        for (words, factor, ordered) in sequences {
            if self.readings.len() >= MAX_READINGS {
                break;
            }
            let mut reading = Reading::classify(words, factor, ordered, vocabulary);
            reading.clause = self.clause.clone();
            self.readings.push(reading);
        }
    }

    /// Adds a reading with the query's unknown words spelled as the results spell them: a near
    /// spelling ("brocoli" → broccoli), one word as two ("icecream" → ice cream) or two as one
    /// ("straw berries" → strawberries). `known` holds every written word and stem of the results,
    /// with how many results have it; a query word some result has is never respelled. The
    /// vocabulary's everyday words are words too, though no result has them: "garbonzo" is
    /// garbanzo, read through its alias.
    fn respell(&mut self, known: &HashMap<&str, usize>, vocabulary: &'static Vocabulary) {
        let is_word = |s: &str| known.contains_key(s) || vocabulary.knows(s);
        let has = |w: &QueryWord| is_word(&w.surface) || is_word(&w.stem);
        let mut words: Vec<QueryWord> = Vec::new();
        let mut factor: f64 = 1.0;
        let mut i = 0;
        let own = self.own.clone();
        while i < own.len() {
            let w = &own[i];
            if let Some(next) = own.get(i + 1) {
                let joined = format!("{}{}", w.surface, next.surface);
                // "flax seeds" is "flaxseed": the joined word may be an inflection of the name's.
                if is_word(&joined) || is_word(&stem(&joined)) {
                    words.push(QueryWord {
                        stem: stem(&joined),
                        surface: joined,
                    });
                    factor = factor.min(JOINED_CREDIT);
                    i += 2;
                    continue;
                }
            }
            i += 1;
            if has(w) {
                words.push(w.clone());
                continue;
            }
            // The nearest spelling among the known words, as written before as stemmed (the stem
            // of "parsely" is a letter from "parts"), then the commonest.
            let vocabulary_words = vocabulary
                .alias_words
                .iter()
                .flat_map(|(word, stem)| [(word.as_str(), 0), (stem.as_str(), 0)]);
            let nearest = known
                .iter()
                .map(|(k, count)| (*k, *count))
                .chain(vocabulary_words)
                .filter_map(|(k, count)| {
                    Some((
                        spelling_rank(&w.surface, k, k)?,
                        std::cmp::Reverse(count),
                        k,
                    ))
                })
                .min();
            let chars: Vec<char> = w.surface.chars().collect();
            let split = (3..chars.len().saturating_sub(2)).find_map(|at| {
                let (a, b): (String, String) =
                    (chars[..at].iter().collect(), chars[at..].iter().collect());
                (is_word(&a) && is_word(&b)).then_some((a, b))
            });
            // One mistake in the word as written is likelier than two words run together
            // ("cheescake" is cheesecake, not "chees cake").
            if let Some((a, b)) = split.filter(|_| nearest.is_none_or(|(d, _, _)| d > 0)) {
                words.extend([a, b].map(|part| QueryWord {
                    stem: stem(&part),
                    surface: part,
                }));
                factor = factor.min(JOINED_CREDIT);
                continue;
            }
            let near = nearest.map(|(_, _, k)| k.to_string());
            match near {
                Some(k) => {
                    // `k` may be a stem itself ("mayonnais"), which stemming again would change.
                    let stemmed = stem(&k);
                    let stem = if is_word(&stemmed) {
                        stemmed
                    } else {
                        k.clone()
                    };
                    words.push(QueryWord { stem, surface: k });
                    factor = factor.min(TYPO_CREDIT);
                }
                None => words.push(w.clone()),
            }
        }
        if factor < 1.0 {
            self.add(&words, factor, vocabulary);
        }
    }
}

impl Reading {
    fn classify(
        words: Vec<QueryWord>,
        factor: f64,
        ordered: bool,
        vocabulary: &'static Vocabulary,
    ) -> Reading {
        let stems: Vec<String> = words.iter().map(|w| w.stem.clone()).collect();
        let written: Vec<String> = words.iter().map(|w| w.surface.clone()).collect();
        let (mut core, mut cooking, mut soft) = (Vec::new(), Vec::new(), Vec::new());
        let mut i = 0;
        while i < words.len() {
            if let Some((state, len)) = vocabulary.cooking_at(&written[i..]) {
                cooking.push(state);
                i += len;
            } else if let Some(term) = vocabulary
                .soft_at(&written[i..])
                .filter(|t| {
                    !(i > 0
                        && i + t.written.len() == words.len()
                        && vocabulary.dish_words.contains(t))
                })
                .or_else(|| vocabulary.implied_at(&written[i..], &stems))
            {
                soft.push(term.stems.clone());
                i += term.written.len();
            } else {
                core.push(words[i].clone());
                i += 1;
            }
        }
        // A query of shape or cooking words only ("plain", "toast") means them.
        if core.is_empty() {
            core = words;
            cooking.clear();
            soft.clear();
        }
        Reading {
            core,
            cooking,
            soft,
            stems,
            factor,
            clause: BTreeSet::new(),
            ordered,
        }
    }

    fn asks(&self, stems: &[String]) -> bool {
        contains_phrase(&self.stems, stems)
    }
}

/// What the scorer knows beyond one name: the product's brand words, whether the query names its
/// brand, and the heads of all the results scored together (`None` for a name scored alone).
struct Context<'a> {
    brand: &'a Words,
    brand_named: bool,
    result_heads: Option<&'a HashSet<String>>,
    /// The generic (unbranded) names scored together, for telling whether one of them is the food
    /// a query's words name in its own right (`None` for a name scored alone).
    generic: Option<&'a [&'a Name]>,
    /// The forms (indexes of `variants`, [`AS_SOLD`] for the as-sold ones) every result naming the
    /// food has: SR has the food only so, and the form is how it comes ("Gelatins, dry powder").
    only_forms: &'a BTreeSet<usize>,
}

/// The as-sold forms' place among the forms of [`Context::only_forms`].
const AS_SOLD: usize = usize::MAX;

fn score_reading(
    reading: &Reading,
    name: &Name,
    context: &Context,
    vocabulary: &Vocabulary,
) -> f64 {
    if reading.core.is_empty() {
        return 0.0;
    }
    let last = reading.core.len() - 1;
    let named = &reading.core[last].stem;
    // "naan" for "Bread, naan": SR files the food under its class, and no result is a naan of its
    // own; "banana" for "Bread, banana" is not, as "Bananas, raw" has the word as its head.
    let kind_named = (reading.ordered || reading.core.len() == 1)
        && !name.heads.contains(named)
        && name.kinds.contains(named)
        && context
            .result_heads
            .is_some_and(|heads| !heads.contains(named));
    // "honey mustard" for "Salad dressing, honey mustard", "vegetable broth" for "Soup, vegetable
    // broth": the query's words, two or more, are one whole qualifier segment, the food SR files
    // under a class noun (the dressing, the soup).
    // Not when another generic result is that food under its own head, with every query word
    // ("Peanut butter, smooth" for "Cookies, peanut butter"; "Wine, table, red" for "Vinegar, red
    // wine").
    let segment_named = reading.core.len() > 1
        && name.qualifiers.iter().any(|q| {
            q.len() == reading.core.len() && q.iter().zip(&reading.core).all(|(s, w)| *s == w.stem)
        })
        && context.generic.is_some_and(|names| {
            !names.iter().any(|other| {
                other.heads.contains(named)
                    && reading
                        .core
                        .iter()
                        .all(|w| other.has_outside_clause(&w.stem))
            })
        });
    // Named by its brand or a synonym ("tabasco", "ghee"), the food is the class of thing its head
    // says: Tabasco is a sauce, ghee a butter.
    let named_otherwise = context.brand_named || name.synonyms.contains(named);
    let (form, penalized) = form_penalty(
        reading,
        name,
        named_otherwise,
        context.only_forms,
        vocabulary,
    );
    let weight = |stem: &str| {
        if penalized.contains(stem) {
            0.0
        } else {
            name.weight(stem)
        }
    };
    // The name's stems the query covers, with the credit of the query word that covered them.
    let mut covered: BTreeMap<String, f64> = BTreeMap::new();
    let (mut credit, mut found) = (0.0, 0_usize);
    let mut head: f64 = 0.0;
    let mut penalty = form;
    for (k, q) in reading.core.iter().enumerate() {
        let position = if k == last || !reading.ordered {
            1.0
        } else {
            HEAD_NOT_LAST
        };
        let c = if name.weights.contains_key(&q.stem) {
            if name.has_outside_clause(&q.stem) || reading.clause.contains(&q.stem) {
                1.0
            } else {
                CLAUSE_CREDIT
            }
        } else if context.brand.contains(&q.stem) {
            1.0
        } else {
            continue;
        };
        found += 1;
        credit += c;
        covered.insert(q.stem.clone(), c);
        if name.heads.contains(&q.stem)
            || (context.brand_named
                && (name.brands.contains(&q.stem) || context.brand.contains(&q.stem)))
        {
            // A brand the query names is the food's identity ("tabasco", "chobani").
            let credit = if name.heads.contains(&q.stem) {
                1.0
            } else {
                BRAND_CREDIT
            };
            head = head.max(c * position * credit);
        } else if name.synonyms.contains(&q.stem) {
            head = head.max(c * SYNONYM_CREDIT * position);
        }
    }
    for state in &reading.cooking {
        let exact = state.query.iter().find(|t| name.has_phrase(&t.stems));
        let near = state.near.iter().find(|p| name.has_phrase(p));
        match (exact, near) {
            (Some(t), _) => {
                for s in &t.stems {
                    covered.insert(s.clone(), 1.0);
                }
            }
            (None, Some(p)) => {
                penalty += COOKING_NEAR_COST;
                for s in p {
                    covered.insert(s.clone(), 1.0);
                }
            }
            (None, None) if !state.is_raw() && name.has_phrase(&["cook".into()]) => {
                penalty += COOKING_GENERIC_COST;
            }
            (None, None) if !state.is_raw() && name.has_phrase(&["raw".into()]) => {
                penalty += COOKING_CONTRADICTED;
            }
            (None, None) => penalty += COOKING_MISS,
        }
    }
    for phrase in &reading.soft {
        if name.has_phrase(phrase) {
            for s in phrase {
                covered.insert(s.clone(), 1.0);
            }
        } else {
            penalty += SOFT_MISS;
        }
    }
    if head == 0.0 && (kind_named || segment_named) && found == reading.core.len() {
        head = KIND_CREDIT;
    }
    // "sourdough" for "Bread, french or vienna (includes sourdough)": the entry says it stands for
    // the food, which no result has as its head.
    if head == 0.0
        && found == reading.core.len()
        && name.included.contains(named)
        && context
            .result_heads
            .is_some_and(|heads| !heads.contains(named))
    {
        head = SYNONYM_CREDIT;
    }
    let recall = credit / reading.core.len() as f64;
    let unnamed = name
        .identity
        .iter()
        .filter(|s| {
            !covered.contains_key(*s)
                && !name.heads.contains(*s)
                && !penalized.contains(*s)
                && name.weight(s) > 0.0
        })
        .count();
    // A product named by its brand is what the brand sells ("velveeta" is a process cheese spread):
    // its kind words tell its products apart, at half the cost.
    let identity_miss = if context.brand_named {
        IDENTITY_MISS / 2.0
    } else {
        IDENTITY_MISS
    };
    penalty += (unnamed as f64 * identity_miss).min(MAX_IDENTITY_MISS);

    let mut covered_weight: f64 = covered
        .iter()
        .filter(|(s, _)| !name.heads.contains(*s))
        .map(|(s, c)| weight(s) * c)
        .sum();
    // The head counts once, however many of its names (co-heads, synonyms) the query has.
    let head_weight = name.head_weight();
    let category_only = head == 0.0
        && covered.keys().any(|s| name.category.contains(s))
        && !covered.keys().any(|s| name.identity.contains(s));
    if category_only {
        head = CATEGORY_HEAD;
    }
    covered_weight += head_weight * head.min(1.0);
    let total = name.total
        - penalized
            .iter()
            .filter(|s| !name.heads.contains(*s))
            .map(|s| name.weight(s))
            .sum::<f64>();
    let precision = if total > 0.0 {
        (covered_weight / total).min(1.0)
    } else if found > 0 {
        1.0
    } else {
        0.0
    };
    let mut score = RECALL_WEIGHT * recall + PRECISION_WEIGHT * precision + HEAD_WEIGHT * head;
    if found < reading.core.len() {
        // A missing word: never confident, whatever else matches.
        score *= 0.5 * found as f64 / reading.core.len() as f64;
    }
    let score = ((score - penalty) * reading.factor).clamp(0.0, 1.0);
    // A query word only in an ingredient clause, while the name's own words name a kind the query
    // did not: "Potato salad with egg" is another salad than "egg salad" — related, not it.
    let clause_only = covered.values().any(|c| *c == CLAUSE_CREDIT);
    if clause_only && unnamed > 0 {
        score.min(CLAUSE_KIND_CAP)
    } else {
        score
    }
}

/// What a name's forms cost when the query does not ask for them — variant words (processed,
/// preserved, changed, baby, regional), as-sold forms (dry mix, condensed) unless the name says it
/// was prepared, a prepared form, an addition — and the stems those costs were for (they then weigh
/// nothing in precision: their cost is the penalty).
fn form_penalty(
    reading: &Reading,
    name: &Name,
    named_otherwise: bool,
    only_forms: &BTreeSet<usize>,
    vocabulary: &Vocabulary,
) -> (f64, BTreeSet<String>) {
    let mut penalized = BTreeSet::new();
    let mut variants = 0.0;
    // "dry heat", "moist heat" are cooking methods: their words are no form.
    let cooking_phrases: Vec<&Phrase> = vocabulary
        .cooking
        .iter()
        .flat_map(|c| &c.near)
        .filter(|p| p.len() > 1 && name.has_phrase(p))
        .collect();
    let mut seen: Vec<&[String]> = Vec::new();
    for (index, variant) in vocabulary.variants.iter().enumerate() {
        let term = &variant.term;
        if !has_variant(name, variant)
            || only_forms.contains(&index)
            || reading.asks(&term.stems)
            || variant.unless.iter().any(|u| reading.stems.contains(u))
            || cooking_phrases
                .iter()
                .any(|p| term.stems.iter().all(|s| p.contains(s)))
            || seen.iter().any(|s| contains_phrase(s, &term.written))
            // The food a query names by its brand, kind or synonym is the kind of thing its head
            // says: Tabasco is a sauce.
            || (named_otherwise && term.stems.iter().all(|s| name.heads.contains(s)))
            // A class prefix is no part of the food: "Seeds, sesame butter" is no seed.
            || (variant.segment && term.stems.iter().all(|s| name.category.contains(s)))
        {
            continue;
        }
        seen.push(&term.written);
        variants += variant.penalty;
        penalized.extend(term.stems.iter().cloned());
    }
    let (as_sold, as_sold_penalty) = &vocabulary.as_sold;
    // A roasted food is prepared: "dry" in "dry-roasted" is a cooking method, no dry mix. ("fried"
    // is not: "french fried" names the food, and "par fried" frozen fries are sold unprepared.)
    let prepared = [
        "prepar",
        "cook",
        "dilut",
        "reconstitut",
        "heat",
        "bake",
        "roast",
        "toast",
        "broil",
    ]
    .iter()
    .any(|s| name.weights.contains_key(*s));
    if !prepared
        && !only_forms.contains(&AS_SOLD)
        && as_sold.iter().any(|t| {
            name.has_written(&t.written)
                && !reading.asks(&t.stems)
                && !cooking_phrases
                    .iter()
                    .any(|p| t.stems.iter().all(|s| p.contains(s)))
        })
    {
        variants += as_sold_penalty;
    }
    let mut penalty = f64::min(variants, MAX_VARIANT_PENALTY);
    if reading.cooking.iter().all(|c| c.is_raw())
        && name
            .words
            .iter()
            .any(|w| vocabulary.is_cooking_word(&w.stem))
    {
        penalty += PREPARED_PENALTY;
    }
    if name
        .additions
        .iter()
        .any(|s| !vocabulary.is_default(s) && !reading.stems.contains(s))
    {
        penalty += ADDITION_PENALTY;
    }
    (penalty, penalized)
}

fn has_variant(name: &Name, variant: &vocabulary::Variant) -> bool {
    if variant.segment {
        name.has_segment(&variant.term.written)
    } else {
        name.has_written(&variant.term.written)
    }
}

/// The forms every one of the names that is the food the query's own words name (each word outside
/// clauses, the last its head) has: "canned" when every sardine is canned, "dry" and "powder" when
/// SR's only gelatin is a dry powder. A form SR has the food only in is no form to pay for. None
/// when no name is that food.
fn only_forms(query: &Query, names: &[&Name], vocabulary: &Vocabulary) -> BTreeSet<usize> {
    let Some(reading) = query.readings.first() else {
        return BTreeSet::new();
    };
    let Some(last) = reading.core.last() else {
        return BTreeSet::new();
    };
    let peers: Vec<&&Name> = names
        .iter()
        .filter(|n| {
            n.heads.contains(&last.stem)
                && reading.core.iter().all(|w| n.has_outside_clause(&w.stem))
        })
        .collect();
    if peers.is_empty() {
        return BTreeSet::new();
    }
    let mut only: BTreeSet<usize> = (0..vocabulary.variants.len())
        .filter(|&i| {
            let variant = &vocabulary.variants[i];
            !variant.version && peers.iter().all(|n| has_variant(n, variant))
        })
        .collect();
    let (as_sold, _) = &vocabulary.as_sold;
    if peers
        .iter()
        .all(|n| as_sold.iter().any(|t| n.has_written(&t.written)))
    {
        only.insert(AS_SOLD);
    }
    only
}

fn best_score(query: &Query, name: &Name, context: &Context) -> f64 {
    let vocabulary = vocabulary();
    query
        .readings
        .iter()
        .map(|r| score_reading(r, name, context, vocabulary))
        .fold(0.0, f64::max)
}

/// Every written word and stem of some names, with how many of the names have it.
fn known_words<'a>(names: impl Iterator<Item = &'a Analysis>) -> HashMap<&'a str, usize> {
    let mut known: HashMap<&str, usize> = HashMap::new();
    for name in names {
        let mut words: Vec<&str> = name
            .name
            .words
            .iter()
            .flat_map(|w| [w.stem.as_str(), w.surface.as_str()])
            .collect();
        words.sort_unstable();
        words.dedup();
        for w in words {
            *known.entry(w).or_default() += 1;
        }
    }
    known
}

/// How well a result's name (and brand) answers a query, in 0..=1, calibrated so that the same
/// number means the same thing for every source:
///
/// - **≥ 0.8** — the food the query names: every query word is in the name, the head noun among
///   them, and few other words ("banana" → "Bananas, raw" 1.0).
/// - **[`CONFIDENT_MATCH`] (0.7) to 0.8** — still that food, with more qualifiers than the query
///   gave, a query word only near-spelled ("brocoli"), or a cooking state SR names otherwise.
/// - **0.5 to 0.7** — related: has every query word, but as a side part ("Bread, banana" for
///   "banana"), or is a processed or changed form the query did not ask for.
/// - **< 0.5** — not the food asked for: some query word is missing ("Spices, saffron" for
///   "saffron risotto"). Such results are never confident, whatever else they match.
///
/// The query is read as written, through the vocabulary (`vocabulary.toml`: "aubergine" is also
/// "eggplant"; an alias reading replacing a query word counts 0.97 of its score), and with words
/// the name spells otherwise respelled (a near spelling 0.85, joined or split words 0.9). The
/// name's words are weighed by their role ([`name`]): the head noun of the food's own segment 2,
/// its other words 1, qualifiers 0.5ⁿ by how late they come, class prefixes ("Nuts, …"), brands,
/// default-form words ("raw", "commercially prepared") and asides 0. The score blends how many
/// query words the name has (0.6; 0.6 of a word found only inside an ingredient clause), how much
/// of the name's weight the query covers (0.25) and whether the query names the head (0.15; less
/// when the head is not the query's last word, as "milk" in "milk chocolate", or is named only by
/// an aside's synonym; 0.9 when the query names the product by its brand, or, among results none of
/// which has the word as its head, names the kind SR files under a class, "naan" for "Bread,
/// naan"). A missing word scales the blend under 0.5 (not a modifier the vocabulary knows as the
/// food's ordinary form, "white" sugar: that is soft); forms the query did not ask for (`variants`
/// in the vocabulary) and cooking states no word of the name meets cost a little.
pub fn match_score(query: &str, name: &str, brand: Option<&str>) -> f64 {
    score_alone(query, &Analysis::new(name, brand))
}

/// [`match_score`] of a summary's name and brand, through the analysis it keeps (which ranking
/// then reuses).
pub fn summary_match_score(query: &str, food: &FoodSummary) -> f64 {
    score_alone(query, &analysis_of(food))
}

fn score_alone(query: &str, analysis: &Analysis) -> f64 {
    let vocabulary = vocabulary();
    let mut query = Query::parse(query, vocabulary);
    query.respell(&known_words(std::iter::once(analysis)), vocabulary);
    let own: BTreeSet<String> = query.own.iter().map(|w| w.stem.clone()).collect();
    let context = Context {
        brand_named: brand_named(&query, &own, analysis, &HashSet::new(), vocabulary),
        brand: &analysis.brand_words,
        result_heads: None,
        generic: None,
        only_forms: &BTreeSet::new(),
    };
    best_score(&query, &analysis.name, &context)
}

fn analysis_of(food: &FoodSummary) -> std::borrow::Cow<'_, Analysis> {
    food.analysis.of(&food.name, food.brand.as_deref())
}

/// What the catalog must find for one reading of a query: `required` words each candidate must have
/// (written forms, or stems for vocabulary words), and `cooking` words any of which it may have.
#[derive(Clone, Debug, PartialEq)]
pub struct Recall {
    pub required: Vec<String>,
    pub cooking: Vec<String>,
}

/// The readings of a query the catalog should look for, the query's own words first.
pub fn recall(query: &str) -> Vec<Recall> {
    let vocabulary = vocabulary();
    let mut all: Vec<Recall> = Vec::new();
    for reading in Query::parse(query, vocabulary).readings {
        let mut required: Vec<String> = reading.core.iter().map(|w| w.surface.clone()).collect();
        if required.is_empty() {
            required = reading.soft.concat();
        }
        let cooking: Vec<String> = reading
            .cooking
            .iter()
            .flat_map(|c| c.query.iter().map(|t| &t.stems).chain(&c.near))
            .filter(|p| p.len() == 1)
            .map(|p| p[0].clone())
            .collect();
        let recall = Recall { required, cooking };
        if !recall.required.is_empty() && !all.contains(&recall) {
            all.push(recall);
        }
    }
    all
}

/// The words of a description as the catalog's word index keeps them: each distinct written word
/// (folded, stop words dropped) with its stem.
pub fn index_words(description: &str) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = Vec::new();
    for word in text::words(description) {
        if !text::is_stop_word(&word) && !all.iter().any(|(w, _)| *w == word) {
            let stem = stem(&word);
            all.push((word, stem));
        }
    }
    all
}

/// The vocabulary's everyday words, as written (folded) with their stems: the catalog's spelling
/// pass knows them as words ("garbonzo" → garbanzo) though no description has them.
pub fn vocabulary_words() -> impl Iterator<Item = (&'static str, &'static str)> {
    vocabulary()
        .alias_words
        .iter()
        .map(|(word, stem)| (word.as_str(), stem.as_str()))
}

/// How near a spelling of `query_word` the word (with its stem) is, when it is one at all
/// (the scorer's rule for a query word against a word or its stem):
/// lower is nearer — one mistake in the word as written, then two, then a near spelling of its stem.
pub fn spelling_rank(query_word: &str, word: &str, word_stem: &str) -> Option<usize> {
    let query_word = text::fold(query_word);
    spelling_distance(&query_word, word)
        .or_else(|| spelling_distance(&stem(&query_word), word_stem).map(|d| d + 2))
}

/// A search result with its relevance to the query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankedFood {
    #[serde(flatten)]
    pub food: FoodSummary,
    /// 0..=1, three decimals, comparable across sources: ≥ 0.8 the food the query names, 0.7–0.8
    /// very likely it, 0.5–0.7 related (contains it, or a processed form), < 0.5 not it (a query
    /// word is missing).
    pub match_score: f64,
}

/// Whether no result is a confident match (see [`CONFIDENT_MATCH`]): the closest foods are only
/// related, and whoever reads them should know.
pub fn no_confident_match(ranked: &[RankedFood]) -> bool {
    !ranked.iter().any(|r| r.match_score >= CONFIDENT_MATCH)
}

/// Ranks results from all sources for a query: duplicates removed, the owner's custom foods first,
/// then by score; equal scores keep the better data type (Foundation, SR Legacy, Survey, Branded),
/// then USDA before Open Food Facts, then the sources' own order (the catalog's is most-measured
/// first).
///
/// The score is [`match_score`], with every result's words known (a query word some result has
/// exactly is not taken for a typo of another), less 0.2 for a brand product the query does not
/// name, plus a data-type bonus of at most 0.015 (Foundation, then SR Legacy, then Survey; for a
/// query naming a brand, Open Food Facts instead).
pub fn rank(query: &str, results: Vec<FoodSummary>) -> Vec<RankedFood> {
    let vocabulary = vocabulary();
    let parsed = Query::parse(query, vocabulary);
    let query_stems: BTreeSet<String> = parsed
        .readings
        .first()
        .map(|r| r.stems.iter().cloned().collect())
        .unwrap_or_default();
    // The analyses borrow from handles of their own, so that the summaries can move into the
    // results.
    let kept: Vec<Analysed> = results.iter().map(|f| f.analysis.clone()).collect();
    let analyses: Vec<std::borrow::Cow<Analysis>> = kept
        .iter()
        .zip(&results)
        .map(|(kept, f)| kept.of(&f.name, f.brand.as_deref()))
        .collect();
    let mut parsed = parsed;
    parsed.respell(&known_words(analyses.iter().map(|a| &**a)), vocabulary);
    let result_heads: HashSet<String> = analyses
        .iter()
        .flat_map(|a| a.name.heads.iter().cloned())
        .collect();
    // Words some result has outside a brand are food words, not brand names ("cherry" is in
    // "Cherries, sweet, raw", so it does not name "Candies, TWIZZLERS CHERRY BITES").
    let food_words: HashSet<&str> = analyses
        .iter()
        .flat_map(|a| {
            a.name
                .words
                .iter()
                .filter(|w| !a.name.brands.contains(&w.stem))
        })
        .map(|w| w.stem.as_str())
        .collect();
    let generic: Vec<&Name> = results
        .iter()
        .zip(&analyses)
        .filter(|(food, analysis)| !is_branded(food, analysis))
        .map(|(_, analysis)| &analysis.name)
        .collect();
    let only_forms = only_forms(&parsed, &generic, vocabulary);
    let mut whole: HashMap<(Source, String), f64> = HashMap::new();
    let scored = results
        .into_iter()
        .zip(&analyses)
        .map(|(food, analysis)| {
            let brand_named = brand_named(&parsed, &query_stems, analysis, &food_words, vocabulary);
            let context = Context {
                brand: &analysis.brand_words,
                brand_named,
                result_heads: Some(&result_heads),
                generic: Some(&generic),
                only_forms: &only_forms,
            };
            let score = best_score(&parsed, &analysis.name, &context);
            let branded = !brand_named && is_branded(&food, analysis);
            if !branded && let Some(floor) = named_whole(&parsed, &analysis.name) {
                whole.insert((food.source, food.id.clone()), floor);
            }
            let adjustment =
                data_type_bonus(&food, brand_named) - if branded { BRANDED_PENALTY } else { 0.0 };
            let ranked = RankedFood {
                food,
                match_score: (score + adjustment).clamp(0.0, 1.0),
            };
            (ranked, &**analysis)
        })
        .collect();
    let mut ranked = dedupe(scored);
    // Differences under a thousandth are noise; rounding first lets them tie, and ties keep the
    // better data type, then the sources' own order (the catalog's is most-measured first).
    for r in &mut ranked {
        r.match_score = (r.match_score * 1000.0).round() / 1000.0;
    }
    ranked.sort_by(|a, b| {
        let not_custom = |r: &RankedFood| r.food.source != Source::Custom;
        not_custom(a)
            .cmp(&not_custom(b))
            .then(ordering_score(b).total_cmp(&ordering_score(a)))
            .then(data_type_priority(&a.food).cmp(&data_type_priority(&b.food)))
            .then(source_priority(a.food.source).cmp(&source_priority(b.food.source)))
    });
    // A first result with every word of the query is the food named, or very likely it
    // ([`named_whole`]): the forms and qualifiers that priced it still order the results, but they
    // do not make the best match a mere relative.
    if let Some(first) = ranked.first_mut()
        && let Some(&floor) = whole.get(&(first.food.source, first.food.id.clone()))
    {
        first.match_score = first.match_score.max(floor);
    }
    ranked
}

/// What results are ordered by: the score, plus up to [`EVERYDAY_WEIGHT`] for a food its source
/// lists many household measures for — among foods that match nearly as well, the one USDA measured
/// by the cup, slice and piece is the everyday form ("Chicken, broilers or fryers, breast, meat
/// only, cooked, roasted", 3 measures, before "Chicken breast, roll, oven-roasted", 1). Only a
/// related match (score ≥ 0.5) earns it, so an everyday food never passes one the query names
/// better by more than the weight; the score shown is unchanged.
fn ordering_score(result: &RankedFood) -> f64 {
    if result.match_score < RELATED_MATCH {
        return result.match_score;
    }
    let measures = result.food.household_measures.min(EVERYDAY_MEASURES) as f64;
    result.match_score + EVERYDAY_WEIGHT * measures.ln_1p() / (EVERYDAY_MEASURES as f64).ln_1p()
}

/// The least score a name earns as the first result by having every word of the query as written
/// (or of a vocabulary reading, any of whose words may be the head) outside its clauses, cooking states met: [`NAMED_WHOLE`] when they are its own segment with the
/// query's last word its head ("lemonade" for "Beverages, Lemonade, powder"), [`CONFIDENT_MATCH`]
/// when some are elsewhere ("tahini" for "Seeds, sesame butter, tahini"); none when a word or a
/// cooking state is missing ("grilled cheese sandwich" for a steak and cheese sub).
fn named_whole(query: &Query, name: &Name) -> Option<f64> {
    query
        .readings
        .iter()
        .filter(|r| r.factor >= ALIAS_FACTOR && !r.core.is_empty())
        .filter_map(|r| {
            // A vocabulary reading is written in SR's order: any of its words may be the head.
            let headed = if r.ordered {
                name.heads.contains(&r.core[r.core.len() - 1].stem)
            } else {
                r.core.iter().any(|w| name.heads.contains(&w.stem))
            };
            let cooked = r.cooking.iter().all(|state| {
                state.query.iter().any(|t| name.has_phrase(&t.stems))
                    || state.near.iter().any(|p| name.has_phrase(p))
            });
            if !cooked || !r.core.iter().all(|w| name.has_outside_clause(&w.stem)) {
                None
            } else if headed && r.core.iter().all(|w| name.identity.contains(&w.stem)) {
                Some(NAMED_WHOLE)
            } else {
                Some(CONFIDENT_MATCH)
            }
        })
        .reduce(f64::max)
}

/// Whether the query names the product's brand: a word of its brand field, or a brand the name
/// writes in capitals ([`names_a_brand`]).
fn brand_named(
    query: &Query,
    query_stems: &BTreeSet<String>,
    analysis: &Analysis,
    food_words: &HashSet<&str>,
    vocabulary: &Vocabulary,
) -> bool {
    let head = query.own.last().map(|w| w.stem.as_str());
    analysis.brand_words.iter().any(|w| query_stems.contains(w))
        || names_a_brand(query_stems, head, analysis, food_words, vocabulary)
}

/// Whether the query names a brand the name writes in capitals: all the words of one of its brands
/// ("mcdonalds", "pizza hut"), or a brand word that is nothing else — not a word of the name outside
/// its brands ("pizza" in "PIZZA HUT 14\" Cheese Pizza" names the food) and not a food the vocabulary
/// knows ("burger" in "BURGER KING, Cheeseburger" names a hamburger) or another result has outside a
/// brand (`food_words`: "cherry" of "Cherries, sweet, raw"), nor the query's head noun
/// when it is the name's ("rice" in "Cereals ready-to-eat, RALSTON CRISP RICE" is the food asked for,
/// not the brand).
fn names_a_brand(
    query_stems: &BTreeSet<String>,
    query_head: Option<&str>,
    analysis: &Analysis,
    food_words: &HashSet<&str>,
    vocabulary: &Vocabulary,
) -> bool {
    let is_food = |w: &String| {
        analysis.other_stems.contains(w)
            || food_words.contains(w.as_str())
            || (query_head == Some(w.as_str()) && analysis.name.heads.contains(w))
            || vocabulary.is_alias_word(w)
    };
    analysis.brand_runs.iter().any(|run| {
        run.iter().all(|w| query_stems.contains(w))
            || run.iter().any(|w| query_stems.contains(w) && !is_food(w))
    })
}

fn is_branded(food: &FoodSummary, analysis: &Analysis) -> bool {
    food.brand.is_some()
        || food.data_type.as_deref() == Some("Branded")
        || !analysis.brand_runs.is_empty()
}

/// Generic words are best answered by USDA's analysed foods, brands by Open Food Facts.
fn data_type_bonus(food: &FoodSummary, brand_named: bool) -> f64 {
    if brand_named {
        return if food.source == Source::Openfoodfacts {
            0.015
        } else {
            0.0
        };
    }
    match data_type_priority(food) {
        0 => 0.015,
        1 => 0.01,
        2 => 0.005,
        _ => 0.0,
    }
}

/// Foundation, SR Legacy, Survey (FNDDS), then everything else; lower is preferred.
fn data_type_priority(food: &FoodSummary) -> u8 {
    match food.data_type.as_deref() {
        Some("Foundation") => 0,
        Some("SR Legacy") => 1,
        Some(t) if t.starts_with("Survey") => 2,
        _ => 3,
    }
}

/// Lower is preferred when two results tie.
fn source_priority(source: Source) -> u8 {
    match source {
        Source::Custom => 0,
        Source::Usda => 1,
        Source::Openfoodfacts => 2,
    }
}

/// Drops results that name the same food: same brand (or both none) and the same words, or
/// nearly (Jaccard ≥ 0.9). The owner's custom food always survives — it is their own entry for
/// that food; otherwise the higher score survives, USDA before Open Food Facts on ties. The
/// survivor keeps the first duplicate's place.
///
/// Candidates are found by prefix filtering: order every name's words rarest first; two sets this
/// similar then share a word among the first few of each, so a long list is not compared pairwise.
fn dedupe(results: Vec<(RankedFood, &Analysis)>) -> Vec<RankedFood> {
    let mut frequency: HashMap<&str, usize> = HashMap::new();
    for word in results.iter().flat_map(|(_, a)| &a.name_words) {
        *frequency.entry(word).or_default() += 1;
    }
    let prefixes: Vec<Vec<&str>> = results
        .iter()
        .map(|(_, a)| {
            let mut words: Vec<&str> = a.name_words.iter().map(String::as_str).collect();
            words.sort_by_cached_key(|w| (frequency.get(w).copied().unwrap_or(0), *w));
            words.truncate(prefix_len(a.name_words.len()));
            words
        })
        .collect();

    let mut kept: Vec<(RankedFood, &Words)> = Vec::new();
    let mut brands: HashMap<&Words, usize> = HashMap::new();
    let mut by_prefix: HashMap<(usize, &str), Vec<usize>> = HashMap::new();
    let mut empty_names: HashMap<usize, usize> = HashMap::new();
    for ((result, analysis), prefix) in results.into_iter().zip(prefixes) {
        let name = &analysis.name_words;
        let next_brand = brands.len();
        let brand_id = *brands.entry(&analysis.brand_words).or_insert(next_brand);
        let duplicate = if name.is_empty() {
            empty_names.get(&brand_id).copied()
        } else {
            prefix
                .iter()
                .filter_map(|w| by_prefix.get(&(brand_id, *w)))
                .flatten()
                .copied()
                .find(|&i| near_duplicate(kept[i].1, name))
        };
        match duplicate {
            Some(i) => {
                if better(&result, &kept[i].0) {
                    kept[i].0 = result;
                }
            }
            None => {
                let index = kept.len();
                if name.is_empty() {
                    empty_names.insert(brand_id, index);
                }
                for w in prefix {
                    by_prefix.entry((brand_id, w)).or_default().push(index);
                }
                kept.push((result, name));
            }
        }
    }
    kept.into_iter().map(|(r, _)| r).collect()
}

/// How many of a set's (rarest-first) words must be indexed so that any set at least
/// [`DUPLICATE_JACCARD`]-similar shares one of them: n − ⌈0.9·n⌉ + 1.
fn prefix_len(n: usize) -> usize {
    let (num, den) = DUPLICATE_JACCARD;
    n - (num * n).div_ceil(den) + 1
}

fn near_duplicate(a: &Words, b: &Words) -> bool {
    let (num, den) = DUPLICATE_JACCARD;
    let shared = a.intersection(b).count();
    let all = a.len() + b.len() - shared;
    shared * den >= all * num
}

fn better(candidate: &RankedFood, incumbent: &RankedFood) -> bool {
    let custom = |r: &RankedFood| r.food.source == Source::Custom;
    if custom(candidate) != custom(incumbent) {
        return custom(candidate);
    }
    match candidate.match_score.total_cmp(&incumbent.match_score) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            source_priority(candidate.food.source) < source_priority(incumbent.food.source)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(source: Source, id: &str, name: &str, brand: Option<&str>) -> FoodSummary {
        FoodSummary {
            id: id.into(),
            source,
            name: name.into(),
            brand: brand.map(Into::into),
            category: None,
            data_type: None,
            calories_per_100g: None,
            analysis: Default::default(),
            household_measures: 0,
        }
    }

    fn usda(id: &str, name: &str) -> FoodSummary {
        summary(Source::Usda, id, name, None)
    }

    fn names(ranked: &[RankedFood]) -> Vec<&str> {
        ranked.iter().map(|r| r.food.name.as_str()).collect()
    }

    fn ids(ranked: &[RankedFood]) -> Vec<&str> {
        ranked.iter().map(|r| r.food.id.as_str()).collect()
    }

    #[test]
    fn normalize_folds_drops_stop_words_and_stems() {
        assert_eq!(normalize("Bananas, raw"), "banana raw");
        assert_eq!(normalize("  BANANA   raw!! "), "banana raw");
        assert_eq!(
            normalize("Peaches, canned, in heavy syrup"),
            normalize("peach can heavy syrup")
        );
        assert_eq!(normalize("cookies"), normalize("cookie"));
        assert_eq!(normalize("Jalapeño"), "jalapeno");
        assert_eq!(normalize(",,, !!"), "");
    }

    #[test]
    fn the_food_named_scores_high_and_unrelated_zero() {
        assert_eq!(match_score("banana", "Bananas, raw", None), 1.0);
        assert_eq!(match_score("raw bananas", "Bananas, raw", None), 1.0);
        assert_eq!(match_score("banana", "Apples, raw, with skin", None), 0.0);
        assert_eq!(match_score("", "Bananas, raw", None), 0.0);
        assert_eq!(match_score("banana", "", None), 0.0);
        for (q, n) in [("x", "x, x, x"), ("1 2 3", "1 2 3"), ("a", ", , ,")] {
            assert!((0.0..=1.0).contains(&match_score(q, n, None)));
        }
    }

    #[test]
    fn the_head_noun_decides_and_word_order_breaks_ties() {
        let raw = match_score("banana", "Bananas, raw", None);
        let bread = match_score("banana", "Bread, banana", None);
        assert!(
            raw >= 0.8 && (0.5..CONFIDENT_MATCH).contains(&bread),
            "{raw} {bread}"
        );
        let drink = match_score(
            "chocolate milk",
            "Milk, chocolate, fluid, commercial, whole",
            None,
        );
        let candy = match_score("chocolate milk", "Candies, milk chocolate", None);
        assert!(drink > candy, "{drink} {candy}");
        let candy = match_score("milk chocolate", "Candies, milk chocolate", None);
        let drink = match_score(
            "milk chocolate",
            "Milk, chocolate, fluid, commercial, whole",
            None,
        );
        assert!(candy > drink, "{candy} {drink}");
        assert!(
            match_score("almonds", "Nuts, almonds", None) >= 0.95,
            "class prefix"
        );
        assert!(
            match_score("egg", "Pasta, homemade, made with egg, cooked", None) < CONFIDENT_MATCH
        );
    }

    #[test]
    fn a_missing_query_word_is_never_confident() {
        assert!(match_score("saffron risotto", "Spices, saffron", None) < 0.5);
        assert_eq!(
            match_score(
                "saffron risotto",
                "Rice, white, long-grain, regular, raw",
                None
            ),
            0.0
        );
        assert!(
            match_score("cheese", "BURGER KING, WHOPPER, no cheese", None) < 0.5,
            "negated"
        );
        let ranked = rank(
            "saffron risotto",
            vec![usda("1", "Spices, saffron"), usda("2", "Rice, white")],
        );
        assert!(no_confident_match(&ranked));
        assert!(no_confident_match(&[]));
    }

    #[test]
    fn typos_and_joined_or_split_words_are_respelled_from_the_results() {
        let typo = match_score("brocoli", "Broccoli, raw", None);
        assert!((CONFIDENT_MATCH..0.9).contains(&typo), "{typo}");
        assert!(match_score("icecream", "Ice creams, vanilla", None) >= 0.8);
        assert!(match_score("flax seeds", "Seeds, flaxseed", None) >= CONFIDENT_MATCH);
        assert!(match_score("straw berries", "Strawberries, raw", None) >= 0.8);
        assert!(match_score("mochi", "Beverages, coffee, mocha", None) < 0.5);
        // A near spelling of a stem is that stem, not stemmed again.
        for query in ["mayonaise", "mayonnaisse"] {
            let score = match_score(query, "Salad dressing, mayonnaise, regular", None);
            assert!(score >= CONFIDENT_MATCH, "{query}: {score}");
        }
        // The nearest spelling as written, however common a near spelling of its stem; one mistake
        // before two words run together; a vocabulary word is a word though no result has it.
        for (query, first) in [
            ("parsely", "Parsley, fresh"),
            ("cheescake", "Cheesecake commercially prepared"),
            ("garbonzo beans", "Chickpeas, mature seeds, raw"),
        ] {
            let ranked = rank(
                query,
                vec![
                    usda("1", "Turkey, retail parts, wing, meat only, raw"),
                    usda("2", "Turkey, retail parts, breast, meat only, raw"),
                    usda("3", "Parsley, fresh"),
                    usda("4", "Cheesecake commercially prepared"),
                    usda("5", "Cheese, cheddar"),
                    usda("6", "Chickpeas, mature seeds, raw"),
                ],
            );
            assert_eq!(ranked[0].food.name, first, "{query}: {ranked:?}");
        }
        // A word some result has is a real word, not a typo of another result's.
        let ranked = rank(
            "pear",
            vec![usda("1", "Peas, green, raw"), usda("2", "Pears, raw")],
        );
        assert_eq!(ids(&ranked), ["2", "1"]);
        assert!(ranked[1].match_score < 0.5, "{}", ranked[1].match_score);
    }

    #[test]
    fn vocabulary_readings_find_what_sr_calls_something_else() {
        let aubergine = match_score("aubergine", "Eggplant, raw", None);
        assert!(aubergine >= 0.9, "{aubergine}");
        assert!(
            match_score(
                "courgette",
                "Squash, summer, zucchini, includes skin, raw",
                None
            ) >= 0.8
        );
        assert!(
            match_score(
                "garbanzo beans",
                "Chickpeas (garbanzo beans, bengal gram), mature seeds, raw",
                None
            ) >= 0.8
        );
        assert!(match_score("mayo", "Salad dressing, mayonnaise, regular", None) >= 0.8);
        // The query's own words still count: a saved "aubergine dip" beats the alias reading.
        let own = match_score("aubergine", "Aubergine", None);
        assert!(own > aubergine, "{own} {aubergine}");
    }

    #[test]
    fn cooking_states_meet_sr_words_and_cost_little_when_missing() {
        let boiled = match_score(
            "steamed broccoli",
            "Broccoli, cooked, boiled, drained, without salt",
            None,
        );
        let raw = match_score("steamed broccoli", "Broccoli, raw", None);
        assert!(boiled > raw && boiled >= 0.9, "{boiled} {raw}");
        assert!(
            raw >= 0.5,
            "an unmet cooking word is not a missing word: {raw}"
        );
        let poached = match_score("poached egg", "Egg, whole, cooked, poached", None);
        assert!(poached >= 0.95, "{poached}");
        let grilled = match_score(
            "grilled salmon",
            "Fish, salmon, Atlantic, farmed, cooked, dry heat",
            None,
        );
        assert!(
            grilled
                > match_score(
                    "grilled salmon",
                    "Fish, salmon, Atlantic, farmed, raw",
                    None
                )
        );
        assert!(match_score("french fries", "Artichokes, (globe or french), raw", None) < 0.5);
    }

    #[test]
    fn plain_foods_come_before_forms_the_query_did_not_name() {
        let results = vec![
            usda("1", "Bananas, dehydrated, or banana powder"),
            usda("2", "Bread, banana"),
            usda("3", "Bananas, raw"),
            usda("4", "Babyfood, fruit, bananas with tapioca, strained"),
        ];
        let ranked = rank("banana", results.clone());
        assert_eq!(ranked[0].food.name, "Bananas, raw");
        assert!(
            ranked[1..].iter().all(|r| r.match_score < 0.8),
            "{ranked:?}"
        );
        assert_eq!(rank("dehydrated banana", results)[0].food.id, "1");
        let ranked = rank(
            "jello",
            vec![
                usda("1", "Gelatin desserts, dry mix"),
                usda("2", "Gelatin desserts, dry mix, prepared with water"),
            ],
        );
        assert_eq!(ids(&ranked)[0], "2", "a dish as eaten, not as sold");
        let ranked = rank(
            "cottage cheese",
            vec![
                usda("1", "Cheese, cottage, with vegetables"),
                usda("2", "Cheese, cottage, creamed, large or small curd"),
            ],
        );
        assert_eq!(ids(&ranked), ["2", "1"]);
        let ranked = rank(
            "oats",
            vec![
                usda("1", "Cereals, QUAKER, Quick Oats, Dry"),
                usda("2", "Cereals, oats, regular and quick, not fortified, dry"),
            ],
        );
        assert_eq!(
            ids(&ranked),
            ["2", "1"],
            "brand products after the generic food"
        );
    }

    #[test]
    fn a_kind_filed_under_its_class_is_the_food_when_no_result_is_it_alone() {
        let ranked = rank(
            "naan",
            vec![
                usda(
                    "1",
                    "Bread, naan, plain, commercially prepared, refrigerated",
                ),
                usda("2", "Bread, white, commercially prepared"),
            ],
        );
        assert_eq!(ids(&ranked)[0], "1");
        assert!(ranked[0].match_score >= 0.8, "{}", ranked[0].match_score);
        let ranked = rank("omelette", vec![usda("1", "Egg, whole, cooked, omelet")]);
        assert!(ranked[0].match_score >= 0.8, "{}", ranked[0].match_score);
        // The word is another result's head: that result is the food, this one a related dish.
        let ranked = rank(
            "banana",
            vec![usda("1", "Bread, banana"), usda("2", "Bananas, raw")],
        );
        assert_eq!(ids(&ranked), ["2", "1"]);
        assert!(
            ranked[1].match_score < CONFIDENT_MATCH,
            "{}",
            ranked[1].match_score
        );
        // Every query word must still be there.
        let ranked = rank("garlic naan", vec![usda("1", "Bread, naan, plain")]);
        assert!(ranked[0].match_score < 0.5, "{}", ranked[0].match_score);
    }

    #[test]
    fn a_whole_qualifier_segment_names_the_food_filed_under_a_class_noun() {
        let ranked = rank(
            "honey mustard",
            vec![
                usda("1", "Mustard, prepared, yellow"),
                usda("2", "Salad dressing, honey mustard, regular"),
            ],
        );
        assert_eq!(ids(&ranked)[0], "2");
        assert!(ranked[0].match_score >= 0.8, "{}", ranked[0].match_score);
        let ranked = rank(
            "vegetable broth",
            vec![usda("1", "Soup, vegetable broth, ready to serve")],
        );
        assert!(
            ranked[0].match_score >= CONFIDENT_MATCH,
            "{}",
            ranked[0].match_score
        );
        // Not when another result is that food under its own head.
        let ranked = rank(
            "peanut butter",
            vec![
                usda(
                    "1",
                    "Cookies, peanut butter, commercially prepared, regular",
                ),
                usda("2", "Peanut butter, smooth style, without salt"),
            ],
        );
        assert_eq!(ids(&ranked)[0], "2");
        // A name scored alone keeps the conservative reading.
        assert!(
            match_score(
                "honey mustard",
                "Salad dressing, honey mustard, regular",
                None
            ) < 0.7
        );
    }

    #[test]
    fn a_form_every_result_naming_the_food_has_costs_nothing() {
        let ranked = rank(
            "gelatin",
            vec![
                usda("1", "Gelatins, dry powder, unsweetened"),
                usda("2", "Gelatin desserts, dry mix"),
            ],
        );
        assert_eq!(ids(&ranked)[0], "1");
        assert!(ranked[0].match_score >= 0.8, "{}", ranked[0].match_score);
        let ranked = rank(
            "sardines",
            vec![
                usda(
                    "1",
                    "Fish, sardine, Atlantic, canned in oil, drained solids with bone",
                ),
                usda(
                    "2",
                    "Fish, sardine, Pacific, canned in tomato sauce, drained solids with bone",
                ),
            ],
        );
        assert!(
            ranked[0].match_score >= CONFIDENT_MATCH,
            "{}",
            ranked[0].match_score
        );
        // A form some result lacks still costs.
        let ranked = rank(
            "banana",
            vec![
                usda("1", "Bananas, dehydrated, or banana powder"),
                usda("2", "Bananas, raw"),
            ],
        );
        assert_eq!(ids(&ranked), ["2", "1"]);
        assert!(ranked[1].match_score < 0.8, "{}", ranked[1].match_score);
        // A restaurant's version is never the only form: the generic dish may have another head.
        let ranked = rank(
            "french fries",
            vec![
                usda("1", "Restaurant, family style, french fries"),
                usda(
                    "2",
                    "Potatoes, french fried, all types, salt not added in processing, frozen, oven-heated",
                ),
            ],
        );
        assert_eq!(ids(&ranked)[0], "2");
    }

    #[test]
    fn dry_in_a_cooking_method_is_no_dry_mix() {
        let ranked = rank(
            "roasted peanuts",
            vec![
                usda("1", "Peanuts, all types, cooked, boiled, with salt"),
                usda("2", "Peanuts, all types, dry-roasted, without salt"),
            ],
        );
        assert_eq!(ids(&ranked)[0], "2");
    }

    #[test]
    fn words_the_query_puts_after_with_are_found_in_full_in_a_clause() {
        let ranked = rank(
            "spaghetti with meat sauce",
            vec![usda("1", "Spaghetti with meat sauce, frozen entree")],
        );
        assert!(
            ranked[0].match_score >= CONFIDENT_MATCH,
            "{}",
            ranked[0].match_score
        );
        // Without "with" in the query, a clause word is still only partly found.
        assert!(
            match_score("egg salad", "Potato salad with egg", None)
                < match_score("potato salad", "Potato salad with egg", None)
        );
    }

    #[test]
    fn a_first_result_whose_own_segment_is_the_whole_query_is_the_food_named() {
        // "powder" and "frozen concentrate" are forms the query did not name: they still order
        // the results, but the first is the lemonade asked for.
        let ranked = rank(
            "lemonade",
            vec![
                usda("1", "Beverages, Lemonade, powder"),
                usda("2", "Beverages, lemonade, frozen concentrate, pink"),
            ],
        );
        assert_eq!(ids(&ranked)[0], "1");
        assert!(ranked[0].match_score >= 0.8, "{}", ranked[0].match_score);
        assert!(ranked[1].match_score < ranked[0].match_score);
        // Every query word elsewhere in the name, outside clauses: very likely it.
        let tahini = rank("tahini", vec![usda("1", "Seeds, sesame butter, tahini")]);
        assert!(
            (CONFIDENT_MATCH..0.8).contains(&tahini[0].match_score),
            "{}",
            tahini[0].match_score
        );
        // Or every word of a vocabulary reading ("instant noodles" read as ramen noodle soup).
        let ramen = rank(
            "instant noodles",
            vec![usda("1", "Soup, ramen noodle, any flavor, dry")],
        );
        assert!(
            ramen[0].match_score >= CONFIDENT_MATCH,
            "{}",
            ramen[0].match_score
        );
        // Not when a cooking state or a query word is missing.
        let grilled = rank(
            "grilled cheese sandwich",
            vec![usda(
                "1",
                "Fast foods, submarine sandwich, steak and cheese on white bread",
            )],
        );
        assert!(
            grilled[0].match_score < CONFIDENT_MATCH,
            "{}",
            grilled[0].match_score
        );
        let scotch = rank("scotch egg", vec![usda("1", "Egg, whole, raw, fresh")]);
        assert!(scotch[0].match_score < 0.5, "{}", scotch[0].match_score);
    }

    #[test]
    fn a_name_including_the_food_is_it_when_no_result_has_it_as_head() {
        let ranked = rank(
            "sourdough",
            vec![
                usda("1", "Bread, french or vienna (includes sourdough)"),
                usda("2", "Bread, white, commercially prepared"),
            ],
        );
        assert_eq!(ids(&ranked)[0], "1");
        assert!(ranked[0].match_score >= 0.8, "{}", ranked[0].match_score);
    }

    #[test]
    fn a_dish_named_by_its_topping_is_no_topping_sold_alone() {
        let ranked = rank(
            "cheese pizza",
            vec![
                usda("1", "PIZZA HUT 14\" Cheese Pizza, Pan Crust"),
                usda("2", "Pizza, cheese topping, regular crust, frozen, cooked"),
            ],
        );
        assert_eq!(
            ids(&ranked),
            ["2", "1"],
            "the generic dish before a chain's"
        );
        assert!(match_score("strawberry", "Toppings, strawberry", None) < CONFIDENT_MATCH);
    }

    #[test]
    fn another_food_of_the_same_kind_is_not_confident() {
        // "griddle cake" are the food's own words, which the query does not name.
        let other = match_score(
            "grilled cheese sandwich",
            "Fast foods, griddle cake sandwich, egg, cheese, and sausage",
            None,
        );
        assert!(other < CONFIDENT_MATCH, "{other}");
        // Last after a food, "bowl" is the dish; elsewhere it is only a shape.
        let core = |q: &str| -> Vec<String> {
            Query::parse(q, vocabulary()).readings[0]
                .core
                .iter()
                .map(|w| w.surface.clone())
                .collect()
        };
        assert_eq!(core("poke bowl"), ["poke", "bowl"]);
        assert_eq!(core("bowl of rice"), ["rice"]);
        assert!(match_score("poke bowl", "Pokeberry shoots, (poke), raw", None) < 0.5);
    }

    #[test]
    fn a_modifier_naming_the_ordinary_form_costs_little() {
        // SR's granulated sugar is white sugar, its Jams and preserves the strawberry jam.
        let sugar = match_score("white sugar", "Sugars, granulated", None);
        assert!(sugar >= 0.8, "{sugar}");
        assert!(match_score("strawberry jam", "Jams and preserves", None) >= 0.8);
        assert!(match_score("unsalted almonds", "Nuts, almonds", None) >= 0.8);
        // A name having the modifier still comes first.
        let ranked = rank(
            "tomato ketchup",
            vec![usda("1", "Catsup"), usda("2", "Catsup, tomato, low sodium")],
        );
        assert!(ranked.iter().all(|r| r.match_score >= CONFIDENT_MATCH));
        // Only the ordinary form: another modifier is still a missing word.
        assert!(match_score("brown sugar", "Sugars, granulated", None) < 0.5);
        assert!(match_score("scotch egg", "Egg, whole, raw, fresh", None) < 0.5);
        assert!(match_score("strawberry", "Jams and preserves", None) < 0.5);
    }

    #[test]
    fn the_default_variety_wins_through_its_vocabulary_reading() {
        // The alias is written in SR's order: its first word is no less the head for it.
        let cheddar = match_score("cheese", "Cheese, cheddar", None);
        let fontina = match_score("cheese", "Cheese, fontina", None);
        assert!(cheddar > fontina, "{cheddar} {fontina}");
        let ranked = rank(
            "peas",
            vec![
                usda("1", "Peas, edible-podded, raw"),
                usda("2", "Peas, green, raw"),
            ],
        );
        assert_eq!(ids(&ranked), ["2", "1"]);
        // A replacement keeping the query's words names a variety: it is read at full weight, so
        // the default variety wins over another read through the query's own words.
        let ranked = rank(
            "sausages",
            vec![
                usda("1", "Sausage, turkey, fresh, raw"),
                usda("2", "Pork sausage, link/patty, cooked, pan-fried"),
            ],
        );
        assert_eq!(ids(&ranked), ["2", "1"]);
        let v = vocabulary();
        let factors: Vec<f64> = Query::parse("aubergine", v)
            .readings
            .iter()
            .map(|r| r.factor)
            .collect();
        assert_eq!(
            factors,
            [1.0, ALIAS_FACTOR],
            "a translation still counts 0.97"
        );
        let ranked = rank(
            "rice",
            vec![
                usda("1", "Wild rice, raw"),
                usda("2", "Rice, white, long-grain, regular, raw, enriched"),
            ],
        );
        assert_eq!(ids(&ranked), ["2", "1"]);
    }

    #[test]
    fn a_brand_is_named_by_its_own_words_not_by_the_food_in_it() {
        let v = vocabulary();
        let names = |query: &str, name: &str| {
            let stems = tokens(query);
            let set: BTreeSet<String> = stems.iter().cloned().collect();
            let none = HashSet::new();
            names_a_brand(
                &set,
                stems.last().map(String::as_str),
                &Analysis::new(name, None),
                &none,
                v,
            )
        };
        let pizza = "PIZZA HUT 14\" Cheese Pizza, Pan Crust";
        assert!(names("pizza hut", pizza));
        assert!(!names("cheese pizza", pizza));
        let burger = "BURGER KING, Cheeseburger";
        assert!(!names("cheese burger", burger));
        assert!(names("burger king cheeseburger", burger));
        let velveeta = "KRAFT VELVEETA LIGHT Reduced Fat Pasteurized Process Cheese Product";
        assert!(names("velveeta", velveeta));
        // The query's head noun that is the name's head is the food, not the brand.
        let rice = "Cereals ready-to-eat, RALSTON CRISP RICE";
        assert!(!names("rice", rice) && !names("steamed rice", rice));
        assert!(names("ralston crisp rice", rice));
        let ranked = rank(
            "rice",
            vec![
                usda("1", rice),
                usda("2", "Rice, white, long-grain, regular, raw"),
            ],
        );
        assert_eq!(ids(&ranked), ["2", "1"]);
        // A word another result has outside a brand is a food word, not the brand's name.
        let ranked = rank(
            "cherries",
            vec![
                usda("1", "Candies, TWIZZLERS CHERRY BITES"),
                usda("2", "Cherries, sweet, raw"),
            ],
        );
        assert_eq!(ids(&ranked), ["2", "1"]);
        // A brand the query names is the food it means.
        for (query, name) in [
            ("tabasco", "Sauce, ready-to-serve, pepper, TABASCO"),
            ("chobani", "Yogurt, Greek, whole, plain, CHOBANI"),
            ("bud light", "Alcoholic beverage, beer, light, BUD LIGHT"),
        ] {
            let score = match_score(query, name, None);
            assert!(score >= 0.8, "{query}: {score}");
        }
        let ranked = rank(
            "cheese burger",
            vec![
                usda("1", burger),
                usda(
                    "2",
                    "Fast foods, cheeseburger; single, regular patty; plain",
                ),
            ],
        );
        assert_eq!(
            ids(&ranked),
            ["2", "1"],
            "the generic food before a chain's"
        );
    }

    #[test]
    fn a_product_named_by_its_brand_pays_half_for_its_kind_words() {
        let named = match_score(
            "velveeta",
            "KRAFT VELVEETA Pasteurized Process Cheese Spread",
            None,
        );
        assert!(named >= CONFIDENT_MATCH, "{named}");
        // Its kind words still tell the brand's products apart.
        let light = match_score(
            "velveeta",
            "KRAFT VELVEETA LIGHT Reduced Fat Pasteurized Process Cheese Product",
            None,
        );
        assert!(light < named, "{light} {named}");
    }

    #[test]
    fn a_food_named_by_a_synonym_is_the_kind_its_head_says() {
        // Ghee is a butter: "butter" is no processed form of it.
        let ghee = match_score("ghee", "Butter, Clarified butter (ghee)", None);
        assert!(ghee >= 0.8, "{ghee}");
        assert!(match_score("lox", "Fish, salmon, chinook, smoked, (lox), regular", None) >= 0.7);
        // A class prefix is no part of the food: "Seeds, …" is not the seeds of a food.
        let v = vocabulary();
        let reading = &Query::parse("sesame", v).readings[0];
        let (_, penalized) = form_penalty(
            reading,
            &Name::analyse("Seeds, sesame flour", v),
            false,
            &BTreeSet::new(),
            v,
        );
        assert!(!penalized.contains("seed"), "{penalized:?}");
        let (_, penalized) = form_penalty(
            reading,
            &Name::analyse("Pumpkin, seeds", v),
            false,
            &BTreeSet::new(),
            v,
        );
        assert!(penalized.contains("seed"), "{penalized:?}");
    }

    #[test]
    fn custom_foods_come_first_then_score_then_usda_before_off() {
        let results = vec![
            summary(Source::Openfoodfacts, "3017", "Banana", Some("Chiquita")),
            usda("173944", "Bananas, raw"),
            summary(Source::Custom, "custom:1", "Smoothie, banana oat", None),
            summary(Source::Openfoodfacts, "3018", "Bananas, raw", Some("Dole")),
        ];
        let ranked = rank("banana", results.clone());
        assert_eq!(ids(&ranked), ["custom:1", "173944", "3017", "3018"]);
        assert_eq!(ranked[1].match_score, 1.0);
        let ranked = rank("chiquita banana", results);
        assert_eq!(ids(&ranked)[..2], ["custom:1", "3017"]);
        assert!(ranked[1].match_score > 0.8, "{}", ranked[1].match_score);
        assert!(ranked[2].match_score < 0.5, "{}", ranked[2].match_score);
        let typed = |id: &str, name: &str, data_type: &str| FoodSummary {
            data_type: Some(data_type.into()),
            ..usda(id, name)
        };
        let ranked = rank(
            "banana",
            vec![
                summary(Source::Openfoodfacts, "off", "Bananas, plain", None),
                typed("survey", "Bananas, ripe", "Survey (FNDDS)"),
                typed("sr", "Bananas, raw", "SR Legacy"),
                typed("foundation", "Bananas, fresh", "Foundation"),
            ],
        );
        assert_eq!(ids(&ranked), ["foundation", "sr", "survey", "off"]);
    }

    #[test]
    fn recall_lists_the_readings_for_the_catalog() {
        let readings = recall("grilled aubergine");
        assert_eq!(readings[0].required, ["aubergine"]);
        assert!(readings[0].cooking.contains(&"broil".to_string()));
        assert!(readings.iter().any(|r| r.required == ["eggplant"]));
        assert!(recall(",,,").is_empty());
        assert_eq!(
            index_words("Rolls, hot-dog, of the day"),
            [
                ("rolls".to_string(), "roll".to_string()),
                ("hot".to_string(), "hot".to_string()),
                ("dog".to_string(), "dog".to_string()),
                ("day".to_string(), "day".to_string()),
            ]
        );
        assert_eq!(spelling_rank("Brocoli", "broccoli", "broccoli"), Some(0));
    }

    #[test]
    fn duplicates_across_sources_keep_the_best() {
        let results = vec![
            summary(Source::Openfoodfacts, "off", "Bananas raw", None),
            usda("usda", "Bananas, raw"),
            summary(Source::Openfoodfacts, "dole", "Bananas, raw", Some("Dole")),
        ];
        // Same words, no brand: USDA scores higher (its head noun is banana) and survives in the
        // first one's place; the branded product is another food.
        assert_eq!(ids(&rank("banana", results)), ["usda", "dole"]);

        // Equal scores: USDA wins over Open Food Facts whichever comes first.
        let results = vec![
            summary(Source::Openfoodfacts, "off", "Bananas, raw", None),
            usda("usda", "bananas,  Raw"),
        ];
        assert_eq!(ids(&rank("banana", results)), ["usda"]);

        // The owner's custom entry survives even when a public one scores higher.
        let results = vec![
            usda("usda", "Bananas, raw"),
            summary(Source::Custom, "custom:1", "raw bananas", None),
        ];
        assert_eq!(ids(&rank("banana", results)), ["custom:1"]);

        // Brand must match (case and punctuation aside).
        let results = vec![
            summary(Source::Openfoodfacts, "a", "Bananas", Some("Dole")),
            summary(Source::Openfoodfacts, "b", "Bananas", Some("Chiquita")),
            summary(Source::Openfoodfacts, "c", "Bananas", Some("DOLE")),
        ];
        assert_eq!(ids(&rank("banana", results)), ["a", "b"]);
    }

    #[test]
    fn long_names_differing_in_one_word_of_ten_are_duplicates() {
        let a = "Cereal, granola, oats, honey, almonds, raisins, dates, cranberries, flax, chia";
        let b = "Cereal, granola, oats, honey, almonds, raisins, dates, cranberries, flax";
        let c = "Cereal, granola, oats, honey, almonds, raisins, dates, cranberries";
        assert_eq!(rank("granola", vec![usda("a", a), usda("b", b)]).len(), 1);
        assert_eq!(rank("granola", vec![usda("a", a), usda("c", c)]).len(), 2);
        let results = vec![usda("1", "Milk, whole"), usda("2", "Milk, whole, dry")];
        assert_eq!(rank("milk", results).len(), 2);
    }

    #[test]
    fn prefix_filter_is_exact() {
        assert_eq!(prefix_len(0), 1);
        assert_eq!(prefix_len(1), 1);
        assert_eq!(prefix_len(9), 1);
        assert_eq!(prefix_len(10), 2);
        assert_eq!(prefix_len(20), 3);
        let set = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Words>();
        let nine = set(&["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
        let ten = set(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
        assert!(near_duplicate(&nine, &ten));
        assert!(!near_duplicate(&nine, &set(&["a", "b", "c"])));
        assert!(near_duplicate(&Words::new(), &Words::new()));
    }

    #[test]
    fn rank_serializes_flat_with_match_score() {
        let ranked = rank("banana", vec![usda("173944", "Bananas, raw")]);
        let json = serde_json::to_value(&ranked[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": "173944", "source": "usda", "name": "Bananas, raw", "matchScore": 1.0
            })
        );
        let schema = serde_json::to_value(schemars::schema_for!(RankedFood)).unwrap();
        assert!(schema["properties"]["matchScore"].is_object());
        assert!(schema["properties"]["name"].is_object());
    }

    #[test]
    fn rank_of_nothing_is_empty() {
        assert!(rank("banana", Vec::new()).is_empty());
        let ranked = rank(
            "",
            vec![
                usda("1", "Bananas, raw"),
                usda("2", "!!!"),
                usda("3", "..."),
            ],
        );
        assert_eq!(ids(&ranked), ["1", "2"], "names without words are one food");
        assert_eq!(ranked[0].match_score, 0.0);
    }

    #[test]
    fn a_word_only_in_the_clause_of_another_kind_is_no_confident_match() {
        let other_kind = match_score("egg salad", "Potato salad with egg", None);
        assert!((0.5..CONFIDENT_MATCH).contains(&other_kind), "{other_kind}");
        // Without a kind of its own, the clause still says what the dish is.
        let same = match_score(
            "spaghetti with meat sauce",
            "Spaghetti with meat sauce, frozen entree",
            None,
        );
        assert!(same >= CONFIDENT_MATCH, "{same}");
    }

    #[test]
    fn among_near_equal_matches_the_food_measured_by_the_cup_comes_first() {
        let measured = |id: &str, name: &str, measures: usize| FoodSummary {
            household_measures: measures,
            ..usda(id, name)
        };
        let roll = measured("1", "Chicken breast, roll, oven-roasted", 1);
        let roasted = measured(
            "2",
            "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
            3,
        );
        let ranked = rank(
            "roasted chicken breast",
            vec![roll.clone(), roasted.clone()],
        );
        assert_eq!(ids(&ranked), ["2", "1"], "{ranked:?}");
        // The score shown is the match's own: the everyday form is no better a match.
        assert!(ranked[0].match_score < ranked[1].match_score, "{ranked:?}");
        let unmeasured = FoodSummary {
            household_measures: 0,
            ..roasted
        };
        assert_eq!(
            ids(&rank("roasted chicken breast", vec![roll, unmeasured])),
            ["1", "2"]
        );
        // A food that does not match the query gains nothing from being everyday.
        let ranked = rank(
            "pomegranate seeds",
            vec![
                measured("3", "Pomegranates, raw", 1),
                measured("4", "Seeds, flaxseed", 5),
            ],
        );
        assert_eq!(ids(&ranked)[0], "3", "{ranked:?}");
    }

    /// Ranking over the whole SR Legacy name list, when the shared data is present.
    /// Ranking over the whole SR Legacy name list, when the shared data is present.
    #[test]
    fn sr_legacy_top_results_are_the_plain_foods() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/usda-sr-legacy/sr_legacy/food.csv");
        let Ok(csv) = std::fs::read_to_string(&path) else {
            eprintln!("skipping: {} not found", path.display());
            return;
        };
        let foods: Vec<FoodSummary> = csv
            .lines()
            .skip(1)
            .filter_map(|line| {
                let fields: Vec<&str> = line.trim_matches('"').split("\",\"").collect();
                Some(usda(fields.first()?, fields.get(2)?))
            })
            .collect();
        assert!(foods.len() > 7000);
        for (query, expected) in [
            ("banana", "Bananas, raw"),
            ("bananas", "Bananas, raw"),
            (
                "whole milk",
                "Milk, whole, 3.25% milkfat, with added vitamin D",
            ),
            ("butter", "Butter, salted"),
            ("egg", "Egg, whole, raw, fresh"),
        ] {
            let ranked = rank(query, foods.clone());
            assert_eq!(
                ranked[0].food.name,
                expected,
                "{query}: {:?}",
                names(&ranked[..5])
            );
        }
        let ranked = rank("sugar", foods);
        assert!(names(&ranked[..3]).contains(&"Sugars, granulated"));
    }

    #[test]
    fn a_summary_is_analysed_once_and_its_clones_share_the_analysis() {
        let food = usda("1", "Bananas, raw");
        let copy = food.clone();
        assert!(!food.analysis.is_made(), "a new summary starts empty");
        let first = rank("banana", vec![copy]);
        assert!(food.analysis.is_made(), "made through the clone");
        let kept = analysis_of(&food);
        assert!(matches!(kept, std::borrow::Cow::Borrowed(_)));
        assert_eq!(kept.name.text, "Bananas, raw");
        assert_eq!(rank("banana", vec![food.clone()]), first);
        assert_eq!(
            summary_match_score("banana", &food),
            match_score("banana", "Bananas, raw", None)
        );
    }

    #[test]
    fn a_kept_analysis_is_neither_stored_nor_served_stale() {
        let mut food = summary(Source::Openfoodfacts, "1", "Bananas, raw", Some("Dole"));
        let fresh = serde_json::to_value(&food).unwrap();
        rank("banana", vec![food.clone()]);
        assert!(food.analysis.is_made());
        let stored = serde_json::to_value(&food).unwrap();
        assert_eq!(stored, fresh, "the analysis is not serialised");
        let read: FoodSummary = serde_json::from_value(stored).unwrap();
        assert!(!read.analysis.is_made(), "a read summary starts empty");
        assert_eq!(read, food);

        // The name and brand changed after the analysis was made: it is made again from them.
        food.name = "Apples, raw".into();
        assert_eq!(analysis_of(&food).name.text, "Apples, raw");
        food.brand = Some("Chiquita".into());
        let changed = analysis_of(&food);
        assert!(changed.brand_words.contains(&tokens("Chiquita")[0]));
        let renamed = summary(Source::Openfoodfacts, "1", "Apples, raw", Some("Chiquita"));
        assert_eq!(
            rank("apple", vec![food.clone()]),
            rank("apple", vec![renamed])
        );
    }
}
