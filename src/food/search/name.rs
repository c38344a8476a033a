//! How a food's name is built: USDA's comma style ("Fish, salmon, Atlantic, farmed, raw" — class,
//! food, qualifiers) or plain English ("Greek yogurt"). Each word gets a role and a weight: the head
//! noun of the food's own segment counts most, its other words next, qualifiers less the later they
//! come, and class prefixes, brands, default-form words, numbers and asides nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::text::{fold, is_stop_word, stem, words};
use super::vocabulary::{Phrase, Vocabulary};

/// Weight of the head noun, and of the food segment's other words.
const HEAD: f64 = 2.0;
const IDENTITY: f64 = 1.0;
/// Share of its weight a word keeps inside an ingredient clause ("made with egg").
const CLAUSE_SHARE: f64 = 0.5;

/// Words that open an ingredient or packing clause inside a segment: what follows is not the food.
const CLAUSE_MARKERS: &[&str] = &[
    "with",
    "made",
    "prepared",
    "from",
    "in",
    "includes",
    "include",
    "containing",
    "contains",
];

/// One word of a name.
#[derive(Clone, Debug)]
pub(crate) struct Word {
    pub stem: String,
    /// The folded written form, for joined words and typos ("icecream", "cucmber").
    pub surface: String,
    /// Inside an ingredient clause: a query word found only here is only partly found.
    pub clause: bool,
}

/// A name, analysed once and scored against every reading of a query.
#[derive(Clone, Debug)]
pub(crate) struct Name {
    /// The name as written.
    pub text: String,
    /// The words outside parentheses, in order (what phrases are matched against).
    pub words: Vec<Word>,
    /// Every stem the name has, asides included, with its weight (the largest when repeated).
    pub weights: BTreeMap<String, f64>,
    /// The head noun, and the words an attached aside gives for it ("Chickpeas (garbanzo beans)").
    pub heads: BTreeSet<String>,
    /// Stems of the class prefix ("nut" in "Nuts, almonds").
    pub category: BTreeSet<String>,
    /// Stems of the food's own segment, head included.
    pub identity: BTreeSet<String>,
    /// Stems of "with …" segments, for additions the query did not ask for.
    pub additions: BTreeSet<String>,
    /// Words an attached aside gives for the food ("garbanzo" for chickpeas): a weaker head.
    pub synonyms: BTreeSet<String>,
    /// Every written word outside parentheses, folded, stop words kept, by segment.
    pub segments: Vec<Vec<String>>,
    /// The written words of the asides.
    pub asides: Vec<Vec<String>>,
    /// Stems of brand words (written in capitals): the food's identity when the query names them.
    pub brands: BTreeSet<String>,
    /// Stems of the food's own segment and the qualifier segments after it ("naan" in "Bread, naan",
    /// "cumin" in "Spices, cumin seed"), outside clauses and additions: the kind of the food, which a
    /// query may name alone.
    pub kinds: BTreeSet<String>,
    /// Stems of each segment after the food's own one, outside clauses and brands ("honey mustard" in
    /// "Salad dressing, honey mustard, regular"): a query naming one of them whole names the food SR
    /// files under a class noun.
    pub qualifiers: Vec<Vec<String>>,
    /// Stems of "includes …" asides ("sourdough" in "Bread, french or vienna (includes
    /// sourdough)"): foods the entry says it stands for.
    pub included: BTreeSet<String>,
    /// Sum of all weights: what a query would cover by naming everything.
    pub total: f64,
}

/// A comma-separated part of a name: its words outside parentheses, and its parenthesized asides.
struct Segment {
    written: Vec<(String, bool)>,
    asides: Vec<String>,
}

impl Segment {
    fn stems(&self) -> Phrase {
        self.written
            .iter()
            .flat_map(|(w, _)| words(w))
            .filter(|w| !is_stop_word(w))
            .map(|w| stem(&w))
            .collect()
    }
}

/// USDA writes brand names in capitals inside descriptions ("Cereals, QUAKER, Quick Oats",
/// "McDONALD'S, Hamburger"): a written word with three capitals in a row.
fn is_brand_word(written: &str) -> bool {
    written
        .chars()
        .collect::<Vec<_>>()
        .windows(3)
        .any(|w| w.iter().all(char::is_ascii_uppercase))
}

