//! Rendered prospect records kept for the next page that shows them: a page of 200 prospects
//! is then one copy per record instead of a rendering of every field (the list pages are what
//! load tests read over and over).
//!
//! A kept rendering holds the `Arc` of the prospect it was rendered from and is served only to
//! that same `Arc`. Every write of a prospect goes through `Arc::make_mut` or a new `Arc`, and
//! while the cache holds one the store's is shared, so any write makes a new allocation: a
//! changed prospect never matches its old rendering, whatever path wrote it. What a rendering
//! reads beyond the prospect is in its [`Shape`] (the v5 fields asked for, the revision of the
//! business unit's custom fields); the users an assigned prospect shows change only with a
//! reset, which replaces every prospect.
//!
//! Bounded: at most [`MAX_SHAPES`] shapes and [`MAX_BYTES`] of renderings; past either, the
//! cache starts again empty (a sweep through 100k prospects keeps nothing it will not read).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use super::fields::V5Field;
use super::record::Prospect;
use crate::pardot::render::Format;

/// What a kept rendering is: the same prospect in the same shape renders to the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// The v3/v4 record with every field (no v4 `fields` list), as an item of a query page in
    /// `format`, with the business unit's custom fields at `custom_revision`.
    V34 {
        /// XML or JSON.
        format: Format,
        /// [`ProspectStore::custom_revision`](super::ProspectStore::custom_revision) when it
        /// was rendered.
        custom_revision: u64,
    },
    /// The v5 record with exactly these fields.
    V5(Vec<V5Field>),
}

/// The most shapes kept at once: the few field sets a load test reads.
const MAX_SHAPES: usize = 8;
/// The most bytes of renderings kept (a 200-prospect page is about 175 KB in v4 JSON and
/// 293 KB in XML).
const MAX_BYTES: usize = 8 << 20;
/// What an entry costs beyond its text: the map slot and the allocation's header.
const ENTRY_OVERHEAD: usize = 48;

/// Prospect ids are small and dense: a multiplication spreads them over the hash's high bits,
/// which the map's probing reads, at a fraction of SipHash's cost.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type ById<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

struct Kept {
    prospect: Arc<Prospect>,
    text: Box<str>,
}

#[derive(Default)]
struct Cache {
    shapes: Vec<(Shape, ById<Kept>)>,
    bytes: usize,
}

/// A whole page's body, served again to a page of the same prospects (the same `Arc`s) in the
/// same shape out of the same total: a load test reads one page over and over.
struct KeptPage {
    shape: Shape,
    total: usize,
    prospects: Vec<Arc<Prospect>>,
    body: Bytes,
}

impl KeptPage {
    fn shows(&self, shape: &Shape, total: usize, page: &[Arc<Prospect>]) -> bool {
        self.total == total
            && self.prospects.len() == page.len()
            && self
                .prospects
                .iter()
                .zip(page)
                .all(|(a, b)| Arc::ptr_eq(a, b))
            && self.shape == *shape
    }
}

/// The most whole pages kept, and the largest body kept.
const MAX_PAGES: usize = 8;
const MAX_PAGE_BYTES: usize = 1 << 20;

/// The renderings of one business unit's prospects.
#[derive(Default)]
pub(crate) struct Fragments {
    cache: RwLock<Cache>,
    pages: RwLock<Vec<KeptPage>>,
}

pardot_auth_core::debug_shows!(Fragments as this {
    bytes: this.read().bytes,
});

