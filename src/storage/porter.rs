//! SQLite FTS5's `porter unicode61 remove_diacritics 2` tokenizer in Rust: the terms the catalog's
//! in-memory index files descriptions under, the same terms FTS5 indexed them by.
//!
//! Why a port and not a stemmer crate: the index must recall and order candidates exactly as FTS5
//! did (the relevance figures were measured on that), and Porter implementations differ in small
//! rules ("logi", "bli", the `*o` test). This follows `fts5PorterCb` in SQLite's `fts5_tokenize.c`
//! step by step, on bytes as it does.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// Tokens longer than this (in bytes) are not stemmed, as in FTS5.
const MAX_STEMMED: usize = 64;

/// The terms of a text: folded to lower case without diacritics, cut at every character that is
/// not a letter or digit, each stemmed. (unicode61 keeps letters and digits as token characters;
/// SR Legacy's text is ASCII, where both rules are the same.)
pub(super) fn terms(text: &str) -> Vec<String> {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(stem)
        .collect()
}

/// One token's Porter stem, as FTS5's porter tokenizer gives it.
fn stem(token: &str) -> String {
    let bytes = token.as_bytes();
    if bytes.len() > MAX_STEMMED || bytes.len() < 3 {
        return token.to_string();
    }
    let mut buf = bytes.to_vec();
    step_1a(&mut buf);
    // "ed" or "ing" cut and no 1b2 rule applied: undouble, or add back an "e".
    if apply(&mut buf, STEP_1B) == Some(true) && apply(&mut buf, STEP_1B2).is_none() {
        let n = buf.len();
        let c = buf[n - 1];
        if !is_vowel(c, false) && !matches!(c, b'l' | b's' | b'z') && n >= 2 && c == buf[n - 2] {
            buf.pop();
        } else if m_eq1(&buf) && o_star(&buf) {
            buf.push(b'e');
        }
    }
    // Step 1c.
    let n = buf.len();
    if buf[n - 1] == b'y' && has_vowel(&buf[..n - 1]) {
        buf[n - 1] = b'i';
    }
    apply(&mut buf, STEP_2);
    apply(&mut buf, STEP_3);
    apply(&mut buf, STEP_4);
    // Step 5a.
    let n = buf.len();
    if buf[n - 1] == b'e' {
        let stem = &buf[..n - 1];
        if m_gt1(stem) || (m_eq1(stem) && !o_star(stem)) {
            buf.pop();
        }
    }
    // Step 5b.
    let n = buf.len();
    if n > 1 && buf[n - 1] == b'l' && buf[n - 2] == b'l' && m_gt1(&buf[..n - 1]) {
        buf.pop();
    }
    // Only ASCII suffixes are cut or added, so the bytes stay UTF-8.
    String::from_utf8_lossy(&buf).into_owned()
}

fn step_1a(buf: &mut Vec<u8>) {
    let n = buf.len();
    if buf[n - 1] != b's' {
        return;
    }
    if buf[n - 2] == b'e' {
        let cut = if (n > 4 && buf[n - 4] == b's' && buf[n - 3] == b's')
            || (n > 3 && buf[n - 3] == b'i')
        {
            2
        } else {
            1
        };
        buf.truncate(n - cut);
    } else if buf[n - 2] != b's' {
        buf.truncate(n - 1);
    }
}

/// What a rule asks of the stem before its suffix.
#[derive(Clone, Copy)]
enum Cond {
    None,
    MGt0,
    MGt1,
    MGt1SOrT,
    Vowel,
}

/// A suffix, its condition, its replacement, and what the step reports when it is applied (1b's
/// "ed" and "ing" tell the caller to tidy the stem; "eed" does not).
type Rule = (&'static str, Cond, &'static str, bool);

/// Applies the first rule whose suffix ends the word (longer than the suffix), as FTS5's generated
/// `switch` does: a later rule is never tried once one suffix matched, even when its condition
/// fails. `None` when no suffix matched or the condition failed, else the rule's report.
fn apply(buf: &mut Vec<u8>, rules: &[Rule]) -> Option<bool> {
    let n = buf.len();
    let (suffix, cond, output, report) = rules
        .iter()
        .find(|(suffix, ..)| n > suffix.len() && buf.ends_with(suffix.as_bytes()))?;
    let stem = &buf[..n - suffix.len()];
    let holds = match cond {
        Cond::None => true,
        Cond::MGt0 => m_gt0(stem),
        Cond::MGt1 => m_gt1(stem),
        Cond::MGt1SOrT => matches!(stem.last(), Some(b's' | b't')) && m_gt1(stem),
        Cond::Vowel => has_vowel(stem),
    };
    if !holds {
        return None;
    }
    buf.truncate(n - suffix.len());
    buf.extend_from_slice(output.as_bytes());
    Some(*report)
}

const STEP_1B: &[Rule] = &[
    ("eed", Cond::MGt0, "ee", false),
    ("ed", Cond::Vowel, "", true),
    ("ing", Cond::Vowel, "", true),
];

const STEP_1B2: &[Rule] = &[
    ("at", Cond::None, "ate", true),
    ("bl", Cond::None, "ble", true),
    ("iz", Cond::None, "ize", true),
];