/// Which of a run of written words are brand words: those of [`is_brand_word`], and a short word
/// in capitals next to one ("US" in "MARS SNACKFOOD US", "OF" in "CREAM OF WHEAT").
pub(crate) fn brand_flags(written: &[&str]) -> Vec<bool> {
    let mut strong: Vec<bool> = written.iter().map(|w| is_brand_word(w)).collect();
    // A maker SR writes in ordinary case ("Nabisco", "Pepperidge Farm") is a brand too.
    let folded: Vec<String> = written.iter().map(|w| words(w).concat()).collect();
    for label in &super::vocabulary::vocabulary().brand_labels {
        for at in 0..written.len() {
            if folded[at..].starts_with(label) {
                strong[at..at + label.len()].fill(true);
            }
        }
    }
    let capitals = |w: &str| {
        let letters: Vec<char> = w.chars().filter(char::is_ascii_alphabetic).collect();
        letters.len() >= 2 && letters.iter().all(char::is_ascii_uppercase)
    };
    (0..written.len())
        .map(|i| {
            strong[i]
                || (capitals(written[i])
                    && ((i > 0 && strong[i - 1]) || strong.get(i + 1) == Some(&true)))
        })
        .collect()
}

fn segments(name: &str) -> Vec<Segment> {
    let mut segments = vec![Segment {
        written: Vec::new(),
        asides: Vec::new(),
    }];
    let (mut depth, mut word, mut aside) = (0_u32, String::new(), String::new());
    let flush = |word: &mut String, segment: &mut Segment| {
        if !word.is_empty() {
            segment.written.push((std::mem::take(word), false));
        }
    };
    for c in name.chars() {
        let segment = segments.last_mut().expect("one segment at least");
        match c {
            '(' => {
                flush(&mut word, segment);
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    segment.asides.push(std::mem::take(&mut aside));
                }
            }
            _ if depth > 0 => aside.push(c),
            ',' | ';' => {
                flush(&mut word, segment);
                segments.push(Segment {
                    written: Vec::new(),
                    asides: Vec::new(),
                });
            }
            c if c.is_whitespace() => flush(&mut word, segment),
            c => word.push(c),
        }
    }
    if !aside.is_empty() {
        segments
            .last_mut()
            .expect("one segment at least")
            .asides
            .push(aside);
    }
    let last = segments.last_mut().expect("one segment at least");
    flush(&mut word, last);
    for segment in &mut segments {
        let written: Vec<&str> = segment.written.iter().map(|(w, _)| w.as_str()).collect();
        let flags = brand_flags(&written);
        for ((_, brand), flag) in segment.written.iter_mut().zip(flags) {
            *brand = flag;
        }
    }
    segments
        .into_iter()
        .filter(|s| !s.written.is_empty() || !s.asides.is_empty())
        .collect()
}

/// How many leading segments name a class (or only a brand), as the vocabulary lists them.
fn category_len(segments: &[Segment], vocabulary: &Vocabulary) -> usize {
    let stems: Vec<Phrase> = segments.iter().map(Segment::stems).collect();
    let mut len = vocabulary
        .categories
        .iter()
        .filter(|c| c.len() < stems.len() && stems[..c.len()] == c[..])
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    // "McDONALD'S, french fries", "Cereals ready-to-eat, POST, GRAPE-NUTS Cereal": brand-only
    // segments are labels, and after a class so is a segment of form words only ("Tomato products,
    // canned, sauce").
    while let Some(segment) = segments.get(len).filter(|_| len + 1 < segments.len()) {
        let brand_only =
            !segment.written.is_empty() && segment.written.iter().all(|(_, brand)| *brand);
        let form_only = len > 0
            && !stems[len].is_empty()
            && stems[len].iter().all(|s| {
                vocabulary.is_default(s)
                    || vocabulary
                        .variants
                        .iter()
                        .any(|v| v.term.stems == std::slice::from_ref(s))
            });
        if !(brand_only || form_only) {
            break;
        }
        len += 1;
    }
    len
}

