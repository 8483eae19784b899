//! Writing a record as its element: its fields, the records it embeds or nests (looked up
//! among the business unit's records) and its times.

use super::record::Record;
use super::schema::{Kind, Schema, Show, Target, Times};
use super::unit_objects::Related;
use super::value::Value;
use crate::pardot::render::{Node, field};
use crate::pardot::time::pardot_datetime;

impl Record {
    /// The record's element: `id`, the fields in order (embedded records looked up in
    /// `unit`), the times the object shows, then with `nested` the records and lists of
    /// records `full` output shows inside it.
    pub(crate) fn node(&self, schema: &Schema, unit: Related<'_>, nested: bool) -> Node {
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

/// The user with `id` as its `<user>` element shows it (no nested records), unless there
/// is no such user.
pub(crate) fn user_node(related: Related<'_>, id: u64) -> Option<Node> {
    related
        .objects
        .store(Kind::User)
        .get(id)
        .map(|r| r.node(Kind::User.schema(), related, false))
}

fn id_node(id: u64) -> Node {
    Node::Int(i64::try_from(id).unwrap_or(i64::MAX))
}
