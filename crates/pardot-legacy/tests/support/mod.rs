//! What the legacy tests share: the shape of a v3/v4 prospect query answer.
#![allow(dead_code, reason = "each test binary uses a different subset")]

/// One prospect of a query answer.
#[derive(serde::Deserialize, Debug)]
pub struct Prospect {
    pub id: u64,
    pub email: String,
}

/// A prospect query's `result`: one `prospect` or many (or none) in both formats.
#[derive(serde::Deserialize)]
pub struct QueryResult {
    pub total_results: u64,
    #[serde(default)]
    pub prospect: Vec<Prospect>,
}

/// A prospect query answer.
#[derive(serde::Deserialize)]
pub struct Query {
    pub result: QueryResult,
}