impl Name {
    pub(crate) fn analyse(name: &str, vocabulary: &Vocabulary) -> Name {
        let segments = segments(name);
        let category_len = category_len(&segments, vocabulary);
        let mut identity_index = category_len.min(segments.len().saturating_sub(1));
        // "Cake, cheesecake", "Bread, cornbread": a next segment naming a kind of the first is the food.
        let last_written = |segment: &Segment| {
            segment
                .written
                .last()
                .map(|(w, _)| fold(w))
                .unwrap_or_default()
        };
        if let Some(next) = segments.get(identity_index + 1) {
            let (first, kind) = (last_written(&segments[identity_index]), last_written(next));
            let first = first.trim_end_matches('s');
            if first.len() >= 3
                && kind.len() > first.len() + 2
                && kind.trim_end_matches('s').ends_with(first)
            {
                identity_index += 1;
            }
        }
        let mut result = Name {
            text: name.to_string(),
            words: Vec::new(),
            weights: BTreeMap::new(),
            heads: BTreeSet::new(),
            category: BTreeSet::new(),
            identity: BTreeSet::new(),
            additions: BTreeSet::new(),
            synonyms: BTreeSet::new(),
            segments: Vec::new(),
            asides: Vec::new(),
            brands: BTreeSet::new(),
            kinds: BTreeSet::new(),
            qualifiers: Vec::new(),
            included: BTreeSet::new(),
            total: 0.0,
        };
        let put = |weights: &mut BTreeMap<String, f64>, stem: String, weight: f64| {
            let entry = weights.entry(stem).or_insert(weight);
            *entry = entry.max(weight);
        };

        for (index, segment) in segments.iter().enumerate() {
            let level = index.saturating_sub(identity_index);
            let qualifier = 0.5_f64
                .powi(i32::try_from(level).unwrap_or(i32::MAX))
                .max(0.1);
            let opens_with = segment
                .written
                .first()
                .map(|(w, _)| fold(w))
                .unwrap_or_default();
            let addition = index > identity_index && opens_with == "with";
            let mut in_clause = index > identity_index
                && CLAUSE_MARKERS.contains(&opens_with.as_str())
                && opens_with != "with";
            // The head is the last word of the food's own segment before any clause that is not a
            // number, a brand or a default-form word; a word before "or" is one too ("hazelnuts or
            // filberts"). Words after "no", "without", "non" or "other than" are not in the food.
            let mut head: Option<String> = None;
            let mut any_word: Option<String> = None;
            let mut co_heads: Vec<String> = Vec::new();
            let mut negated = false;
            let written_words: Vec<String> =
                segment.written.iter().flat_map(|(w, _)| words(w)).collect();
            result.segments.push(written_words.clone());
            let mut position = 0;
            let mut qualifier_stems: Vec<String> = Vec::new();
            for (written, brand) in &segment.written {
                let folded = words(written);
                for w in &folded {
                    if matches!(w.as_str(), "no" | "without" | "non" | "not")
                        || (w == "other"
                            && written_words.get(position + 1).map(String::as_str) == Some("than"))
                    {
                        negated = true;
                    }
                    if w == "or" && index == identity_index && !in_clause {
                        co_heads.extend(head.clone());
                    }
                    position += 1;
                }
                if negated {
                    continue;
                }
                let parts: Vec<&String> = folded.iter().filter(|w| !is_stop_word(w)).collect();
                // "commercially prepared" is how the food is sold, not what it is made with.
                let commercially = result
                    .words
                    .last()
                    .is_some_and(|w| w.surface == "commercially");
                if folded
                    .first()
                    .is_some_and(|w| CLAUSE_MARKERS.contains(&w.as_str()))
                    && index >= identity_index
                    && !result.words.is_empty()
                    && !commercially
                {
                    in_clause = true;
                }
                // "long-grain" is one qualifier: its two stems share one weight.
                let share = 1.0 / parts.len().max(1) as f64;
                for part in parts {
                    let stem = stem(part);
                    let numeric = stem.chars().all(char::is_numeric);
                    let weight = if index < category_len
                        || *brand
                        || numeric
                        || vocabulary.is_default(&stem)
                    {
                        0.0
                    } else if index == identity_index {
                        IDENTITY * share
                    } else {
                        qualifier * share
                    };
                    let weight = if in_clause {
                        weight * CLAUSE_SHARE
                    } else {
                        weight
                    };
                    if index < category_len {
                        result.category.insert(stem.clone());
                    }
                    if index == identity_index && !in_clause {
                        result.identity.insert(stem.clone());
                        if !numeric {
                            any_word = Some(stem.clone());
                        }
                        if !*brand && !numeric && !vocabulary.is_default(&stem) {
                            head = Some(stem.clone());
                        }
                    }
                    if index > identity_index && !addition && !in_clause && !*brand {
                        qualifier_stems.push(stem.clone());
                    }
                    if addition {
                        result.additions.insert(stem.clone());
                    } else if index >= identity_index && !in_clause && !*brand && weight > 0.0 {
                        result.kinds.insert(stem.clone());
                    }
                    if *brand {
                        result.brands.insert(stem.clone());
                    }
                    put(&mut result.weights, stem.clone(), weight);
                    result.words.push(Word {
                        stem,
                        surface: part.clone(),
                        clause: in_clause,
                    });
                }
            }
            if !qualifier_stems.is_empty() {
                result.qualifiers.push(qualifier_stems);
            }
            // "Cereals ready-to-eat, GENERAL MILLS, CHEERIOS": a brand is the head when nothing else is.
            if let Some(head) = head.or(any_word) {
                for h in co_heads.into_iter().chain([head]) {
                    result.heads.insert(h.clone());
                    put(&mut result.weights, h, HEAD);
                }
            }
            // An aside on the food's own segment, standing alone after it, or on a later segment
            // ending in the head names the food again: "Chickpeas (garbanzo beans, bengal gram)",
            // "Tangerines, (mandarin oranges)", "Fish, salmon, chinook, smoked, (lox)", "Butter,
            // Clarified butter (ghee)".
            let ends_in_head = segment
                .written
                .last()
                .is_some_and(|(w, _)| result.heads.contains(&stem(&fold(w))));
            let attached = index == identity_index
                || (index > identity_index && (segment.written.is_empty() || ends_in_head));
            for aside in &segment.asides {
                let written = words(aside);
                let describes = written.iter().any(|w| w == "and")
                    || written.first().is_some_and(|w| {
                        matches!(
                            w.as_str(),
                            "a" | "an"
                                | "includes"
                                | "include"
                                | "made"
                                | "may"
                                | "such"
                                | "contains"
                                | "containing"
                                | "approximately"
                                | "n"
                                | "with"
                        )
                    });
                let includes = written
                    .first()
                    .is_some_and(|w| matches!(w.as_str(), "includes" | "include"));
                for stem in written.iter().filter(|w| !is_stop_word(w)).map(|w| stem(w)) {
                    if attached && !describes && !vocabulary.is_default(&stem) {
                        result.synonyms.insert(stem.clone());
                    }
                    if includes && !vocabulary.is_default(&stem) {
                        result.included.insert(stem.clone());
                    }
                    put(&mut result.weights, stem, 0.0);
                }
                result.asides.push(written);
            }
        }
        // Co-heads are one head: their weight counts once.
        let heads = result.heads.len() as f64;
        result.total =
            result.weights.values().sum::<f64>() - (heads - 1.0).max(0.0) * result.head_weight();
        result
    }

