//! The compact storage of a prospect's text fields.

/// The text fields that are set, in one allocation (most of the 34 are empty, and a large
/// store's memory was dominated first by 34 `Option<String>`, then by one `Box<str>` per set
/// field). Entries are in index order; each is its index into [`TEXT_FIELDS`](super::fields::TEXT_FIELDS) (one char), its
/// length in bytes (base-64 digits, least significant first, one char each with 0x40 set on
/// all but the last) and its text. Every header char is ASCII, so the whole is a `str` and a
/// value is a slice of it, with no UTF-8 check on reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Texts(pub(super) Box<str>);

/// How many text slots a prospect has: the [`TEXT_FIELDS`](super::fields::TEXT_FIELDS), then one per custom field of its
/// business unit. A key is one ASCII char, so the slots stop below 128.
pub(crate) const SLOTS: usize = 128;

/// The entries of a [`Texts`], in index order.
struct TextEntries<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for TextEntries<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        // A malformed table (which `Texts::set` never writes) ends the iteration: no panic.
        let bytes = self.text.as_bytes();
        let key = *bytes.get(self.pos)?;
        let mut pos = self.pos + 1;
        let mut len = 0usize;
        let mut shift = 0u32;
        loop {
            let digit = *bytes.get(pos)?;
            pos += 1;
            len |= usize::from(digit & 0x3f).checked_shl(shift)?;
            if digit & 0x40 == 0 {
                break;
            }
            shift += 6;
        }
        let end = pos.checked_add(len)?;
        let value = self.text.get(pos..end)?;
        self.pos = end;
        Some((usize::from(key), value))
    }
}

impl Texts {
    fn entries(&self) -> TextEntries<'_> {
        TextEntries {
            text: &self.0,
            pos: 0,
        }
    }

    /// Field `i`, by walking the headers (the hot path of every page: a tight loop, with the
    /// one-digit length of almost every value decoded inline).
    pub(super) fn get(&self, i: usize) -> Option<&str> {
        let bytes = self.0.as_bytes();
        let mut pos = 0;
        while let (Some(&key), Some(&digit)) = (bytes.get(pos), bytes.get(pos + 1)) {
            let key = usize::from(key);
            if key > i {
                return None;
            }
            let (start, end) = if digit & 0x40 == 0 {
                (pos + 2, pos + 2 + usize::from(digit))
            } else {
                let mut entries = TextEntries { text: &self.0, pos };
                let (_, value) = entries.next()?;
                (entries.pos - value.len(), entries.pos)
            };
            if key == i {
                return self.0.get(start..end);
            }
            pos = end;
        }
        None
    }

    /// The bytes one entry takes.
    fn entry_len(value: &str) -> usize {
        let mut digits = 1;
        let mut n = value.len() >> 6;
        while n > 0 {
            digits += 1;
            n >>= 6;
        }
        1 + digits + value.len()
    }

    fn push_entry(out: &mut String, key: u8, value: &str) {
        out.push(char::from(key));
        let mut n = value.len();
        loop {
            // Both casts keep 6 bits; the digit stays ASCII either way.
            let digit = (n & 0x3f) as u8;
            n >>= 6;
            if n == 0 {
                out.push(char::from(digit));
                break;
            }
            out.push(char::from(digit | 0x40));
        }
        out.push_str(value);
    }

    /// Sets (or with `None` clears) field `i`, an index into [`TEXT_FIELDS`](super::fields::TEXT_FIELDS) or a custom
    /// field's slot after them (below [`SLOTS`]). The table is
    /// rewritten into an allocation of exactly its size: a prospect has a handful of fields and
    /// is kept for the process's life, so writes pay for compact reads and storage.
    pub(super) fn set(&mut self, i: usize, value: Option<&str>) {
        let Some(key) = u8::try_from(i).ok().filter(|_| i < SLOTS) else {
            return;
        };
        if value.is_none() && self.get(i).is_none() {
            return;
        }
        let size: usize = self
            .entries()
            .filter(|(k, _)| *k != i)
            .map(|(_, v)| Self::entry_len(v))
            .sum::<usize>()
            + value.map_or(0, Self::entry_len);
        let mut out = String::with_capacity(size);
        let mut pending = value;
        for (k, v) in self.entries() {
            if k == i {
                continue;
            }
            if k > i
                && let Some(value) = pending.take()
            {
                Self::push_entry(&mut out, key, value);
            }
            // `k` came from a table only `set` writes: always an index below `SLOTS`.
            Self::push_entry(&mut out, u8::try_from(k).unwrap_or(u8::MAX), v);
        }
        if let Some(value) = pending {
            Self::push_entry(&mut out, key, value);
        }
        self.0 = out.into_boxed_str();
    }
}
