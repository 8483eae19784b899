//! A prospect's v3/v4 `<prospect>` record.

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
        Node::Record(out)
    }
}