    /// The weight of a stem in this name, 0 when absent.
    pub(crate) fn weight(&self, stem: &str) -> f64 {
        self.weights.get(stem).copied().unwrap_or(0.0)
    }

    /// The head's weight.
    pub(crate) fn head_weight(&self) -> f64 {
        self.heads
            .iter()
            .map(|h| self.weight(h))
            .fold(0.0, f64::max)
    }

    /// Whether the name's words (outside parentheses) contain the phrase.
    pub(crate) fn has_phrase(&self, phrase: &[String]) -> bool {
        !phrase.is_empty()
            && self
                .words
                .windows(phrase.len())
                .any(|w| w.iter().zip(phrase).all(|(a, b)| &a.stem == b))
    }

    /// Whether the written words (folded) occur in the name, in one segment or aside.
    pub(crate) fn has_written(&self, phrase: &[String]) -> bool {
        !phrase.is_empty()
            && self
                .segments
                .iter()
                .chain(&self.asides)
                .any(|words| words.windows(phrase.len()).any(|w| w == phrase))
    }

    /// Whether some segment is exactly these written words ("skin" in "Potatoes, raw, skin").
    pub(crate) fn has_segment(&self, phrase: &[String]) -> bool {
        self.segments.iter().any(|words| words == phrase)
    }

