//! The search vocabulary (`vocabulary.toml`, embedded): aliases, class prefixes, default-form words,
//! variant words, cooking states and soft query words, each turned into stemmed word sequences once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

use super::text::{is_stop_word, stem, tokens, words};

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
    implied: Vec<ImpliedEntry>,
    dish_words: Vec<String>,
    #[serde(default)]
    brand_labels: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImpliedEntry {
    foods: Vec<String>,
    words: Vec<String>,
    why: String,
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
    #[serde(default)]
    unless: Vec<String>,
    #[serde(default)]
    segment: bool,
    #[serde(default)]
    version: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CookingEntry {
    query: Vec<String>,
    near: Vec<String>,
}

/// A phrase both as written (folded, stop words kept: "with salt") and as stems ([salt]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Term {
    pub written: Vec<String>,
    pub stems: Phrase,
}

fn term(text: &str) -> Term {
    let written = words(text);
    let stems = written
        .iter()
        .filter(|w| !is_stop_word(w))
        .map(|w| stem(w))
        .collect();
    Term { written, stems }
}

fn terms(texts: &[String]) -> Vec<Term> {
    let mut all: Vec<Term> = texts
        .iter()
        .map(|t| term(t))
        .filter(|t| !t.written.is_empty())
        .collect();
    all.sort_by_key(|t| std::cmp::Reverse(t.written.len()));
    all.dedup();
    all
}

/// A cooking state a query can name, and how names say it.
#[derive(Debug)]
pub(crate) struct Cooking {
    /// The query's ways of saying it ("grilled", "grill", "broiled").
    pub query: Vec<Term>,
    /// SR's other words that meet it ("broiled", "dry heat"), as stems.
    pub near: Vec<Phrase>,
}

impl Cooking {
    /// Whether this is the raw state (which a name's "raw" meets and contradicts no cooking).
    pub(crate) fn is_raw(&self) -> bool {
        self.query.iter().any(|t| t.written == ["raw"])
    }
}

/// Words marking a form the query must ask for.
#[derive(Debug)]
pub(crate) struct Variant {
    pub term: Term,
    pub penalty: f64,
    /// Query stems that waive it.
    pub unless: Vec<String>,
    /// It counts only as a whole name segment.
    pub segment: bool,
    /// Another cook's version of the dish (a restaurant's, a region's), never the only form the
    /// food comes in: the generic dish may be filed under another head.
    pub version: bool,
}

