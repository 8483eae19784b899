//! Salesforce record ids and the Pardot business unit id.
//!
//! Salesforce ids come in a case-sensitive 15-character form and a case-insensitive
//! 18-character form whose last three characters are a checksum of the capitalisation
//! of the first fifteen. [`SalesforceId`] accepts either and always renders the 18-character
//! form; [`BusinessUnitId`] adds the rule that a Pardot business unit id starts with `0Uv`.

use std::str::FromStr;

/// The text traits of an id type with `parse` and `as_str`: `Display` and `Serialize` write the
/// canonical text, `FromStr` and `Deserialize` parse it (validating), `Debug` shows it with the
/// type's name. One definition keeps the id types from drifting apart.
macro_rules! id_text_traits {
    ($name:ident) => {
        shown_as!($name, as_str);

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// The alphabet that encodes each five-bit chunk of the case-safe suffix.
const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Why a string is not a valid Salesforce id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The id is neither 15 nor 18 characters long.
    #[error("a Salesforce id has 15 or 18 characters; `{id}` has {len}")]
    Length {
        /// The id as given.
        id: String,
        /// Its length in characters.
        len: usize,
    },
    /// The id contains a character outside `[0-9A-Za-z]`.
    #[error(
        "a Salesforce id contains only letters and digits; `{id}` has {character:?} at position {position}"
    )]
    Character {
        /// The id as given.
        id: String,
        /// The offending character.
        character: char,
        /// Its 1-based position.
        position: usize,
    },
    /// The id does not start with the expected key prefix.
    #[error("expected an id starting with `{expected}`, got `{id}`")]
    Prefix {
        /// The id as given.
        id: String,
        /// The prefix this kind of id must have.
        expected: &'static str,
    },
    /// The 18-character id's suffix does not match its first 15 characters (usually the
    /// case of a letter was changed).
    #[error(
        "the checksum suffix of `{id}` does not match its first 15 characters \
         (was its case changed?); the suffix points to `{suffix_points_to}`, \
         and `{first_15}` would end in `{expected_suffix}`"
    )]
    Checksum {
        /// The id as given.
        id: String,
        /// The first 15 characters as given.
        first_15: String,
        /// The suffix those 15 characters produce.
        expected_suffix: String,
        /// The 15-character id whose capitalisation the given suffix encodes.
        suffix_points_to: String,
    },
}

/// Computes the three-character case-safe suffix of a 15-character id.
///
/// The caller guarantees 15 ASCII alphanumeric characters.
fn case_safe_suffix(id15: &[u8]) -> [u8; 3] {
    let mut suffix = [0u8; 3];
    for (chunk_index, chunk) in id15.chunks(5).enumerate() {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |acc, (bit, _)| acc | (1 << bit));
        suffix[chunk_index] = SUFFIX_ALPHABET[bits];
    }
    suffix
}

/// The 15-character id whose capitalisation a suffix encodes, if the suffix is well formed.
fn id_pointed_to_by(first_15: &str, suffix: &[u8]) -> Option<String> {
    let mut chars: Vec<u8> = first_15.as_bytes().to_vec();
    for (chunk_index, code) in suffix.iter().enumerate() {
        let bits = SUFFIX_ALPHABET
            .iter()
            .position(|a| a == &code.to_ascii_uppercase())?;
        for bit in 0..5 {
            let c = &mut chars[chunk_index * 5 + bit];
            if bits & (1 << bit) != 0 {
                *c = c.to_ascii_uppercase();
            } else {
                *c = c.to_ascii_lowercase();
            }
        }
    }
    String::from_utf8(chars).ok()
}

/// A Salesforce record id, held in its 18-character case-safe form.
///
/// ```
/// use pardot_auth_core::SalesforceId;
/// let org: SalesforceId = "00D50000000IZ3Z".parse().unwrap();
/// assert_eq!(org.as_str(), "00D50000000IZ3ZEAW");
/// assert_eq!(org.as_15(), "00D50000000IZ3Z");
/// assert_eq!(org.key_prefix(), "00D");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SalesforceId([u8; 18]);