impl Fragments {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        // Every change below leaves the cache consistent before it can panic.
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets every rendering (a reset, a custom field changed: nothing kept can be served
    /// again, and its memory goes now).
    pub(crate) fn clear(&self) {
        *self.write() = Cache::default();
        self.pages
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The body of a page whose bytes depend only on `shape`, `total` and the prospects of
    /// `page`: the one kept from a page of the same prospects, else what `write` makes (then
    /// kept, in place of an older rendering of the same ids).
    pub(crate) fn page_body(
        &self,
        shape: &Shape,
        total: usize,
        page: &[Arc<Prospect>],
        write: impl FnOnce() -> String,
    ) -> Bytes {
        let pages = || self.pages.read().unwrap_or_else(|e| e.into_inner());
        if let Some(kept) = pages().iter().find(|k| k.shows(shape, total, page)) {
            return kept.body.clone();
        }
        let body = Bytes::from(write());
        if body.len() <= MAX_PAGE_BYTES {
            let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
            let same_ids = |k: &KeptPage| {
                k.shape == *shape
                    && k.prospects.len() == page.len()
                    && k.prospects.iter().zip(page).all(|(a, b)| a.id == b.id)
            };
            pages.retain(|k| !same_ids(k));
            if pages.len() >= MAX_PAGES {
                pages.remove(0);
            }
            pages.push(KeptPage {
                shape: shape.clone(),
                total,
                prospects: page.to_vec(),
                body: body.clone(),
            });
        }
        body
    }

    /// Writes `page` into `out` in `shape`, `between` between two records: each record's kept
    /// rendering, or what `render` writes for it (then kept).
    pub(crate) fn write_page(
        &self,
        shape: &Shape,
        page: &[Arc<Prospect>],
        between: &str,
        out: &mut String,
        mut render: impl FnMut(&Prospect, &mut String),
    ) {
        // (index into `page`, where its rendering starts and ends in `out`)
        let mut rendered: Vec<(usize, usize, usize)> = Vec::new();
        {
            let cache = self.read();
            let kept = cache
                .shapes
                .iter()
                .find(|(s, _)| s == shape)
                .map(|(_, by_id)| by_id);
            for (i, p) in page.iter().enumerate() {
                if i > 0 {
                    out.push_str(between);
                }
                match kept.and_then(|by_id| by_id.get(&p.id)) {
                    Some(k) if Arc::ptr_eq(&k.prospect, p) => out.push_str(&k.text),
                    _ => {
                        let start = out.len();
                        render(p, out);
                        rendered.push((i, start, out.len()));
                    }
                }
            }
        }
        if !rendered.is_empty() {
            self.keep(shape, page, &rendered, out);
        }
    }

    fn keep(
        &self,
        shape: &Shape,
        page: &[Arc<Prospect>],
        rendered: &[(usize, usize, usize)],
        out: &str,
    ) {
        let added: usize = rendered
            .iter()
            .map(|(_, s, e)| e - s + ENTRY_OVERHEAD)
            .sum();
        if added > MAX_BYTES {
            return;
        }
        let mut cache = self.write();
        let mut known = cache.shapes.iter().position(|(s, _)| s == shape);
        if cache.bytes + added > MAX_BYTES || (known.is_none() && cache.shapes.len() >= MAX_SHAPES)
        {
            *cache = Cache::default();
            known = None;
        }
        let at = match known {
            Some(at) => at,
            None => {
                cache.shapes.push((shape.clone(), ById::default()));
                cache.shapes.len() - 1
            }
        };
        let mut bytes = cache.bytes;
        let by_id = &mut cache.shapes[at].1;
        for &(i, start, end) in rendered {
            let p = &page[i];
            let kept = Kept {
                prospect: Arc::clone(p),
                text: out[start..end].into(),
            };
            bytes += end - start + ENTRY_OVERHEAD;
            if let Some(old) = by_id.insert(p.id, kept) {
                bytes -= old.text.len() + ENTRY_OVERHEAD;
            }
        }
        cache.bytes = bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prospects(ids: std::ops::Range<u64>) -> Vec<Arc<Prospect>> {
        let now = std::time::SystemTime::UNIX_EPOCH;
        ids.map(|id| Arc::new(Prospect::new(id, &format!("p{id}@example.com"), now)))
            .collect()
    }

    /// Writes `page` in `shape` and counts the records `render` was asked for.
    fn write(fragments: &Fragments, shape: &Shape, page: &[Arc<Prospect>]) -> (String, usize) {
        let mut out = String::new();
        let mut rendered = 0;
        fragments.write_page(shape, page, ",", &mut out, |p, out| {
            rendered += 1;
            out.push_str(p.email());
        });
        (out, rendered)
    }

    #[test]
    fn a_page_is_rendered_once_and_a_changed_prospect_again() {
        let fragments = Fragments::default();
        let shape = Shape::V5(Vec::new());
        let mut page = prospects(1..4);
        assert_eq!(
            write(&fragments, &shape, &page),
            ("p1@example.com,p2@example.com,p3@example.com".to_owned(), 3)
        );
        assert_eq!(write(&fragments, &shape, &page).1, 0);
        // A write makes a new allocation (the cache shares the old one): only it is rendered.
        Arc::make_mut(&mut page[1])
            .set("email", "new@example.com")
            .unwrap();
        assert_eq!(
            write(&fragments, &shape, &page),
            (
                "p1@example.com,new@example.com,p3@example.com".to_owned(),
                1
            )
        );
        // Another shape is rendered apart.
        assert_eq!(
            write(&fragments, &Shape::V5(vec![V5Field::IsDeleted]), &page).1,
            3
        );
        fragments.clear();
        assert_eq!(write(&fragments, &shape, &page).1, 3);
    }

    #[test]
    fn a_whole_page_is_served_again_only_to_the_same_prospects_and_total() {
        let fragments = Fragments::default();
        let shape = Shape::V5(Vec::new());
        let mut page = prospects(1..3);
        let written = std::cell::Cell::new(0);
        let body = |page: &[Arc<Prospect>], total: usize| {
            let write = || {
                written.set(written.get() + 1);
                format!("{total}:{}", page[0].email())
            };
            fragments.page_body(&shape, total, page, write)
        };
        assert_eq!(body(&page, 2), "2:p1@example.com");
        assert_eq!(body(&page, 2), "2:p1@example.com");
        assert_eq!(written.get(), 1);
        assert_eq!(body(&page, 3), "3:p1@example.com", "another total");
        Arc::make_mut(&mut page[0])
            .set("email", "new@example.com")
            .unwrap();
        assert_eq!(body(&page, 3), "3:new@example.com", "a written prospect");
        assert_eq!(written.get(), 3);
        for first in 10..10 + MAX_PAGES as u64 {
            body(&prospects(first..first + 1), 1);
        }
        assert_eq!(fragments.pages.read().unwrap().len(), MAX_PAGES);
        fragments.clear();
        assert!(fragments.pages.read().unwrap().is_empty());
    }

    #[test]
    fn the_cache_is_bounded_in_shapes_and_bytes() {
        let fragments = Fragments::default();
        let page = prospects(1..3);
        let shapes: Vec<Shape> = (0..=MAX_SHAPES as u64)
            .map(|custom_revision| Shape::V34 {
                format: Format::Json,
                custom_revision,
            })
            .collect();
        for shape in &shapes {
            write(&fragments, shape, &page);
        }
        // The shape past the limit started the cache again: the first is gone.
        assert_eq!(fragments.read().shapes.len(), 1);
        assert_eq!(write(&fragments, &shapes[0], &page).1, 2);

        // Two pages of 1,000 bytes a record, each under the limit, together over it.
        let count = (MAX_BYTES / 1000 * 5 / 8) as u64;
        let (first, second) = (prospects(1..count), prospects(count..2 * count));
        let write_big = |page: &[Arc<Prospect>]| {
            let mut rendered = 0;
            fragments.write_page(&shapes[1], page, "", &mut String::new(), |_, out| {
                rendered += 1;
                out.push_str(&"x".repeat(1000));
            });
            rendered
        };
        assert_eq!(write_big(&first), first.len());
        assert_eq!(write_big(&second), second.len());
        assert!(fragments.read().bytes <= MAX_BYTES, "{fragments:?}");
        assert_eq!(write_big(&first), first.len(), "the first page was let go");
    }
}
