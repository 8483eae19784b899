//! A prospect's v5 record: written straight as JSON, and (in tests) as the tree it must equal.

use std::fmt::Write as _;

use super::fields::{Slot, V5Field};
use super::record::Prospect;
#[cfg(test)]
use crate::pardot::render::{Node, field};

impl Prospect {
    /// Writes the v5 record with exactly the requested (already validated) fields as JSON
    /// into `out`: the same bytes as `render::write_json(&self.v5_record(fields), out)`,
    /// without building the tree (a page of 200 prospects would otherwise allocate a key and a
    /// value per field). `user(id, field)` gives a field (its v5 name) of the user with `id`
    /// for the `assignedUser.<field>` fields.
    pub fn write_v5_json_with(
        &self,
        fields: &[V5Field],
        user: &dyn Fn(u64, &str) -> crate::pardot::render::Node,
        out: &mut String,
    ) {
        use crate::pardot::render::write_json;
        use crate::support::write_json_string;
        out.push('{');
        let mut first = true;
        let mut separator = |out: &mut String| {
            if !std::mem::take(&mut first) {
                out.push(',');
            }
        };
        for f in fields {
            match f {
                V5Field::Plain { v5, slot } => {
                    separator(out);
                    write_json_string(v5, out);
                    out.push(':');
                    match slot {
                        Slot::Text(i) => match self.text_at(*i) {
                            Some(text) => write_json_string(text, out),
                            None => out.push_str("null"),
                        },
                        slot => write_json(&self.slot(*slot, true), out),
                    }
                }
                V5Field::IsDeleted => {
                    separator(out);
                    out.push_str(if self.deleted {
                        "\"isDeleted\":true"
                    } else {
                        "\"isDeleted\":false"
                    });
                }
                V5Field::AssignedUserId => {
                    separator(out);
                    out.push_str("\"assignedUserId\":");
                    match self.assigned_user() {
                        Some(id) => {
                            let _ = write!(out, "{id}");
                        }
                        None => out.push_str("null"),
                    }
                }
                V5Field::Custom { v5, slot, number } => {
                    separator(out);
                    write_json_string(v5, out);
                    out.push(':');
                    match self.text_at(*slot) {
                        Some(n) if *number && n.parse::<i64>().is_ok() => out.push_str(n),
                        Some(text) => write_json_string(text, out),
                        None => out.push_str("null"),
                    }
                }
                V5Field::CampaignId | V5Field::CampaignName | V5Field::AssignedUser(_) => {}
            }
        }
        // The nested campaign comes last, its members in the order they were asked for.
        let mut campaign_fields = fields
            .iter()
            .filter(|f| matches!(f, V5Field::CampaignId | V5Field::CampaignName))
            .peekable();
        if campaign_fields.peek().is_some() {
            separator(out);
            out.push_str("\"campaign\":");
            match &self.campaign {
                None => out.push_str("null"),
                Some(c) => {
                    out.push('{');
                    for (i, f) in campaign_fields.enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        if *f == V5Field::CampaignId {
                            let _ =
                                write!(out, "\"id\":{}", i64::try_from(c.id).unwrap_or(i64::MAX));
                        } else {
                            out.push_str("\"name\":");
                            match c.name.as_deref() {
                                Some(name) => write_json_string(name, out),
                                None => out.push_str("null"),
                            }
                        }
                    }
                    out.push('}');
                }
            }
        }
        // Then the assigned user, its members in the order they were asked for.
        let user_fields: Vec<&str> = fields
            .iter()
            .filter_map(|f| match f {
                V5Field::AssignedUser(name) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        if !user_fields.is_empty() {
            separator(out);
            out.push_str("\"assignedUser\":");
            match self.assigned_user() {
                None => out.push_str("null"),
                Some(id) => {
                    let members = user_fields
                        .iter()
                        .map(|name| crate::pardot::render::field(name, user(id, name)))
                        .collect();
                    write_json(&crate::pardot::render::Node::Record(members), out);
                }
            }
        }
        out.push('}');
    }

    /// The v5 record with exactly the requested (already validated) fields, as a tree: the
    /// reference [`Prospect::write_v5_json`] is tested against.
    #[cfg(test)]
    pub fn v5_record(&self, fields: &[V5Field]) -> Node {
        let mut out: Vec<(String, Node)> = Vec::with_capacity(fields.len());
        let mut campaign: Vec<(String, Node)> = Vec::new();
        for f in fields {
            match f {
                V5Field::Plain { v5, slot } => out.push(field(v5, self.slot(*slot, true))),
                V5Field::IsDeleted => out.push(field("isDeleted", Node::Bool(self.deleted))),
                V5Field::CampaignId => campaign.push(field(
                    "id",
                    self.campaign.as_ref().map_or(Node::Null, |c| {
                        Node::Int(i64::try_from(c.id).unwrap_or(i64::MAX))
                    }),
                )),
                V5Field::AssignedUserId => out.push(field(
                    "assignedUserId",
                    self.assigned_user().map_or(Node::Null, |id| {
                        Node::Int(i64::try_from(id).unwrap_or(i64::MAX))
                    }),
                )),
                V5Field::Custom { v5, slot, number } => out.push(field(
                    v5,
                    match self.text_at(*slot) {
                        Some(n) if *number && n.parse::<i64>().is_ok() => {
                            Node::Int(n.parse().unwrap_or_default())
                        }
                        other => Node::opt_text(other),
                    },
                )),
                V5Field::AssignedUser(_) => {}
                V5Field::CampaignName => campaign.push(field(
                    "name",
                    Node::opt_text(self.campaign.as_ref().and_then(|c| c.name.as_deref())),
                )),
            }
        }
        if !campaign.is_empty() {
            out.push(field(
                "campaign",
                if self.campaign.is_some() {
                    Node::Record(campaign)
                } else {
                    Node::Null
                },
            ));
        }
        Node::Record(out)
    }
}

#[cfg(test)]
impl Prospect {
    /// [`Prospect::write_v5_json_with`] for a business unit without users.
    pub fn write_v5_json(&self, fields: &[V5Field], out: &mut String) {
        self.write_v5_json_with(fields, &|_, _| crate::pardot::render::Node::Null, out);
    }
}
