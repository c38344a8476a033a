//! What ranking reads from a food's name and brand whatever the query — the name's structure, its
//! brand runs, the word sets de-duplication compares — made once per food and kept with its
//! summary ([`Analysed`]): a search scores up to a hundred candidates, and the catalog's come back
//! query after query.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::food::kept::Kept;

use super::name::{Name, brand_flags};
use super::text::tokens;
use super::vocabulary::vocabulary;

/// A set of stems.
pub(crate) type Words = BTreeSet<String>;

/// A food's name and brand as ranking reads them, whatever the query.
#[derive(Clone, Debug)]
pub(crate) struct Analysis {
    /// The name's structure and word weights (it keeps the name it was read from).
    pub name: Name,
    /// The brand it was read from.
    brand: Option<String>,
    /// The runs of brand words in the name, as stems, and the stems of its other words
    /// ([`brand_runs_in_name`]). The other stems are kept only when there are runs, the one case
    /// they are read: an analysis kept per catalog food adds up (≈ 5 KB each).
    pub brand_runs: Vec<Vec<String>>,
    pub other_stems: Words,
    /// The stems of the whole name and of the brand: what de-duplication compares.
    pub name_words: Words,
    pub brand_words: Words,
}

impl Analysis {
    pub(crate) fn new(name: &str, brand: Option<&str>) -> Analysis {
        let analysed = Name::analyse(name, vocabulary());
        let (brand_runs, mut other_stems) = brand_runs_in_name(name);
        if brand_runs.is_empty() {
            other_stems.clear();
        }
        Analysis {
            name: analysed,
            brand: brand.map(str::to_string),
            brand_runs,
            other_stems,
            name_words: tokens(name).into_iter().collect(),
            brand_words: brand.map(tokens).unwrap_or_default().into_iter().collect(),
        }
    }

    fn is_of(&self, name: &str, brand: Option<&str>) -> bool {
        self.name.text == name && self.brand.as_deref() == brand
    }
}

/// A summary's [`Analysis`], made on first use and kept ([`Kept`]), so that a catalog food is
/// analysed once per process, not once per search. A summary whose name or brand changed after it
/// was made is analysed afresh. Boxed so that the catalog's empty ones cost a pointer each, not a
/// whole analysis.
#[derive(Clone, Default, PartialEq, Debug)]
pub struct Analysed(Kept<Box<Analysis>>);

impl Analysed {
    /// The analysis of this name and brand: the kept one when it was made from them.
    pub(crate) fn of(&self, name: &str, brand: Option<&str>) -> Cow<'_, Analysis> {
        let kept = self.0.get_or_init(|| Box::new(Analysis::new(name, brand)));
        if kept.is_of(name, brand) {
            Cow::Borrowed(kept)
        } else {
            Cow::Owned(Analysis::new(name, brand))
        }
    }

    #[cfg(test)]
    pub(crate) fn is_made(&self) -> bool {
        self.0.get().is_some()
    }
}

/// The runs of brand words in a name, as stems, and the stems of its other words. USDA writes brand
/// names in capitals inside descriptions ("Cereals, QUAKER, Quick Oats", "McDONALD'S, Hamburger"): a
/// run is consecutive words with three capitals in a row, outside parentheses.
fn brand_runs_in_name(name: &str) -> (Vec<Vec<String>>, BTreeSet<String>) {
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut others = BTreeSet::new();
    let mut open = false;
    let text = main_text(name);
    let written: Vec<&str> = text.split_whitespace().collect();
    for (word, brand) in written.iter().zip(brand_flags(&written)) {
        for (i, part) in word.split(',').enumerate() {
            if i > 0 {
                open = false;
            }
            let stems = tokens(part);
            if stems.is_empty() {
                continue;
            }
            if brand {
                if !open {
                    runs.push(Vec::new());
                }
                runs.last_mut().expect("a run was opened").extend(stems);
                open = true;
            } else {
                others.extend(stems);
                open = false;
            }
        }
    }
    (runs, others)
}

/// A name without its parenthesized asides.
fn main_text(name: &str) -> String {
    let mut depth = 0_u32;
    name.chars()
        .filter(|c| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => return depth == 0,
            }
            false
        })
        .collect()
}
