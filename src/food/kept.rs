//! [`Kept`]: a value derived from a record's own fields, made on first use and kept with it. Clones
//! share it (an `Arc`), so a record cloned out of the catalog snapshot or the food cache derives it
//! once per process, not once per request. Being derived, it takes no part in equality, and the
//! records skip it when they are serialised.

use std::sync::{Arc, OnceLock};

pub struct Kept<T>(Arc<OnceLock<T>>);

impl<T> Kept<T> {
    /// The kept value, made by `make` the first time any clone asks.
    pub fn get_or_init(&self, make: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(make)
    }

    /// The value when some clone has made it.
    pub fn get(&self) -> Option<&T> {
        self.0.get()
    }
}

impl<T> Clone for Kept<T> {
    fn clone(&self) -> Self {
        Kept(Arc::clone(&self.0))
    }
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept(Arc::new(OnceLock::new()))
    }
}

impl<T> PartialEq for Kept<T> {
    fn eq(&self, _: &Kept<T>) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for Kept<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kept")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_value_made_once() {
        let kept: Kept<u32> = Kept::default();
        let clone = kept.clone();
        assert_eq!(kept.get(), None);
        let mut made = 0;
        assert_eq!(
            *clone.get_or_init(|| {
                made += 1;
                7
            }),
            7
        );
        assert_eq!(
            *kept.get_or_init(|| {
                made += 1;
                8
            }),
            7,
            "made by the clone, kept"
        );
        assert_eq!(made, 1);
        assert_eq!(kept, Kept::default(), "derived: no part in equality");
    }
}
