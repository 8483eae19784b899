//! [`read_bounded`]: the one way the pardot-auth clients read a response body.

use std::fmt;

/// Why a bounded body could not be read.
#[derive(Debug)]
pub enum BodyError<E> {
    /// The body is (or was announced as) longer than the bound.
    TooLarge {
        /// The bound, in bytes.
        limit: usize,
    },
    /// Reading a chunk failed.
    Read(E),
}

impl<E: fmt::Display> fmt::Display for BodyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "the response body exceeds {limit} bytes"),
            Self::Read(e) => write!(f, "reading the response body failed: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BodyError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::TooLarge { .. } => None,
            Self::Read(e) => Some(e),
        }
    }
}

/// Reads a body chunk by chunk, refusing more than `limit` bytes: a longer body is an error,
/// never a silent cut.
///
/// `announced` is the `Content-Length`, if any: one above the bound fails before anything is
/// read, and one within it sizes the buffer. `next_chunk` takes the response and gives it back
/// with its next chunk, `None` at the end (for `reqwest`:
/// `async |mut r| { let chunk = r.chunk().await; (r, chunk) }`); passing the response along
/// instead of borrowing it keeps the read `Send` inside `async_trait` methods. A body that
/// arrives in one chunk, as most answers do, is handed back without a copy.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use pardot_auth_core::body::{read_bounded, BodyError};
///
/// // The chunks arrive from the end of the list.
/// let chunks = || vec![b"lo".to_vec(), b"hel".to_vec()];
/// let next = async |mut rest: Vec<Vec<u8>>| {
///     let chunk = rest.pop();
///     (rest, Ok::<_, ()>(chunk))
/// };
/// let body: Vec<u8> = read_bounded(chunks(), None, 8, next).await.unwrap();
/// assert_eq!(body, b"hello");
///
/// let long = read_bounded::<_, Vec<u8>, _>(chunks(), None, 4, next).await;
/// assert!(matches!(long, Err(BodyError::TooLarge { limit: 4 })));
/// # }
/// ```
pub async fn read_bounded<R, C, E>(
    response: R,
    announced: Option<u64>,
    limit: usize,
    next_chunk: impl AsyncFn(R) -> (R, Result<Option<C>, E>),
) -> Result<C, BodyError<E>>
where
    C: AsRef<[u8]> + From<Vec<u8>>,
{
    let too_large = || BodyError::TooLarge { limit };
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let (response, first) = next_chunk(response).await;
    let Some(first) = first.map_err(BodyError::Read)? else {
        return Ok(C::from(Vec::new()));
    };
    if first.as_ref().len() > limit {
        return Err(too_large());
    }
    let (mut response, second) = next_chunk(response).await;
    let Some(second) = second.map_err(BodyError::Read)? else {
        return Ok(first);
    };
    // The announced length is within the bound; without one, start from what arrived.
    let capacity = announced.map_or(first.as_ref().len() + second.as_ref().len(), |n| n as usize);
    let mut buf = Vec::with_capacity(capacity);
    buf.extend_from_slice(first.as_ref());
    let mut chunk = Some(second);
    while let Some(piece) = chunk {
        if buf.len() + piece.as_ref().len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(piece.as_ref());
        let (rest, next) = next_chunk(response).await;
        (response, chunk) = (rest, next.map_err(BodyError::Read)?);
    }
    Ok(C::from(buf))
}

/// Implements what every client's response offers over the body it read: `status()`,
/// `headers()`, `bytes()` and `text()`, on a type with the fields `status: http::StatusCode`,
/// `headers: http::HeaderMap` and `body: bytes::Bytes` (the using crate depends on `http` and
/// `bytes`).
///
/// `response_accessors!(Type, Error, make)`: a body that is not UTF-8 makes `text()` fail with
/// `make("the body is not UTF-8: …")`, `make` being the client's way to build an
/// [`ErrorKind::InvalidResponse`](crate::ErrorKind::InvalidResponse) error from a message.
#[macro_export]
macro_rules! response_accessors {
    ($name:ident, $error:ty, $invalid:path) => {
        impl $name {
            /// The HTTP status.
            pub fn status(&self) -> ::http::StatusCode {
                self.status
            }

            /// The headers.
            pub fn headers(&self) -> &::http::HeaderMap {
                &self.headers
            }

            /// The body.
            pub fn bytes(&self) -> &::bytes::Bytes {
                &self.body
            }

            /// The body as UTF-8 text (invalid UTF-8 is an error).
            pub fn text(&self) -> ::std::result::Result<&str, $error> {
                ::std::str::from_utf8(&self.body)
                    .map_err(|e| $invalid(::std::format!("the body is not UTF-8: {e}")))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(
        chunks: &[&str],
        announced: Option<u64>,
        limit: usize,
    ) -> Result<Vec<u8>, BodyError<()>> {
        let rest: Vec<Vec<u8>> = chunks.iter().rev().map(|c| c.as_bytes().to_vec()).collect();
        read_bounded(rest, announced, limit, async |mut rest: Vec<Vec<u8>>| {
            let chunk = rest.pop();
            (rest, Ok(chunk))
        })
        .await
    }

    #[tokio::test]
    async fn reads_every_chunk_up_to_the_bound() {
        assert_eq!(read(&[], None, 4).await.unwrap(), b"");
        assert_eq!(read(&["abcd"], None, 4).await.unwrap(), b"abcd");
        assert_eq!(read(&["ab", "c", "d"], Some(4), 4).await.unwrap(), b"abcd");
    }

    #[tokio::test]
    async fn refuses_a_body_over_the_bound_announced_or_not() {
        for (chunks, announced) in [
            (&["abcde"][..], None),
            (&["ab", "cde"][..], None),
            (&["a"][..], Some(5)),
        ] {
            let read = read(chunks, announced, 4).await;
            assert!(
                matches!(read, Err(BodyError::TooLarge { limit: 4 })),
                "{chunks:?} {announced:?}"
            );
        }
    }

    #[tokio::test]
    async fn passes_a_read_failure_on() {
        let read = read_bounded::<u32, Vec<u8>, &str>(0, None, 4, async |calls| {
            let chunk = if calls == 0 {
                Ok(Some(b"ab".to_vec()))
            } else {
                Err("reset")
            };
            (calls + 1, chunk)
        })
        .await;
        assert!(matches!(read, Err(BodyError::Read("reset"))));
    }
}
