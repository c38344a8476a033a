//! Search text: words folded to lower case without diacritics, stop words dropped, and stemmed with
//! Snowball's English stemmer, the same way for queries and food names so that both meet.

use std::cell::RefCell;
use std::num::NonZeroUsize;
use std::sync::LazyLock;

use lru::LruCache;
use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// How many words each thread keeps stemmed: the catalog's and the vocabulary's words, which are
/// most of what is ever stemmed, fit many times over; odd query words cannot grow it without end.
const STEM_MEMO: NonZeroUsize = NonZeroUsize::new(16_384).expect("nonzero");

thread_local! {
    /// Snowball stems computed before. Ranking stems each candidate's words several times per query
    /// and the same catalog words across queries, and Snowball (with its allocations) was most of a
    /// ranking's time; the stem is a pure function of the word, so a memo changes no result. One per
    /// thread: no lock on the search path.
    static STEMS: RefCell<LruCache<String, String>> = RefCell::new(LruCache::new(STEM_MEMO));
}

/// Words that carry no identity in food names ("Peaches, canned, in heavy syrup").
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "as", "by", "for", "in", "of", "or", "the", "to", "with",
];

/// Lower case without diacritics or apostrophes: "Jalapeño's" → "jalapenos".
pub(crate) fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c) && !matches!(c, '\'' | '’'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The written words of a text, folded, stop words included: "Rolls, hot-dog" → rolls, hot, dog.
pub(crate) fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// A folded word's stem: bananas → banana, berries → berri, fried → fri. Words with digits stay.
pub(crate) fn stem(word: &str) -> String {
    if word.chars().any(char::is_numeric) {
        return word.to_string();
    }
    STEMS.with_borrow_mut(|memo| {
        if let Some(stem) = memo.get(word) {
            return stem.clone();
        }
        let stem = STEMMER.stem(word).into_owned();
        memo.put(word.to_string(), stem.clone());
        stem
    })
}

/// The content words of a text, stemmed, in order.
pub(crate) fn tokens(text: &str) -> Vec<String> {
    words(text)
        .iter()
        .filter(|w| !is_stop_word(w))
        .map(|w| stem(w))
        .collect()
}

/// Whether a query word (or stem) is one or two typing mistakes from a name's word (Damerau: a swap
/// is one), never in the first letter and more freely in longer words, so that short words stay
/// distinct: four- and five-letter words only by a missing or doubled letter ("piza", "tunna"),
/// never a changed one ("mochi" is not "mocha", "pear" is not "peas"); one mistake in six letters,
/// two from seven ("vinager", "brocolli": a word that long rarely sits two edits from another food's
/// word with the same first letter, and only words no candidate has are respelled at all).
/// How near a spelling `word` is to `query` when [`near_spelling`] allows it: 0 for one mistake, 1 for
/// two; `None` when it is no near spelling. Of several, the nearer is the word meant ("parsely" is
/// parsley, one transposition, before "parts").
pub(crate) fn spelling_distance(query: &str, word: &str) -> Option<usize> {
    near_spelling(query, word).then(|| strsim::damerau_levenshtein(query, word) - 1)
}

pub(crate) fn near_spelling(query: &str, word: &str) -> bool {
    let len = query.chars().count();
    let other = word.chars().count();
    let allowed = match len {
        0..4 => return false,
        4..6 if other.abs_diff(len) != 1 => return false,
        4..7 => 1,
        _ => 2,
    };
    query != word
        && query.chars().next() == word.chars().next()
        && !query.chars().any(char::is_numeric)
        && other.abs_diff(len) <= allowed
        && match strsim::damerau_levenshtein(query, word) {
            1 => true,
            // Two mistakes inside the word, not a different ending: "margarita" is no "margarine".
            2 => allowed == 2 && query.chars().last() == word.chars().last(),
            _ => false,
        }
}

/// The keys under which the catalog's word index files a word for typo look-ups: the word itself
/// and the word with any one letter removed. Two words within one edit share a key (SymSpell), so a
/// query word finds its near spellings with one indexed look-up instead of a scan.
pub fn typo_keys(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut keys = vec![word.to_string()];
    if chars.len() >= 4 {
        for skip in 0..chars.len() {
            let key: String = chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| *c)
                .collect();
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_drop_stop_words_and_stem() {
        assert_eq!(tokens("Bananas, raw"), ["banana", "raw"]);
        assert_eq!(
            tokens("Peaches, canned, in heavy syrup"),
            ["peach", "can", "heavi", "syrup"]
        );
        assert_eq!(tokens("Jalapeño"), tokens("jalapeno"));
        assert_eq!(tokens("Kellogg's"), ["kellogg"]);
        assert_eq!(tokens("fries"), tokens("fried"));
        assert_eq!(tokens("berries"), tokens("berry"));
        assert_eq!(tokens("skimmed"), tokens("skim"));
        assert_eq!(tokens("cookies"), tokens("cookie"));
        assert_eq!(tokens("tomatoes"), tokens("tomato"));
        assert_eq!(tokens("3.25% milkfat"), ["3", "25", "milkfat"]);
        assert!(tokens(",,, !!").is_empty());
    }

    #[test]
    fn memoised_stems_are_snowballs() {
        for word in [
            "bananas",
            "berries",
            "fried",
            "mayonnaise",
            "bananas",
            "berries",
            "2%",
        ] {
            let snowball = if word.chars().any(char::is_numeric) {
                word.to_string()
            } else {
                STEMMER.stem(word).into_owned()
            };
            assert_eq!(stem(word), snowball, "{word}");
        }
    }

    #[test]
    fn near_spellings_count_in_longer_words_only() {
        assert!(near_spelling("brocoli", "broccoli"));
        assert!(near_spelling("straberri", "strawberri"));
        assert!(near_spelling("avacado", "avocado"));
        assert!(near_spelling("tunna", "tuna"));
        assert!(near_spelling("pomegranite", "pomegranate"));
        assert!(near_spelling("piza", "pizza"));
        assert!(near_spelling("coffe", "coffee"));
        assert!(
            near_spelling("vinager", "vinegar"),
            "two edits from seven letters"
        );
        assert!(near_spelling("brocolli", "broccoli"));
        assert!(near_spelling("cauliflour", "cauliflower"));
        assert!(
            !near_spelling("paneer", "panela"),
            "one edit in six letters"
        );
        assert!(!near_spelling("margarita", "margarine"), "another ending");
        assert!(
            !near_spelling("mochi", "mocha"),
            "a changed letter in a short word"
        );
        assert!(!near_spelling("pear", "peas"), "short words stay distinct");
        assert!(!near_spelling("pea", "pear"));
        assert!(!near_spelling("vanana", "banana"), "first letters differ");
        assert!(
            !near_spelling("banana", "banana"),
            "the same word is no typo"
        );
        assert!(!near_spelling("12345", "12346"));
    }

    #[test]
    fn typo_keys_meet_within_one_edit() {
        let shared = |a: &str, b: &str| typo_keys(a).iter().any(|k| typo_keys(b).contains(k));
        assert!(shared("brocoli", "broccoli"));
        assert!(shared("chiken", "chicken"));
        assert!(shared("tunna", "tuna"));
        assert!(shared("piza", "pizza"));
        assert!(!shared("apple", "melon"));
        assert_eq!(
            typo_keys("pea"),
            ["pea"],
            "short words file under themselves only"
        );
    }
}
