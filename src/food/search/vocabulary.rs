//! The search vocabulary (`vocabulary.toml`, embedded): aliases, class prefixes, default-form words,
//! variant words, cooking states and soft query words, each turned into stemmed word sequences once.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::text::tokens;

/// A phrase as stemmed words: "heavy syrup" → [heavi, syrup].
pub(crate) type Phrase = Vec<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    alias: Vec<AliasEntry>,
    categories: Vec<String>,
    default_words: Vec<String>,
    variants: Vec<VariantEntry>,
    cooking: Vec<CookingEntry>,
    as_sold: VariantEntry,
    soft: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasEntry {
    from: String,
    to: Vec<String>,
    why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantEntry {
    penalty: f64,
    #[serde(default)]
    why: String,
    words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CookingEntry {
    query: Vec<String>,
    near: Vec<String>,
}

/// A cooking state a query can name, and how names say it.
#[derive(Debug)]
pub(crate) struct Cooking {
    /// The query's ways of saying it ("grilled", "grill", "broiled").
    pub query: Vec<Phrase>,
    /// SR's other words that meet it ("broiled", "dry heat").
    pub near: Vec<Phrase>,
}

pub(crate) struct Vocabulary {
    /// `from` phrase → its replacements, longest `from` first.
    pub aliases: Vec<(Phrase, Vec<Phrase>)>,
    /// Class prefixes as segment sequences: [[restaurant], [chinese]].
    pub categories: Vec<Vec<Phrase>>,
    pub default_words: Vec<Phrase>,
    /// Variant phrases with their penalty, longest first.
    pub variants: Vec<(Phrase, f64)>,
    pub cooking: Vec<Cooking>,
    pub as_sold: (Vec<Phrase>, f64),
    pub soft: Vec<Phrase>,
}

static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
    Vocabulary::parse(include_str!("vocabulary.toml")).expect("vocabulary.toml is valid")
});

/// The embedded vocabulary, parsed on first use.
pub(crate) fn vocabulary() -> &'static Vocabulary {
    &VOCABULARY
}

fn phrase(text: &str) -> Phrase {
    tokens(text)
}

fn phrases(texts: &[String]) -> Vec<Phrase> {
    let mut all: Vec<Phrase> = texts
        .iter()
        .map(|t| phrase(t))
        .filter(|p| !p.is_empty())
        .collect();
    all.sort_by_key(|p| std::cmp::Reverse(p.len()));
    all.dedup();
    all
}

impl Vocabulary {
    fn parse(text: &str) -> Result<Vocabulary, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut aliases: BTreeMap<Phrase, Vec<Phrase>> = BTreeMap::new();
        for entry in &file.alias {
            let from = phrase(&entry.from);
            if from.is_empty() || entry.to.is_empty() || entry.why.trim().is_empty() {
                return Err(format!(
                    "alias {:?}: needs words, a replacement and a why",
                    entry.from
                ));
            }
            if aliases.contains_key(&from) {
                return Err(format!("alias {:?} is listed twice", entry.from));
            }
            aliases.insert(from, entry.to.iter().map(|t| phrase(t)).collect());
        }
        let mut aliases: Vec<(Phrase, Vec<Phrase>)> = aliases.into_iter().collect();
        aliases.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));

        let categories = file
            .categories
            .iter()
            .map(|c| c.split(',').map(phrase).collect::<Vec<_>>())
            .collect();

        let mut variants = Vec::new();
        for entry in &file.variants {
            if entry.why.trim().is_empty() || !(0.0..=0.5).contains(&entry.penalty) {
                return Err(format!(
                    "variant group {:?}: needs a why and a penalty in 0..=0.5",
                    entry.words
                ));
            }
            variants.extend(
                phrases(&entry.words)
                    .into_iter()
                    .map(|p| (p, entry.penalty)),
            );
        }
        variants.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));

        let cooking = file
            .cooking
            .iter()
            .map(|c| Cooking {
                query: phrases(&c.query),
                near: phrases(&c.near),
            })
            .collect();

        Ok(Vocabulary {
            aliases,
            categories,
            default_words: phrases(&file.default_words),
            variants,
            cooking,
            as_sold: (phrases(&file.as_sold.words), file.as_sold.penalty),
            soft: phrases(&file.soft),
        })
    }

    /// The cooking state a phrase at the start of `words` names, and the phrase's length.
    pub(crate) fn cooking_at(&self, words: &[String]) -> Option<(&Cooking, usize)> {
        self.cooking
            .iter()
            .flat_map(|c| c.query.iter().map(move |p| (c, p)))
            .filter(|(_, p)| words.starts_with(p))
            .max_by_key(|(_, p)| p.len())
            .map(|(c, p)| (c, p.len()))
    }

    /// Whether a stem names a cooking method (in a query's or a name's words).
    pub(crate) fn is_cooking_word(&self, stem: &str) -> bool {
        self.cooking.iter().any(|c| {
            c.query
                .iter()
                .chain(&c.near)
                .any(|p| p.len() == 1 && p[0] == stem)
        })
    }

    pub(crate) fn is_default(&self, stem: &str) -> bool {
        self.default_words
            .iter()
            .any(|p| p.len() == 1 && p[0] == stem)
    }

    pub(crate) fn soft_at(&self, words: &[String]) -> Option<usize> {
        self.soft
            .iter()
            .filter(|p| words.starts_with(p))
            .map(Vec::len)
            .max()
    }
}