impl SalesforceId {
    /// Parses a 15- or 18-character id, checking the suffix of an 18-character one.
    pub fn parse(id: &str) -> Result<Self, IdError> {
        let len = id.chars().count();
        if len != 15 && len != 18 {
            return Err(IdError::Length {
                id: id.to_owned(),
                len,
            });
        }
        if let Some((position, character)) = id
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(IdError::Character {
                id: id.to_owned(),
                character,
                position: position + 1,
            });
        }
        // 15 or 18 characters, all ASCII alphanumeric (checked above): as many bytes, each a
        // character boundary, so the slices below cannot panic.
        let bytes = id.as_bytes();
        let expected = case_safe_suffix(&bytes[..15]);
        if len == 18 && bytes[15..] != expected {
            let first_15 = &id[..15];
            return Err(IdError::Checksum {
                id: id.to_owned(),
                first_15: first_15.to_owned(),
                expected_suffix: String::from_utf8_lossy(&expected).into_owned(),
                suffix_points_to: id_pointed_to_by(first_15, &bytes[15..])
                    .unwrap_or_else(|| "no valid id".to_owned()),
            });
        }
        let mut full = [0u8; 18];
        full[..15].copy_from_slice(&bytes[..15]);
        full[15..].copy_from_slice(&expected);
        Ok(Self(full))
    }

    /// The 18-character case-safe form.
    pub fn as_str(&self) -> &str {
        // Only ASCII alphanumerics are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The 15-character case-sensitive form (what access tokens embed before `!`).
    pub fn as_15(&self) -> &str {
        // Always 18 ASCII bytes.
        &self.as_str()[..15]
    }

    /// The three-character key prefix naming the object type (`00D` org, `005` user, `0Uv` BU).
    pub fn key_prefix(&self) -> &str {
        &self.as_str()[..3]
    }
}

id_text_traits!(SalesforceId);

/// A Pardot business unit id: a Salesforce id with key prefix `0Uv`, sent in the
/// `Pardot-Business-Unit-Id` header in its 18-character form.
///
/// ```
/// use pardot_auth_core::BusinessUnitId;
/// let bu: BusinessUnitId = "0Uv5A000000PAuM".parse().unwrap();
/// assert_eq!(bu.to_string(), "0Uv5A000000PAuMSAW");
/// // A changed case breaks the checksum:
/// assert!("0Uv5a000000PAuMSAW".parse::<BusinessUnitId>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BusinessUnitId(SalesforceId);

impl BusinessUnitId {
    /// The key prefix every business unit id starts with.
    pub const PREFIX: &'static str = "0Uv";

    /// Parses a 15- or 18-character business unit id.
    pub fn parse(id: &str) -> Result<Self, IdError> {
        let parsed = SalesforceId::parse(id)?;
        if parsed.key_prefix() != Self::PREFIX {
            return Err(IdError::Prefix {
                id: id.to_owned(),
                expected: Self::PREFIX,
            });
        }
        Ok(Self(parsed))
    }

    /// The 18-character form, as sent in the `Pardot-Business-Unit-Id` header.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The underlying Salesforce id.
    pub fn salesforce_id(&self) -> &SalesforceId {
        &self.0
    }
}

