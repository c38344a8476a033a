//! Search text normalization, match scoring, and ranking with de-duplication across sources.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::food::model::{FoodSummary, Source};

/// Words that carry no identity in food names ("Peaches, canned, in heavy syrup").
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "as", "by", "for", "in", "of", "or", "the", "to", "with",
];

/// Words naming a processed form. A name with one of them, when the query has none, ranks just
/// below the plain form: "banana" means the fruit before banana powder. Baby food, restaurant and
/// fast-food versions are variants in the same way.
const PROCESSING_WORDS: &[&str] = &[
    "babyfood",
    "candied",
    "canned",
    "concentrate",
    "concentrated",
    "dehydrated",
    "dried",
    "dry",
    "fast",
    "formula",
    "fermented",
    "fried",
    "frozen",
    "imitation",
    "instant",
    "meatless",
    "pickled",
    "powder",
    "powdered",
    "restaurant",
    "smoked",
    "substitute",
];

/// Score taken off a processed form the query did not ask for.
const PROCESSING_PENALTY: f64 = 0.1;

/// Words naming a prepared form. When the query names no way of preparing, the raw (basic) form
/// ranks first: "egg" is "Egg, whole, raw, fresh" before "Egg, whole, cooked, scrambled".
const PREPARED_WORDS: &[&str] = &[
    "baked",
    "boiled",
    "braised",
    "broiled",
    "cooked",
    "grilled",
    "heated",
    "microwaved",
    "poached",
    "roasted",
    "sauteed",
    "scrambled",
    "steamed",
    "stewed",
    "toasted",
];

/// Qualifiers USDA gives its default forms ("Tomatoes, red, ripe, raw, year round average",
/// "Bread, white, commercially prepared", "Chicken, broilers or fryers, breast"): they say the food
/// is the ordinary one, so a query need not cover them. They still count when a query has them.
const BASIC_WORDS: &[&str] = &[
    "added",
    "all",
    "average",
    "broiler",
    "calcium",
    "commercial",
    "commercially",
    "d",
    "enriched",
    "fluid",
    "fortified",
    "fresh",
    "fryer",
    "granulated",
    "plain",
    "prepared",
    "raw",
    "regular",
    "ripe",
    "round",
    "salt",
    "salted",
    "uncooked",
    "unenriched",
    "unprepared",
    "variety",
    "vitamin",
    "whole",
    "without",
    "year",
];

/// Score taken off a food with an addition the query did not name: "Cheese, cottage, with
/// vegetables" is not plain cottage cheese.
const ADDITION_PENALTY: f64 = 0.05;

/// Score taken off a prepared form when the query names no preparation.
const PREPARED_PENALTY: f64 = 0.03;

/// Score taken off a product whose brand the query does not name ("Cereals, QUAKER, Quick Oats"
/// for "oats"): the generic food comes first.
const BRANDED_PENALTY: f64 = 0.05;

/// USDA's category-first names: "Nuts, almonds" and "Fish, salmon, Atlantic" name almonds and
/// salmon, so for these first segments the head noun is taken from the second.
const CLASS_PREFIXES: &[&str] = &[
    "alcoholic beverage",
    "beverage",
    "candy",
    "cereal",
    "cheese",
    "crustacean",
    "fish",
    "game meat",
    "mollusk",
    "nut",
    "salad dressing",
    "seed",
    "snack",
    "spice",
];

/// Credit for a query word found only as a near spelling ("brocoli" for broccoli).
const TYPO_CREDIT: f64 = 0.8;

/// From this score on a result is taken to be the food the query names; see [`match_score`].
pub const CONFIDENT_MATCH: f64 = 0.7;

/// Two results with the same brand are the same food when their name words overlap at least this
/// much (Jaccard = shared / all words), as a ratio of integers so the test is exact: 9/10.
const DUPLICATE_JACCARD: (usize, usize) = (9, 10);