const STEP_2: &[Rule] = &[
    ("ational", Cond::MGt0, "ate", false),
    ("tional", Cond::MGt0, "tion", false),
    ("enci", Cond::MGt0, "ence", false),
    ("anci", Cond::MGt0, "ance", false),
    ("izer", Cond::MGt0, "ize", false),
    ("logi", Cond::MGt0, "log", false),
    ("bli", Cond::MGt0, "ble", false),
    ("alli", Cond::MGt0, "al", false),
    ("entli", Cond::MGt0, "ent", false),
    ("eli", Cond::MGt0, "e", false),
    ("ousli", Cond::MGt0, "ous", false),
    ("ization", Cond::MGt0, "ize", false),
    ("ation", Cond::MGt0, "ate", false),
    ("ator", Cond::MGt0, "ate", false),
    ("alism", Cond::MGt0, "al", false),
    ("iveness", Cond::MGt0, "ive", false),
    ("fulness", Cond::MGt0, "ful", false),
    ("ousness", Cond::MGt0, "ous", false),
    ("aliti", Cond::MGt0, "al", false),
    ("iviti", Cond::MGt0, "ive", false),
    ("biliti", Cond::MGt0, "ble", false),
];

const STEP_3: &[Rule] = &[
    ("ical", Cond::MGt0, "ic", false),
    ("ness", Cond::MGt0, "", false),
    ("icate", Cond::MGt0, "ic", false),
    ("iciti", Cond::MGt0, "ic", false),
    ("ful", Cond::MGt0, "", false),
    ("ative", Cond::MGt0, "", false),
    ("alize", Cond::MGt0, "al", false),
];

const STEP_4: &[Rule] = &[
    ("al", Cond::MGt1, "", false),
    ("ance", Cond::MGt1, "", false),
    ("ence", Cond::MGt1, "", false),
    ("er", Cond::MGt1, "", false),
    ("ic", Cond::MGt1, "", false),
    ("able", Cond::MGt1, "", false),
    ("ible", Cond::MGt1, "", false),
    ("ant", Cond::MGt1, "", false),
    ("ement", Cond::MGt1, "", false),
    ("ment", Cond::MGt1, "", false),
    ("ent", Cond::MGt1, "", false),
    ("ion", Cond::MGt1SOrT, "", false),
    ("ou", Cond::MGt1, "", false),
    ("ism", Cond::MGt1, "", false),
    ("ate", Cond::MGt1, "", false),
    ("iti", Cond::MGt1, "", false),
    ("ous", Cond::MGt1, "", false),
    ("ive", Cond::MGt1, "", false),
    ("ize", Cond::MGt1, "", false),
];

fn is_vowel(c: u8, y_is_vowel: bool) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u') || (y_is_vowel && c == b'y')
}

/// Past the first vowel-consonant sequence: the index after it, or 0 when there is none.
fn gobble_vc(stem: &[u8], previous_consonant: bool) -> usize {
    let mut consonant = previous_consonant;
    let mut i = 0;
    while i < stem.len() {
        consonant = !is_vowel(stem[i], consonant);
        if !consonant {
            break;
        }
        i += 1;
    }
    i += 1;
    while i < stem.len() {
        consonant = !is_vowel(stem[i], consonant);
        if consonant {
            return i + 1;
        }
        i += 1;
    }
    0
}

fn m_gt0(stem: &[u8]) -> bool {
    gobble_vc(stem, false) != 0
}

fn m_gt1(stem: &[u8]) -> bool {
    let n = gobble_vc(stem, false);
    n != 0 && gobble_vc(&stem[n..], true) != 0
}

fn m_eq1(stem: &[u8]) -> bool {
    let n = gobble_vc(stem, false);
    n != 0 && gobble_vc(&stem[n..], true) == 0
}

/// Porter's `*o`: the stem ends consonant-vowel-consonant, the last not w, x or y.
fn o_star(stem: &[u8]) -> bool {
    if matches!(stem.last(), None | Some(b'w' | b'x' | b'y')) {
        return false;
    }
    let mut mask: u32 = 0;
    let mut consonant = false;
    for c in stem {
        consonant = !is_vowel(*c, consonant);
        mask = (mask << 1) | u32::from(consonant);
    }
    mask & 0b111 == 0b101
}

fn has_vowel(stem: &[u8]) -> bool {
    stem.iter().enumerate().any(|(i, c)| is_vowel(*c, i > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_as_porter_does() {
        for (word, stemmed) in [
            ("bananas", "banana"),
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("cheese", "chees"),
            ("agreed", "agre"),
            ("hopping", "hop"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("conditional", "condit"),
            ("generalization", "gener"),
            ("electrical", "electr"),
            ("adjustment", "adjust"),
            ("controll", "control"),
            ("boiled", "boil"),
            ("strawberries", "strawberri"),
            ("eggs", "egg"),
        ] {
            assert_eq!(stem(word), stemmed, "{word}");
        }
    }

    #[test]
    fn short_long_and_digit_tokens_pass_through() {
        assert_eq!(stem("is"), "is");
        assert_eq!(stem("100"), "100");
        let long = "a".repeat(65);
        assert_eq!(stem(&long), long);
    }

    #[test]
    fn terms_fold_case_and_diacritics_and_cut_at_punctuation() {
        assert_eq!(
            terms("Jalapeño peppers, RAW"),
            ["jalapeno", "pepper", "raw"]
        );
        assert_eq!(terms("Kellogg's, 2% milk"), ["kellogg", "s", "2", "milk"]);
    }
}
