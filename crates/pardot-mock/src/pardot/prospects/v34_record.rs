//! A prospect's v3/v4 `<prospect>` record.

use super::custom::{CustomField, CustomType};
use super::fields::LAYOUT;
use super::record::Prospect;
use crate::pardot::render::{Node, field};

impl Prospect {
    fn campaign_node(&self) -> Option<Node> {
        self.campaign.as_ref().map(|c| {
            Node::Record(vec![
                field("id", Node::Int(i64::try_from(c.id).unwrap_or(i64::MAX))),
                field("name", Node::opt_text(c.name.as_deref())),
            ])
        })
    }

    /// The v3/v4 `<prospect>` record; `fields` (v4) limits it to the named fields (`id` is
    /// always included, as Pardot does).
    pub fn v34_record(&self, fields: Option<&[String]>) -> Node {
        self.v34_record_with(fields, &[])
    }

    /// [`Prospect::v34_record`] with the business unit's custom fields after the standard
    /// ones (and the campaign), each under its API name: text, or the digits of a number.
    pub fn v34_record_with(&self, fields: Option<&[String]>, custom: &[CustomField]) -> Node {
        let wanted =
            |name: &str| fields.is_none_or(|f| name == "id" || f.iter().any(|w| w == name));
        let mut out: Vec<(String, Node)> = LAYOUT
            .iter()
            .filter(|(name, _)| wanted(name))
            .map(|(name, slot)| field(name, self.slot(*slot, false)))
            .collect();
        if wanted("campaign")
            && let Some(campaign) = self.campaign_node()
        {
            out.push(field("campaign", campaign));
        }
        for f in custom.iter().filter(|f| wanted(&f.field_id)) {
            let text = self.custom_text(f.slot());
            let number = text
                .filter(|_| f.ty == CustomType::Number)
                .and_then(|t| t.parse().ok());
            let node = number.map_or_else(|| Node::opt_text(text), Node::Int);
            out.push(field(&f.field_id, node));
        }
        Node::Record(out)
    }
}