/// Weight of query words found in the result (recall), of the result's words the query covers
/// (precision), and of hitting the name's head noun. They sum to 1.
const RECALL_WEIGHT: f64 = 0.6;
const PRECISION_WEIGHT: f64 = 0.25;
const HEAD_WEIGHT: f64 = 0.15;

/// Canonical search text: lower case, punctuation and stop words dropped, plurals stemmed, words
/// in order — "Bananas, raw" → "banana raw". Use it for cache keys so that equivalent queries
/// share one entry.
pub fn normalize(text: &str) -> String {
    tokens(text).join(" ")
}

/// The words of a text as [`normalize`] sees them.
fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '’'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(stem)
        .collect()
}

/// Plural → singular by suffix rules, applied the same way to queries and names so both meet:
/// bananas → banana, berries → berry, tomatoes → tomato, peaches → peach. Words ending in "ie"
/// take the same "y" form (cookie and cookies → cooky). Not a linguistic stemmer; consistency is
/// what matters.
fn stem(word: &str) -> String {
    let len = word.chars().count();
    if len <= 3 || word.chars().any(char::is_numeric) {
        return word.to_string();
    }
    if let Some(base) = word.strip_suffix("ies").filter(|_| len > 4) {
        return format!("{base}y");
    }
    if let Some(base) = word.strip_suffix("ie") {
        return format!("{base}y");
    }
    if let Some(base) = word.strip_suffix("oes").filter(|_| len > 4) {
        return format!("{base}o");
    }
    for suffix in ["ches", "shes", "sses", "xes", "zzes"] {
        if let Some(base) = word.strip_suffix(suffix) {
            return format!("{base}{}", &suffix[..suffix.len() - 2]);
        }
    }
    if !word.ends_with("ss")
        && !word.ends_with("us")
        && let Some(base) = word.strip_suffix('s')
    {
        return base.to_string();
    }
    word.to_string()
}

/// How well a result's name (and brand) answers a query, in 0..=1, calibrated so that the same
/// number means the same thing for every source:
///
/// - **≥ 0.8** — the food the query names: every query word is in the name, the head noun among
///   them, and few other words ("banana" → "Bananas, raw" 0.95).
/// - **[`CONFIDENT_MATCH`] (0.7) to 0.8** — still that food, with more qualifiers than the query
///   gave, or with a query word only near-spelled ("brocoli").
/// - **0.5 to 0.7** — related: has every query word, but as a side part ("Bread, banana" for
///   "banana"), or is a processed form the query did not ask for.
/// - **< 0.5** — not the food asked for: some query word is missing ("Spices, saffron" for
///   "saffron risotto"). Such results are never confident, whatever else they match.
///
/// Names follow USDA's comma style — identity first, qualifiers after commas ("Milk, whole,
/// 3.25% milkfat") — or plain English ("Greek yogurt"). So the head noun is the last word before
/// the first comma (the second segment for category-first names such as "Nuts, almonds") and
/// weighs 2; other identity words weigh 1, the qualifiers after the n-th comma 0.5^n (at least
/// 0.1), numbers and words in parentheses nothing. The score blends how many query words the
/// result has (0.6), how much of the name's weight the query covers (0.25) and whether the query
/// names the head (0.15); a word found only as a near spelling (one edit in six letters or more,
/// two from nine) counts 0.8. When some query word is missing altogether, that blend is scaled by
/// half the share of words found, which keeps it under 0.5. Brand words count toward the first
/// part only.
pub fn match_score(query: &str, name: &str, brand: Option<&str>) -> f64 {
    let query: BTreeSet<String> = tokens(query).into_iter().collect();
    if query.is_empty() {
        return 0.0;
    }
    let words = weighted_name_tokens(name);
    let brand: BTreeSet<String> = brand.map(tokens).unwrap_or_default().into_iter().collect();

    let mut credit = 0.0;
    let mut found = 0;
    // The name words the query covers, with the credit of the query word that covered them.
    let mut covered: BTreeMap<&str, f64> = BTreeMap::new();
    for q in &query {
        let hit = if words.weights.contains_key(q) {
            covered.insert(q, 1.0);
            1.0
        } else if brand.contains(q) {
            1.0
        } else if let Some(near) = words.weights.keys().find(|w| near_spelling(q, w)) {
            let entry = covered.entry(near).or_insert(TYPO_CREDIT);
            *entry = entry.max(TYPO_CREDIT);
            TYPO_CREDIT
        } else {
            continue;
        };
        credit += hit;
        found += 1;
    }
    let recall = credit / query.len() as f64;

    let total: f64 = words.weights.values().sum();
    let covered_weight: f64 = covered
        .iter()
        .map(|(w, c)| words.weights.get(*w).copied().unwrap_or(0.0) * c)
        .sum();
    let precision = if total > 0.0 {
        covered_weight / total
    } else {
        0.0
    };

    let head = words
        .head
        .as_deref()
        .and_then(|h| covered.get(h))
        .copied()
        .unwrap_or(0.0);
    let score = RECALL_WEIGHT * recall + PRECISION_WEIGHT * precision + HEAD_WEIGHT * head;
    let score = if found < query.len() {
        score * 0.5 * found as f64 / query.len() as f64
    } else {
        score
    };
    score.clamp(0.0, 1.0)
}

