//! A field's type and value: reading a value from a parameter or a configured value, and
//! writing it as a node.

use std::cmp::Ordering;

use crate::pardot::errors::ApiError;
use crate::pardot::render::Node;

/// The type of a field: how a parameter or a configured value is read and how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// An integer (a JSON number).
    Int,
    /// A string.
    Text,
    /// A boolean, written `true`/`false` (a JSON boolean).
    Bool,
}

/// A field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// No value.
    Null,
    /// An integer (also an id).
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Text(Box<str>),
}

impl Value {
    /// Reads `text` as a value of a field of type `ty` (a parameter or a configured value). An empty text
    /// clears the field. Codes: 56 for a number, 50 for a boolean.
    pub(crate) fn parse(ty: FieldType, text: &str) -> Result<Self, ApiError> {
        if text.is_empty() {
            return Ok(Self::Null);
        }
        match ty {
            FieldType::Text => Ok(Self::Text(text.into())),
            FieldType::Int => text
                .trim()
                .parse()
                .map(Self::Int)
                .map_err(|_| ApiError::code(56)),
            FieldType::Bool => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Self::Bool(true)),
                "false" | "0" => Ok(Self::Bool(false)),
                _ => Err(ApiError::code(50)),
            },
        }
    }

    /// The id this value holds, if it is one.
    pub(crate) fn as_id(&self) -> Option<u64> {
        match self {
            Self::Int(n) => u64::try_from(*n).ok(),
            _ => None,
        }
    }

    pub(super) fn node(&self, ty: FieldType) -> Node {
        match (self, ty) {
            (Self::Null, FieldType::Bool) => Node::Word(false),
            (Self::Null, _) => Node::Null,
            (Self::Int(n), _) => Node::Int(*n),
            (Self::Bool(b), _) => Node::Word(*b),
            (Self::Text(t), _) => Node::Text(t.to_string()),
        }
    }

    /// The order of a sort by this field: no value first, then numbers, booleans, texts.
    pub(crate) fn sort_cmp(&self, other: &Self) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Int(_) => 1,
                Value::Bool(_) => 2,
                Value::Text(_) => 3,
            }
        }
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => a.cmp(b),
            (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}
