//! [`Interned`]: values that many tokens carry alike (an org's instance URL, the granted
//! scopes) kept once in the process. A client holding the tokens of 10,000 users of one org
//! holds one copy of the org's instance URL, not 10,000.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

/// The live values of one kind, found by their text. An entry holds its value weakly: the
/// value is dropped with the last token holding it, and its entry is pruned later.
pub(crate) struct Interned<T: AsRef<str>> {
    entries: Mutex<Entries<T>>,
}

struct Entries<T> {
    by_text: BTreeMap<Box<str>, Weak<T>>,
    /// The size at which dead entries are pruned next: twice the live ones at the last
    /// pruning, so pruning costs O(1) per insertion on average.
    prune_at: usize,
}

/// The fewest entries kept before dead ones are pruned.
const MIN_PRUNE_AT: usize = 64;

impl<T: AsRef<str>> Interned<T> {
    /// An empty set (a `static`).
    pub(crate) const fn new() -> Self {
        Self {
            entries: Mutex::new(Entries {
                by_text: BTreeMap::new(),
                prune_at: MIN_PRUNE_AT,
            }),
        }
    }

    /// The live value with the same text as `value` (`value` is dropped), or `value`, kept
    /// as that text's value from now on.
    pub(crate) fn share(&self, value: T) -> Arc<T> {
        // Every update under this lock is one map operation; a poisoned lock is consistent.
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let text = value.as_ref();
        if let Some(live) = entries.by_text.get(text).and_then(Weak::upgrade) {
            return live;
        }
        let text: Box<str> = text.into();
        let value = Arc::new(value);
        if entries.by_text.len() >= entries.prune_at {
            entries.by_text.retain(|_, v| v.strong_count() > 0);
            entries.prune_at = (entries.by_text.len() * 2).max(MIN_PRUNE_AT);
        }
        entries.by_text.insert(text, Arc::downgrade(&value));
        value
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_text
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_value_while_it_lives() {
        let set = Interned::<String>::new();
        let a = set.share("a".to_owned());
        let again = set.share("a".to_owned());
        assert!(Arc::ptr_eq(&a, &again));
        let b = set.share("b".to_owned());
        assert!(!Arc::ptr_eq(&a, &b));
        let weak = Arc::downgrade(&a);
        drop((a, again));
        assert_eq!(
            weak.strong_count(),
            0,
            "the set does not keep a value alive"
        );
        assert_eq!(*set.share("a".to_owned()), "a");
    }

    #[test]
    fn dead_entries_are_pruned() {
        let set = Interned::<String>::new();
        for i in 0..10 * MIN_PRUNE_AT {
            drop(set.share(i.to_string()));
        }
        let kept: Vec<_> = (0..10).map(|i| set.share(format!("kept-{i}"))).collect();
        assert!(set.len() <= MIN_PRUNE_AT + kept.len(), "{}", set.len());
    }
}