/// Whether `phrase` occurs in `words` as consecutive words.
pub(crate) fn contains_phrase(words: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && words.windows(phrase.len()).any(|w| w == phrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_vocabulary_parses_and_every_alias_is_justified() {
        let v = vocabulary();
        assert!(v.aliases.len() > 100, "{}", v.aliases.len());
        assert!(
            v.aliases.windows(2).all(|w| w[0].0.len() >= w[1].0.len()),
            "longest first"
        );
        for (from, to) in &v.aliases {
            assert!(
                to.iter().all(|t| !t.is_empty() && t != from),
                "{from:?} → {to:?}"
            );
        }
        assert!(v.categories.iter().any(|c| c == &[vec!["nut".to_string()]]));
        assert!(v.is_default("raw"));
        assert!(v.is_cooking_word("grill"));
        assert!(v.is_cooking_word("broil"));
        assert!(!v.is_cooking_word("banana"));
    }

    #[test]
    fn malformed_entries_are_refused() {
        let base = |alias: &str| {
            format!(
                "alias = [{alias}]\ncategories = []\ndefault_words = []\nvariants = []\ncooking = []\n\
                 as_sold = {{ penalty = 0.1, words = [] }}\nsoft = []\n"
            )
        };
        assert!(Vocabulary::parse(&base(r#"{ from = "a b", to = ["c"], why = "x" }"#)).is_ok());
        assert!(Vocabulary::parse(&base(r#"{ from = "ab", to = ["c"], why = "" }"#)).is_err());
        assert!(Vocabulary::parse(&base(r#"{ from = "ab", to = [], why = "x" }"#)).is_err());
        assert!(
            Vocabulary::parse(&base(
                r#"{ from = "ab", to = ["c"], why = "x" }, { from = "AB", to = ["d"], why = "y" }"#
            ))
            .is_err(),
            "the same phrase twice"
        );
        assert!(Vocabulary::parse("alias = 3").is_err());
    }

    #[test]
    fn phrases_are_matched_as_consecutive_words() {
        let words = tokens("Peaches, canned, heavy syrup pack");
        assert!(contains_phrase(&words, &tokens("heavy syrup")));
        assert!(!contains_phrase(&words, &tokens("syrup heavy")));
        assert!(!contains_phrase(&words, &[]));
        let v = vocabulary();
        let (cooking, len) = v.cooking_at(&tokens("pan fried salmon")).unwrap();
        assert_eq!(len, 2);
        assert!(cooking.near.contains(&tokens("stir-fried")));
    }
}