id_text_traits!(BusinessUnitId);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_pairs_from_the_spec() {
        for (short, long) in [
            ("0Uv5A000000PAuM", "0Uv5A000000PAuMSAW"),
            ("0Uv3t000000TN5f", "0Uv3t000000TN5fCAG"),
            ("0Uv5g0000008OQU", "0Uv5g0000008OQUCA2"),
            ("0Uv000000000001", "0Uv000000000001CAA"),
        ] {
            assert_eq!(BusinessUnitId::parse(short).unwrap().as_str(), long);
            assert_eq!(BusinessUnitId::parse(long).unwrap().as_str(), long);
        }
        assert_eq!(
            SalesforceId::parse("00550000001fg5O").unwrap().as_str(),
            "00550000001fg5OAAQ"
        );
    }

    #[test]
    fn wrong_length_is_named() {
        let err = BusinessUnitId::parse("0Uv5A000000PA").unwrap_err();
        assert_eq!(
            err,
            IdError::Length {
                id: "0Uv5A000000PA".into(),
                len: 13
            }
        );
        assert!(err.to_string().contains("15 or 18"));
    }

    #[test]
    fn wrong_prefix_is_named() {
        let err = BusinessUnitId::parse("00D50000000IZ3Z").unwrap_err();
        assert!(matches!(
            err,
            IdError::Prefix {
                expected: "0Uv",
                ..
            }
        ));
        assert!(err.to_string().contains("0Uv"));
    }

    #[test]
    fn bad_character_is_named() {
        let err = BusinessUnitId::parse("0Uv5A000000-AuM").unwrap_err();
        assert_eq!(
            err,
            IdError::Character {
                id: "0Uv5A000000-AuM".into(),
                character: '-',
                position: 12
            }
        );
        let err = BusinessUnitId::parse("0Uv5A000000PAuMSAÄ").unwrap_err();
        assert!(matches!(
            err,
            IdError::Character {
                character: 'Ä', ..
            }
        ));
    }

    #[test]
    fn changed_case_fails_the_checksum_and_names_the_real_id() {
        let err = BusinessUnitId::parse("0Uv5a000000PAuMSAW").unwrap_err();
        match err {
            IdError::Checksum {
                suffix_points_to,
                expected_suffix,
                ..
            } => {
                assert_eq!(suffix_points_to, "0Uv5A000000PAuM");
                assert_eq!(expected_suffix, "CAW");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn serde_round_trip_uses_the_18_character_form() {
        let bu: BusinessUnitId = serde_json::from_str("\"0Uv5A000000PAuM\"").unwrap();
        assert_eq!(
            serde_json::to_string(&bu).unwrap(),
            "\"0Uv5A000000PAuMSAW\""
        );
        assert!(serde_json::from_str::<BusinessUnitId>("\"005000000000001\"").is_err());
    }

    fn id15() -> impl Strategy<Value = String> {
        "[0-9A-Za-z]{12}".prop_map(|rest| format!("0Uv{rest}"))
    }

    proptest! {
        // Cases from `PROPTEST_CASES`; a digit picked to flip is rejected, about a third of
        // the time, so the reject budget grows with the cases.
        #![proptest_config(ProptestConfig {
            max_global_rejects: ProptestConfig::default().cases.saturating_mul(4),
            ..ProptestConfig::default()
        })]

        #[test]
        fn any_15_char_id_converts_and_parses_back(id in id15()) {
            let bu = BusinessUnitId::parse(&id).unwrap();
            prop_assert_eq!(&bu.as_str()[..15], id.as_str());
            let again = BusinessUnitId::parse(bu.as_str()).unwrap();
            prop_assert_eq!(again, bu);
        }

        #[test]
        fn flipping_the_case_of_a_letter_breaks_the_checksum(id in id15(), pos in 3usize..15) {
            let bu = BusinessUnitId::parse(&id).unwrap();
            let c = bu.as_str().as_bytes()[pos];
            prop_assume!(c.is_ascii_alphabetic());
            let mut flipped = bu.as_str().as_bytes().to_vec();
            flipped[pos] = if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() };
            let flipped = String::from_utf8(flipped).unwrap();
            match BusinessUnitId::parse(&flipped) {
                Err(IdError::Checksum { suffix_points_to, .. }) => {
                    prop_assert_eq!(suffix_points_to, id);
                }
                other => prop_assert!(false, "expected a checksum error, got {:?}", other),
            }
        }
    }
}