    /// Whether the stem occurs outside ingredient clauses (or anywhere in an aside).
    pub(crate) fn has_outside_clause(&self, stem: &str) -> bool {
        self.words.iter().any(|w| w.stem == stem && !w.clause)
            || (self.weights.contains_key(stem) && !self.words.iter().any(|w| w.stem == stem))
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::tokens;
    use super::super::vocabulary::vocabulary;
    use super::*;

    fn analyse(name: &str) -> Name {
        Name::analyse(name, vocabulary())
    }

    fn one(text: &str) -> String {
        tokens(text).remove(0)
    }

    #[test]
    fn the_head_is_the_food_segments_last_word() {
        let n = analyse("Bread, banana");
        assert_eq!(n.heads, [one("bread")].into());
        assert!(n.weight(&one("banana")) < n.weight(&one("bread")));
        let n = analyse("Potatoes, flesh and skin, raw");
        assert_eq!(n.heads, [one("potatoes")].into());
        assert_eq!(n.weight("raw"), 0.0);
        let n = analyse("Potato salad with egg");
        assert_eq!(n.heads, [one("salad")].into(), "the clause is not the head");
        assert!(n.words.iter().any(|w| w.stem == one("egg") && w.clause));
        let n = analyse("Cookies, chocolate chip, commercially prepared, regular");
        assert!(
            n.words.iter().all(|w| !w.clause),
            "a way of being sold is no clause"
        );
    }

    #[test]
    fn class_prefixes_brands_and_asides_are_not_the_food() {
        let n = analyse("Nuts, almonds");
        assert_eq!(n.heads, [one("almonds")].into());
        assert_eq!(n.weight(&one("nuts")), 0.0);
        assert!(n.category.contains(&one("nuts")));
        let n = analyse("Restaurant, Chinese, fried rice");
        assert_eq!(n.heads, [one("rice")].into());
        let n = analyse("McDONALD'S, french fries");
        assert_eq!(n.heads, [one("fries")].into());
        let n = analyse("PIZZA HUT 14\" Cheese Pizza, Pan Crust");
        assert_eq!(n.heads, [one("pizza")].into());
        let n = analyse("Tomato products, canned, sauce");
        assert_eq!(n.heads, [one("sauce")].into());
        let n = analyse("Chickpeas (garbanzo beans, bengal gram), mature seeds, raw");
        assert!(n.synonyms.contains(&one("garbanzo")) && n.heads.contains(&one("chickpeas")));
        let n = analyse("Tangerines, (mandarin oranges), raw");
        assert!(n.synonyms.contains(&one("mandarin")));
        let n = analyse("Fish, salmon, chinook, smoked, (lox), regular");
        assert!(n.synonyms.contains(&one("lox")), "an aside standing alone");
        let n = analyse("Butter, Clarified butter (ghee)");
        assert!(
            n.synonyms.contains(&one("ghee")),
            "an aside on the head again"
        );
        let n = analyse("Potatoes, baked, flesh (without salt)");
        assert!(n.synonyms.is_empty(), "an aside on a qualifier");
        let n = analyse("Braunschweiger (a liver sausage), pork");
        assert!(n.synonyms.is_empty(), "a description is no synonym");
        let n = analyse("Nuts, hazelnuts or filberts");
        assert!(n.heads.contains(&one("hazelnuts")) && n.heads.contains(&one("filberts")));
        assert_eq!(n.total, HEAD, "co-heads count once");
        let n = analyse("Cake, coffeecake, cheese");
        assert_eq!(
            n.heads,
            [one("coffeecake")].into(),
            "a kind of cake is the food"
        );
        let n = analyse("BURGER KING, WHOPPER, no cheese");
        assert!(
            !n.weights.contains_key(&one("cheese")),
            "negated words are not in the food"
        );
        assert!(n.has_written(&words("no cheese")));
        let n = analyse("Candies, MARS SNACKFOOD US, TWIX Caramel Cookie Bars");
        assert_eq!(
            n.heads,
            [one("bars")].into(),
            "US is part of the brand label"
        );
        let n = analyse("Nabisco, Nabisco Ritz Crackers");
        assert_eq!(n.heads, [one("crackers")].into(), "a maker's label");
        assert!(n.brands.contains(&one("nabisco")) && n.weight(&one("nabisco")) == 0.0);
        let n = analyse("Bread, french or vienna (includes sourdough)");
        assert!(n.included.contains(&one("sourdough")) && n.synonyms.is_empty());
        let n = analyse("Salad dressing, honey mustard, regular");
        assert!(n.qualifiers.contains(&vec![one("honey"), one("mustard")]));
        let n = analyse("WENDY'S, DAVE'S Hot 'N Juicy 1/4 LB, single");
        assert!(
            !n.brands.contains(&one("lb")),
            "a unit in capitals is no brand"
        );
        let n = analyse("Oats (Includes foods for USDA's Food Distribution Program)");
        assert_eq!(n.heads, [one("oats")].into());
        assert_eq!(n.head_weight(), HEAD);
        assert_eq!(n.total, HEAD);
    }

    #[test]
    fn later_qualifiers_weigh_less() {
        let n = analyse("Milk, whole, 3.25% milkfat, with added vitamin D");
        assert!(n.weight(&one("milkfat")) < IDENTITY);
        assert_eq!(n.weight(&one("whole")), 0.0, "a default-form word");
        assert!(n.additions.contains(&one("vitamin")));
        assert!(n.has_phrase(&tokens("added vitamin")));
        assert!(!n.has_phrase(&tokens("vitamin added")));
    }
}