pub(crate) struct Vocabulary {
    /// `from` phrase → its replacements, longest `from` first.
    pub aliases: Vec<(Phrase, Vec<Phrase>)>,
    /// The aliases by the first stem of their `from` (places in `aliases`, longest first), so that a
    /// query looks up only those that could start at each word.
    alias_starts: HashMap<String, Vec<usize>>,
    /// Class prefixes as segment sequences: [[restaurant], [chinese]].
    pub categories: Vec<Vec<Phrase>>,
    pub default_words: Vec<Phrase>,
    /// Variant forms, longest first.
    pub variants: Vec<Variant>,
    pub cooking: Vec<Cooking>,
    pub as_sold: (Vec<Term>, f64),
    pub soft: Vec<Term>,
    /// Modifiers naming the ordinary form of foods ("white" sugar): (the foods as stems, the words).
    pub implied: Vec<(Vec<Phrase>, Vec<Term>)>,
    /// Soft words that, last in a query after a food, name a dish ("poke bowl").
    pub dish_words: Vec<Term>,
    /// Makers SR names in ordinary case before their product ("Nabisco, Nabisco Ritz Crackers"), as
    /// folded written words: brand words like those in capitals.
    pub brand_labels: Vec<Vec<String>>,
    /// The words of the aliases' `from`s, as written (folded) with their stems, sorted and distinct:
    /// everyday words no food may have ("garbanzo"), which a query can misspell all the same.
    pub alias_words: Vec<(String, String)>,
    /// Those words and their stems, for [`Vocabulary::knows`].
    alias_word_set: HashSet<String>,
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
        let mut alias_words: Vec<(String, String)> = file
            .alias
            .iter()
            .flat_map(|entry| words(&entry.from))
            .filter(|w| !is_stop_word(w))
            .map(|w| {
                let stem = stem(&w);
                (w, stem)
            })
            .collect();
        alias_words.sort_unstable();
        alias_words.dedup();
        let mut aliases: Vec<(Phrase, Vec<Phrase>)> = aliases.into_iter().collect();
        aliases.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        let mut alias_starts: HashMap<String, Vec<usize>> = HashMap::new();
        for (at, (from, _)) in aliases.iter().enumerate() {
            alias_starts.entry(from[0].clone()).or_default().push(at);
        }

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
            let unless: Vec<String> = entry
                .unless
                .iter()
                .map(|u| stem(&u.to_lowercase()))
                .collect();
            variants.extend(terms(&entry.words).into_iter().map(|term| Variant {
                term,
                penalty: entry.penalty,
                unless: unless.clone(),
                segment: entry.segment,
                version: entry.version,
            }));
        }
        variants.sort_by_key(|v| std::cmp::Reverse(v.term.written.len()));

        let cooking = file
            .cooking
            .iter()
            .map(|c| Cooking {
                query: terms(&c.query),
                near: phrases(&c.near),
            })
            .collect();

        let mut implied = Vec::new();
        for entry in &file.implied {
            if entry.why.trim().is_empty() || entry.foods.is_empty() || entry.words.is_empty() {
                return Err(format!(
                    "implied {:?}: needs foods, words and a why",
                    entry.foods
                ));
            }
            implied.push((phrases(&entry.foods), terms(&entry.words)));
        }

        Ok(Vocabulary {
            aliases,
            alias_starts,
            categories,
            default_words: phrases(&file.default_words),
            variants,
            cooking,
            as_sold: (terms(&file.as_sold.words), file.as_sold.penalty),
            soft: terms(&file.soft),
            implied,
            dish_words: terms(&file.dish_words),
            brand_labels: file.brand_labels.iter().map(|l| words(l)).collect(),
            alias_word_set: alias_words
                .iter()
                .flat_map(|(word, stem)| [word.clone(), stem.clone()])
                .collect(),
            alias_words,
        })
    }

    /// The longest alias whose `from` starts these stems.
    pub(crate) fn alias_at(&self, stems: &[String]) -> Option<&(Phrase, Vec<Phrase>)> {
        let first = stems.first()?;
        self.alias_starts
            .get(first)?
            .iter()
            .map(|&at| &self.aliases[at])
            .find(|(from, _)| stems.starts_with(from))
    }

    /// Whether a word (written or stemmed) is one of an alias's `from`: an everyday word, though no
    /// food may have it.
    pub(crate) fn knows(&self, word: &str) -> bool {
        self.alias_word_set.contains(word)
    }

    /// Whether a one-word alias has this stem as its `from`.
    pub(crate) fn is_alias_word(&self, stem: &str) -> bool {
        self.alias_starts
            .get(stem)
            .is_some_and(|at| at.iter().any(|&at| self.aliases[at].0.len() == 1))
    }

    /// The cooking state the written words at the start of `written` name, and how many words.
    pub(crate) fn cooking_at(&self, written: &[String]) -> Option<(&Cooking, usize)> {
        self.cooking
            .iter()
            .flat_map(|c| c.query.iter().map(move |t| (c, t)))
            .filter(|(_, t)| written.starts_with(&t.written))
            .max_by_key(|(_, t)| t.written.len())
            .map(|(c, t)| (c, t.written.len()))
    }

    /// Whether a name's stem names a way of cooking (a prepared form; "raw" is none).
    pub(crate) fn is_cooking_word(&self, stem: &str) -> bool {
        self.cooking.iter().filter(|c| !c.is_raw()).any(|c| {
            c.query
                .iter()
                .map(|t| &t.stems)
                .chain(&c.near)
                .any(|p| p.len() == 1 && p[0] == stem)
        })
    }

    pub(crate) fn is_default(&self, stem: &str) -> bool {
        self.default_words
            .iter()
            .any(|p| p.len() == 1 && p[0] == stem)
    }

    /// The modifier at the start of `written` that names the ordinary form of a food the query's
    /// `stems` also name ("white" before sugar), longest first.
    pub(crate) fn implied_at(&self, written: &[String], stems: &[String]) -> Option<&Term> {
        self.implied
            .iter()
            .filter(|(foods, _)| foods.iter().any(|f| contains_phrase(stems, f)))
            .flat_map(|(_, words)| words)
            .filter(|t| written.starts_with(&t.written))
            .max_by_key(|t| t.written.len())
    }

    /// How many written words at the start of `written` are a soft phrase.
    pub(crate) fn soft_at(&self, written: &[String]) -> Option<&Term> {
        self.soft
            .iter()
            .filter(|t| written.starts_with(&t.written))
            .max_by_key(|t| t.written.len())
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
                 as_sold = {{ penalty = 0.1, words = [] }}\nsoft = []\nimplied = []\ndish_words = []\n"
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
        let name = tokens("Peaches, canned, heavy syrup pack");
        assert!(contains_phrase(&name, &tokens("heavy syrup")));
        assert!(!contains_phrase(&name, &tokens("syrup heavy")));
        assert!(!contains_phrase(&name, &[]));
        let v = vocabulary();
        let (cooking, len) = v.cooking_at(&words("pan fried salmon")).unwrap();
        assert_eq!(len, 2);
        assert!(cooking.near.contains(&tokens("stir-fried")));
        assert!(
            v.cooking_at(&words("fries")).is_none(),
            "written forms: fries are no frying"
        );
        assert!(v.cooking_at(&words("toast")).is_none());
    }
}
