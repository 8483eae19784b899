//! One record of a served object: its id, times and deleted flag, and its field values in its
//! schema's order; reading a value from a parameter and writing the record as a node.

use std::cmp::Ordering;
use std::time::SystemTime;

use super::schema::{FieldType, Schema, Show, Target, Times};
use crate::pardot::api::Unit;
use crate::pardot::errors::ApiError;
use crate::pardot::render::{Node, field};
use crate::pardot::time::pardot_datetime;

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

    fn node(&self, ty: FieldType) -> Node {
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

/// One record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    /// Numeric id (unique among the object's records in the business unit).
    pub id: u64,
    /// Created.
    pub created_at: SystemTime,
    /// Last updated (every write sets it to the mock clock's time).
    pub updated_at: SystemTime,
    /// In the recycle bin.
    pub deleted: bool,
    /// One value per field of the schema, in its order.
    pub values: Box<[Value]>,
}

impl Record {
    /// A record of `schema` with no values, created at `now`.
    pub(crate) fn new(schema: &Schema, id: u64, now: SystemTime) -> Self {
        Self {
            id,
            created_at: now,
            updated_at: now,
            deleted: false,
            values: vec![Value::Null; schema.fields.len()].into_boxed_slice(),
        }
    }

    /// The value of field `name` (`Null` for a name the schema does not have).
    pub(crate) fn get(&self, schema: &Schema, name: &str) -> &Value {
        schema
            .field_index(name)
            .and_then(|i| self.values.get(i))
            .unwrap_or(&Value::Null)
    }

    /// The id held by field `name`.
    pub(crate) fn id_of(&self, schema: &Schema, name: &str) -> Option<u64> {
        self.get(schema, name).as_id()
    }

    /// The record's element: `id`, the fields in order (embedded records looked up in
    /// `unit`), the times the object shows, then with `nested` the records and lists of
    /// records `full` output shows inside it.
    pub(crate) fn node(&self, schema: &Schema, unit: &Unit, nested: bool) -> Node {
        let objects = &unit.objects;
        let mut out = Vec::with_capacity(schema.fields.len() + 3);
        out.push(field("id", id_node(self.id)));
        for (f, value) in schema.fields.iter().zip(self.values.iter()) {
            match f.show {
                Show::Never => {}
                Show::UnlessNull if *value == Value::Null => {}
                Show::Always | Show::UnlessNull => out.push(field(f.name, value.node(f.ty))),
                Show::Embedded(element, shown) => {
                    if let (Some(Target::Object(kind)), Some(id)) = (f.refers, value.as_id())
                        && let Some(target) = objects.store(kind).get(id)
                    {
                        out.push(field(element, target.summary(kind.schema(), shown)));
                    }
                }
            }
        }
        if schema.times != Times::None {
            out.push(field(
                "created_at",
                Node::Text(pardot_datetime(self.created_at)),
            ));
        }
        if schema.times == Times::Both {
            out.push(field(
                "updated_at",
                Node::Text(pardot_datetime(self.updated_at)),
            ));
        }
        for embed in schema.embeds.iter().filter(|_| nested) {
            let Some(i) = schema.field_index(embed.link) else {
                continue;
            };
            let Some(id) = self.values[i].as_id() else {
                continue;
            };
            let shown = match schema.fields[i].refers {
                Some(Target::Object(kind)) => objects
                    .store(kind)
                    .get(id)
                    .map(|r| r.summary(kind.schema(), embed.shown)),
                Some(Target::Prospect) => unit.prospects.by_id(id).map(|p| {
                    let fields: Vec<String> = embed.shown.iter().map(|f| (*f).to_owned()).collect();
                    p.v34_record(Some(&fields))
                }),
                None => None,
            };
            if let Some(node) = shown {
                let node = match embed.item {
                    Some(item) => Node::Record(vec![field(item, node)]),
                    None => node,
                };
                out.push(field(embed.element, node));
            }
        }
        if schema.has_custom {
            let custom = objects.store(schema.kind).custom();
            let own = schema.fields.len();
            for (f, value) in custom.iter().zip(self.values.iter().skip(own)) {
                out.push(field(&f.name, value.node(f.ty)));
            }
        }
        for list in schema.nested.iter().filter(|_| nested) {
            let inner = list.kind.schema();
            let rows = objects
                .store(list.kind)
                .linked(list.link, self.id)
                .iter()
                .map(|r| r.node(inner, unit, false))
                .collect();
            out.push(field(
                list.element,
                Node::Record(vec![field(inner.element, Node::Repeated(rows))]),
            ));
        }
        Node::Record(out)
    }

    /// `id` and the fields named in `shown`, for a record shown inside another.
    fn summary(&self, schema: &Schema, shown: &[&str]) -> Node {
        let mut out = vec![field("id", id_node(self.id))];
        for name in shown {
            if let Some(i) = schema.field_index(name) {
                out.push(field(name, self.values[i].node(schema.fields[i].ty)));
            }
        }
        Node::Record(out)
    }
}

fn id_node(id: u64) -> Node {
    Node::Int(i64::try_from(id).unwrap_or(i64::MAX))
}