/// One or two typing mistakes, allowed only in longer words (and never in the first letter) so
/// that short words stay distinct: "mochi" is not "mocha".
fn near_spelling(query_word: &str, name_word: &str) -> bool {
    let len = query_word.chars().count();
    let allowed = match len {
        0..6 => return false,
        6..9 => 1,
        _ => 2,
    };
    query_word.chars().next() == name_word.chars().next()
        && !query_word.chars().any(char::is_numeric)
        && name_word.chars().count().abs_diff(len) <= allowed
        && strsim::levenshtein(query_word, name_word) <= allowed
}

/// Whether the word (already lower case) is one of the query's, or a near spelling of one; for
/// the catalog's typo pass, which looks for index terms close to a word that found nothing.
pub fn is_near_spelling(query_word: &str, term: &str) -> bool {
    near_spelling(&query_word.to_lowercase(), term)
}

struct NameTokens {
    /// Each distinct word with its largest weight.
    weights: BTreeMap<String, f64>,
    head: Option<String>,
}

fn weighted_name_tokens(name: &str) -> NameTokens {
    let (main, aside) = split_parenthetical(name);
    let mut weights = BTreeMap::new();
    let mut head = None;
    // Each segment as its written words, each written word as its tokens: "long-grain" is one
    // qualifier, so its two tokens share one weight.
    let segments: Vec<Vec<Vec<String>>> = main
        .split(',')
        .map(|segment| {
            segment
                .split_whitespace()
                .map(tokens)
                .filter(|parts| !parts.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty())
        .collect();
    let class = segments.len() > 1 && {
        let first: Vec<&str> = segments[0].iter().flatten().map(String::as_str).collect();
        CLASS_PREFIXES.contains(&first.join(" ").as_str())
    };
    let head_segment = usize::from(class);
    for (index, words) in segments.into_iter().enumerate() {
        if index == head_segment {
            head = words.last().and_then(|parts| parts.last()).cloned();
        }
        // Qualifiers matter less the later they come: "Milk, whole, 3.25% milkfat, with added
        // vitamin D" is whole milk first, its vitamin D last.
        let level = index.saturating_sub(head_segment);
        let qualifier = 0.5_f64
            .powi(i32::try_from(level).unwrap_or(i32::MAX))
            .max(0.1);
        for parts in words {
            let share = 1.0 / parts.len() as f64;
            for word in parts {
                let weight = if index == head_segment && Some(&word) == head.as_ref() {
                    2.0
                } else if index < head_segment
                    || word.chars().all(char::is_numeric)
                    || BASIC_WORDS.contains(&word.as_str())
                {
                    // The category ("Nuts" in "Nuts, almonds"), numbers and default-form words.
                    0.0
                } else {
                    qualifier * share
                };
                let entry = weights.entry(word).or_insert(weight);
                *entry = f64::max(*entry, weight);
            }
        }
    }
    // "(Includes foods for USDA's Food Distribution Program)", "(ghee)": findable, but no part of
    // the identity a query has to cover.
    for word in tokens(&aside) {
        weights.entry(word).or_insert(0.0);
    }
    NameTokens { weights, head }
}

/// Whether a name adds something the query did not ask for in a "with ..." part: "Cheese,
/// cottage, with vegetables" for "cottage cheese" (but not "with salt" or "with added vitamin D").
fn has_addition(name: &str, query_words: &BTreeSet<String>) -> bool {
    let (main, _) = split_parenthetical(name);
    main.split(',').any(|segment| {
        segment.trim_start().to_lowercase().starts_with("with ")
            && tokens(segment)
                .iter()
                .any(|w| !BASIC_WORDS.contains(&w.as_str()) && !query_words.contains(w))
    })
}

/// A name without its parenthesized parts, and those parts.
fn split_parenthetical(name: &str) -> (String, String) {
    let (mut main, mut aside) = (String::new(), String::new());
    let mut depth = 0_u32;
    for c in name.chars() {
        match c {
            '(' => {
                depth += 1;
                aside.push(' ');
            }
            ')' => {
                depth = depth.saturating_sub(1);
                aside.push(' ');
            }
            _ if depth > 0 => aside.push(c),
            _ => main.push(c),
        }
    }
    (main, aside)
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
/// then USDA before Open Food Facts, then the sources' own order.
///
/// The score is [`match_score`] less small penalties for variants the query did not ask for — a
/// processed form (dried, canned, baby food...) 0.1, a brand product 0.05, a prepared form
/// (cooked, baked...) 0.03 — plus a data-type bonus of at most 0.015 (Foundation, then SR Legacy,
/// then Survey; for a query naming a brand, Open Food Facts instead).
pub fn rank(query: &str, results: Vec<FoodSummary>) -> Vec<RankedFood> {
    let query_words: BTreeSet<String> = tokens(query).into_iter().collect();
    let asks_preparation = query_words
        .iter()
        .any(|w| PREPARED_WORDS.contains(&w.as_str()));
    let scored = results
        .into_iter()
        .map(|food| {
            let score = match_score(query, &food.name, food.brand.as_deref());
            let name_words = tokens(&food.name);
            let processed = name_words.iter().any(|w| {
                PROCESSING_WORDS.contains(&w.as_str()) && !query_words.contains(w.as_str())
            });
            let prepared = !asks_preparation
                && name_words
                    .iter()
                    .any(|w| PREPARED_WORDS.contains(&w.as_str()));
            let brand_named = food
                .brand
                .as_deref()
                .map(tokens)
                .unwrap_or_default()
                .iter()
                .chain(&brand_words_in_name(&food.name))
                .any(|w| query_words.contains(w));
            let branded = !brand_named && is_branded(&food);
            let addition = has_addition(&food.name, &query_words);
            let adjustment = data_type_bonus(&food, brand_named)
                - if processed { PROCESSING_PENALTY } else { 0.0 }
                - if addition { ADDITION_PENALTY } else { 0.0 }
                - if prepared { PREPARED_PENALTY } else { 0.0 }
                - if branded { BRANDED_PENALTY } else { 0.0 };
            RankedFood {
                food,
                match_score: (score + adjustment).clamp(0.0, 1.0),
            }
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
            .then(b.match_score.total_cmp(&a.match_score))
            .then(data_type_priority(&a.food).cmp(&data_type_priority(&b.food)))
            .then(source_priority(a.food.source).cmp(&source_priority(b.food.source)))
    });
    ranked
}

/// USDA writes brand names in capitals inside descriptions ("Cereals, QUAKER, Quick Oats",
/// "McDONALD'S, Hamburger"): the words with three capitals in a row, outside parentheses.
fn brand_words_in_name(name: &str) -> Vec<String> {
    let (main, _) = split_parenthetical(name);
    main.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| {
            word.chars()
                .collect::<Vec<_>>()
                .windows(3)
                .any(|w| w.iter().all(char::is_ascii_uppercase))
        })
        .flat_map(tokens)
        .collect()
}

fn is_branded(food: &FoodSummary) -> bool {
    food.brand.is_some()
        || food.data_type.as_deref() == Some("Branded")
        || !brand_words_in_name(&food.name).is_empty()
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

type Words = BTreeSet<String>;

/// Drops results that name the same food: same brand (or both none) and the same words, or
/// nearly (Jaccard ≥ 0.9). The owner's custom food always survives — it is their own entry for
/// that food; otherwise the higher score survives, USDA before Open Food Facts on ties. The
/// survivor keeps the first duplicate's place.
///
/// Candidates are found by prefix filtering: order every name's words rarest first; two sets this
/// similar then share a word among the first few of each, so a long list is not compared pairwise.
fn dedupe(results: Vec<RankedFood>) -> Vec<RankedFood> {
    let keyed: Vec<(RankedFood, Words, Words)> = results
        .into_iter()
        .map(|result| {
            let name: Words = tokens(&result.food.name).into_iter().collect();
            let brand: Words = result
                .food
                .brand
                .as_deref()
                .map(tokens)
                .unwrap_or_default()
                .into_iter()
                .collect();
            (result, name, brand)
        })
        .collect();
    let mut frequency: HashMap<&str, usize> = HashMap::new();
    for word in keyed.iter().flat_map(|(_, name, _)| name) {
        *frequency.entry(word).or_default() += 1;
    }
    let prefixes: Vec<Vec<String>> = keyed
        .iter()
        .map(|(_, name, _)| {
            let mut words: Vec<&String> = name.iter().collect();
            words.sort_by_key(|w| (frequency.get(w.as_str()).copied().unwrap_or(0), *w));
            words
                .into_iter()
                .take(prefix_len(name.len()))
                .cloned()
                .collect()
        })
        .collect();

    let mut kept: Vec<(RankedFood, Words, Words)> = Vec::new();
    let mut brands: HashMap<Words, usize> = HashMap::new();
    let mut by_prefix: HashMap<(usize, String), Vec<usize>> = HashMap::new();
    let mut empty_names: HashMap<usize, usize> = HashMap::new();
    for ((result, name, brand), prefix) in keyed.into_iter().zip(prefixes) {
        let next_brand = brands.len();
        let brand_id = *brands.entry(brand.clone()).or_insert(next_brand);
        let duplicate = if name.is_empty() {
            empty_names.get(&brand_id).copied()
        } else {
            prefix
                .iter()
                .filter_map(|w| by_prefix.get(&(brand_id, w.clone())))
                .flatten()
                .copied()
                .find(|&i| near_duplicate(&kept[i].1, &name))
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
                kept.push((result, name, brand));
            }
        }
    }
    kept.into_iter().map(|(r, _, _)| r).collect()
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
    fn normalize_lowercases_strips_punctuation_and_stems() {
        assert_eq!(normalize("Bananas, raw"), "banana raw");
        assert_eq!(normalize("  BANANA   raw!! "), "banana raw");
        assert_eq!(normalize("Berries, mixed"), "berry mixed");
        assert_eq!(normalize("Tomatoes, red, ripe"), "tomato red ripe");
        assert_eq!(
            normalize("Peaches, canned, in heavy syrup"),
            "peach canned heavy syrup"
        );
        assert_eq!(normalize("glasses boxes radishes"), "glass box radish");
        assert_eq!(normalize("Kellogg's Corn Flakes"), "kellogg corn flake");
        assert_eq!(
            normalize("Milk, whole, 3.25% milkfat"),
            "milk whole 3 25 milkfat"
        );
        assert_eq!(normalize("cookies"), normalize("cookie"));
        assert_eq!(normalize("pies"), normalize("pie"));
        assert_eq!(normalize("Hummus"), "hummus");
        assert_eq!(normalize("Swiss cheese"), "swiss cheese");
        assert_eq!(normalize("oats"), "oat");
        assert_eq!(normalize("Crème brûlée"), "crème brûlée");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(",,, !!"), "");
    }

    #[test]
    fn exact_matches_score_one_and_unrelated_zero() {
        assert_eq!(match_score("banana", "Bananas", None), 1.0);
        assert_eq!(match_score("banana bread", "Bread, banana", None), 1.0);
        assert_eq!(match_score("raw bananas", "Bananas, raw", None), 1.0);
        assert_eq!(match_score("banana", "Apples, raw, with skin", None), 0.0);
        assert_eq!(match_score("", "Bananas, raw", None), 0.0);
        assert_eq!(match_score("banana", "", None), 0.0);
    }

    #[test]
    fn scores_stay_in_range() {
        for (q, n, b) in [
            ("banana banana banana", "Bananas, raw", None),
            ("x", "x, x, x", Some("x")),
            ("1 2 3", "1 2 3", None),
            ("nutella", "Hazelnut spread", Some("Nutella")),
            ("a", ", , ,", None),
        ] {
            let s = match_score(q, n, b);
            assert!((0.0..=1.0).contains(&s), "{q} / {n}: {s}");
        }
    }

    #[test]
    fn the_head_noun_and_identity_words_count_more() {
        let raw = match_score("banana", "Bananas, raw", None);
        let bread = match_score("banana", "Bread, banana", None);
        let chips = match_score("banana", "Banana chips", None);
        assert!(raw > 0.9, "{raw}");
        assert!(raw > chips && raw > bread, "{raw} {chips} {bread}");
        let whole = match_score(
            "milk",
            "Milk, whole, 3.25% milkfat, with added vitamin D",
            None,
        );
        let chocolate = match_score("milk", "Milk chocolate", None);
        assert!(whole > chocolate, "{whole} {chocolate}");
        let whole = match_score(
            "whole milk",
            "Milk, whole, 3.25% milkfat, with added vitamin D",
            None,
        );
        let buttermilk = match_score("whole milk", "Milk, buttermilk, fluid, whole", None);
        assert!(whole > buttermilk, "{whole} {buttermilk}");
        let breast = match_score(
            "chicken breast",
            "Chicken, broilers or fryers, breast, meat only, raw",
            None,
        );
        let tenders = match_score(
            "chicken breast",
            "Chicken breast tenders, breaded, cooked",
            None,
        );
        assert!(breast > tenders, "{breast} {tenders}");
    }

    #[test]
    fn a_missing_query_word_is_never_confident() {
        let saffron = match_score("saffron risotto", "Spices, saffron", None);
        assert!(saffron < 0.5, "{saffron}");
        let rice = match_score(
            "saffron risotto",
            "Rice, white, long-grain, regular, raw",
            None,
        );
        assert_eq!(rice, 0.0);
        let tea = match_score("bubble tea", "Tea, black", None);
        assert!(tea < 0.5, "{tea}");
        let ranked = rank(
            "saffron risotto",
            vec![usda("1", "Spices, saffron"), usda("2", "Rice, white")],
        );
        assert!(no_confident_match(&ranked));
        assert!(no_confident_match(&[]));
        assert!(!no_confident_match(&rank(
            "banana",
            vec![usda("1", "Bananas, raw")]
        )));
    }

    #[test]
    fn near_spellings_count_in_long_words_only() {
        let typo = match_score("brocoli", "Broccoli, raw", None);
        assert!((CONFIDENT_MATCH..0.9).contains(&typo), "{typo}");
        assert!(match_score("avacado", "Avocados, raw", None) >= CONFIDENT_MATCH);
        assert!(match_score("mochi", "Beverages, coffee, mocha", None) < 0.5);
        assert!(is_near_spelling("Bananna", "banana"));
        assert!(is_near_spelling("strawbery", "strawberri"));
        assert!(!is_near_spelling("pho", "phi"));
        assert!(
            !is_near_spelling("vanana", "banana"),
            "first letters differ"
        );
        assert!(!is_near_spelling("2", "3"));
    }

    #[test]
    fn category_prefixes_parentheses_and_default_words_do_not_dilute() {
        assert_eq!(match_score("almonds", "Nuts, almonds", None), 1.0);
        assert_eq!(match_score("cheddar cheese", "Cheese, cheddar", None), 1.0);
        assert_eq!(
            match_score(
                "oats",
                "Oats (Includes foods for USDA's Food Distribution Program)",
                None
            ),
            1.0
        );
        assert_eq!(
            match_score("ghee", "Butter, Clarified butter (ghee)", None),
            0.6
        );
        let default = match_score(
            "tomato",
            "Tomatoes, red, ripe, raw, year round average",
            None,
        );
        let yellow = match_score("tomato", "Tomatoes, yellow, raw", None);
        assert_eq!(default, yellow);
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
        assert_eq!(
            ids(&rank(
                "quaker oats",
                ranked.into_iter().map(|r| r.food).collect()
            ))[0],
            "1"
        );
    }

    #[test]
    fn brand_words_help_recall() {
        let with = match_score("nutella", "Hazelnut spread with cocoa", Some("Nutella"));
        assert!((with - 0.6).abs() < 1e-9, "{with}");
        assert_eq!(
            match_score("nutella", "Hazelnut spread with cocoa", None),
            0.0
        );
    }

    #[test]
    fn rank_prefers_plain_forms_unless_asked() {
        let results = vec![
            usda("1", "Bananas, dehydrated, or banana powder"),
            usda("2", "Bread, banana"),
            usda("3", "Bananas, raw"),
            usda("4", "Apples, raw"),
        ];
        let ranked = rank("banana", results.clone());
        assert_eq!(
            names(&ranked),
            [
                "Bananas, raw",
                "Bananas, dehydrated, or banana powder",
                "Bread, banana",
                "Apples, raw"
            ]
        );
        assert_eq!(ranked[3].match_score, 0.0);
        let ranked = rank("dehydrated banana", results);
        assert_eq!(ranked[0].food.name, "Bananas, dehydrated, or banana powder");
    }

    #[test]
    fn custom_foods_come_first_then_score_then_usda_before_off() {
        let results = vec![
            summary(Source::Openfoodfacts, "3017", "Banana", Some("Chiquita")),
            usda("173944", "Bananas, raw"),
            summary(Source::Custom, "custom:1", "Smoothie, banana oat", None),
            summary(Source::Openfoodfacts, "3018", "Bananas, raw", Some("Dole")),
        ];
        // A generic word: the generic food before brand products.
        let ranked = rank("banana", results.clone());
        assert_eq!(ids(&ranked), ["custom:1", "173944", "3017", "3018"]);
        assert_eq!(ranked[1].match_score, 1.0);
        assert_eq!(ranked[2].match_score, 0.95);
        // A brand: Open Food Facts' product first.
        let ranked = rank("chiquita banana", results);
        assert_eq!(ids(&ranked)[..2], ["custom:1", "3017"]);
        assert!(ranked[1].match_score > 0.8, "{}", ranked[1].match_score);
        assert!(ranked[2].match_score < 0.5, "{}", ranked[2].match_score);

        // Equal scores: the better data type first, then USDA before Open Food Facts.
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
        let order: Vec<&str> = ranked.iter().map(|r| r.food.id.as_str()).collect();
        assert_eq!(order, ["foundation", "sr", "survey", "off"]);
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
            usda("usda", "BANANAS,  RAW"),
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
}
