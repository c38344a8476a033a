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
/// below the plain form: "banana" means the fruit before banana powder.
const PROCESSING_WORDS: &[&str] = &[
    "candied",
    "canned",
    "concentrate",
    "concentrated",
    "dehydrated",
    "dried",
    "dry",
    "fried",
    "frozen",
    "pickled",
    "powder",
    "powdered",
];

/// Score taken off a processed form the query did not ask for.
const PROCESSING_PENALTY: f64 = 0.1;

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

/// How well a result's name (and brand) answers a query, in 0..=1: 1 when the words are the same,
/// 0 when none are shared.
///
/// Names follow USDA's comma style — identity first, qualifiers after commas ("Milk, whole,
/// 3.25% milkfat") — or plain English ("Greek yogurt"). So the head noun is the last word before
/// the first comma and weighs 2; other identity words weigh 1, the qualifiers after the n-th comma
/// 0.5^n (at least 0.1), numbers nothing. The score blends how many query words the result has
/// (0.6), how much of the name's weight the query covers (0.25) and whether the query names the
/// head (0.15). Brand words count toward the first only.
pub fn match_score(query: &str, name: &str, brand: Option<&str>) -> f64 {
    let query: BTreeSet<String> = tokens(query).into_iter().collect();
    if query.is_empty() {
        return 0.0;
    }
    let words = weighted_name_tokens(name);
    let brand: BTreeSet<String> = brand.map(tokens).unwrap_or_default().into_iter().collect();

    let found = query
        .iter()
        .filter(|q| words.weights.contains_key(*q) || brand.contains(*q))
        .count();
    let recall = found as f64 / query.len() as f64;

    let total: f64 = words.weights.values().sum();
    let covered: f64 = words
        .weights
        .iter()
        .filter(|(w, _)| query.contains(*w))
        .map(|(_, weight)| weight)
        .sum();
    let precision = if total > 0.0 { covered / total } else { 0.0 };

    let head = words.head.as_ref().is_some_and(|h| query.contains(h));
    let score = RECALL_WEIGHT * recall
        + PRECISION_WEIGHT * precision
        + if head { HEAD_WEIGHT } else { 0.0 };
    score.clamp(0.0, 1.0)
}

struct NameTokens {
    /// Each distinct word with its largest weight.
    weights: BTreeMap<String, f64>,
    head: Option<String>,
}

fn weighted_name_tokens(name: &str) -> NameTokens {
    let mut weights = BTreeMap::new();
    let mut head = None;
    let segments = name
        .split(',')
        .map(tokens)
        .filter(|words| !words.is_empty());
    for (index, words) in segments.enumerate() {
        if index == 0 {
            head = words.last().cloned();
        }
        // Qualifiers matter less the later they come: "Milk, whole, 3.25% milkfat, with added
        // vitamin D" is whole milk first, its vitamin D last.
        let qualifier = 0.5_f64
            .powi(i32::try_from(index).unwrap_or(i32::MAX))
            .max(0.1);
        for word in words {
            let weight = if word.chars().all(char::is_numeric) {
                0.0
            } else if index == 0 && Some(&word) == head.as_ref() {
                2.0
            } else {
                qualifier
            };
            let entry = weights.entry(word).or_insert(weight);
            *entry = f64::max(*entry, weight);
        }
    }
    NameTokens { weights, head }
}

/// A search result with its relevance to the query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankedFood {
    #[serde(flatten)]
    pub food: FoodSummary,
    /// How well the food matches the query, 0–1 (three decimals), less a small penalty for a
    /// processed form (dried, canned, powder...) the query did not ask for.
    pub match_score: f64,
}

/// Ranks results from all sources for a query: duplicates removed, the owner's custom foods first,
/// then by score; equal scores keep USDA before Open Food Facts, then the sources' own order.
pub fn rank(query: &str, results: Vec<FoodSummary>) -> Vec<RankedFood> {
    let query_words: BTreeSet<String> = tokens(query).into_iter().collect();
    let scored = results
        .into_iter()
        .map(|food| {
            let score = match_score(query, &food.name, food.brand.as_deref());
            let processed = tokens(&food.name).iter().any(|w| {
                PROCESSING_WORDS.contains(&w.as_str()) && !query_words.contains(w.as_str())
            });
            let penalty = if processed { PROCESSING_PENALTY } else { 0.0 };
            RankedFood {
                food,
                match_score: (score - penalty).max(0.0),
            }
        })
        .collect();
    let mut ranked = dedupe(scored);
    ranked.sort_by(|a, b| {
        let not_custom = |r: &RankedFood| r.food.source != Source::Custom;
        not_custom(a)
            .cmp(&not_custom(b))
            .then(b.match_score.total_cmp(&a.match_score))
            .then(source_priority(a.food.source).cmp(&source_priority(b.food.source)))
    });
    for r in &mut ranked {
        r.match_score = (r.match_score * 1000.0).round() / 1000.0;
    }
    ranked
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
        let ranked = rank("banana", results);
        assert_eq!(ids(&ranked), ["custom:1", "3017", "173944", "3018"]);
        assert_eq!(ranked[1].match_score, 1.0);
        // Equal scores: USDA before Open Food Facts.
        assert_eq!(ranked[2].match_score, ranked[3].match_score);
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
                "id": "173944", "source": "usda", "name": "Bananas, raw", "matchScore": 0.95
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
