//! The v3/v4 `<rsp>` envelope in XML and JSON, and a small ordered value tree both are
//! rendered from (v5 bodies reuse the JSON writer).
//!
//! Shapes (`docs/reference/pardot-api.md#the-v3v4-urls-and-envelope`): XML starts with
//! `<?xml version="1.0" encoding="UTF-8"?>` and a
//! `<rsp stat="ok" version="1.0">` element whose children are indented by four spaces; JSON is
//! `{"@attributes":{"stat":"ok","version":1},...}` with failures as
//! `{"@attributes":{"stat":"fail","version":1,"err_code":N},"err":"..."}`. Field order is kept
//! (clients and people read these), so the JSON is written by hand rather than through a map.

use std::fmt::Write as _;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::errors::ApiError;
use crate::support::write_json_string;

/// `Content-Type` of every JSON answer: exactly `application/json`, no charset (a popular Python
/// client treats anything else as not JSON).
pub const JSON_CONTENT_TYPE: &str = "application/json";
/// `Content-Type` of every XML answer.
pub const XML_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// The `format` of a v3/v4 call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// XML, the default when no `format` is given.
    #[default]
    Xml,
    /// `format=json`.
    Json,
}

impl Format {
    /// The format named by a `format` parameter (`json` or anything else: XML, as Pardot does
    /// for unknown values).
    pub fn from_param(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.eq_ignore_ascii_case("json") => Self::Json,
            _ => Self::Xml,
        }
    }
}

/// A value in an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A string.
    Text(String),
    /// An integer: a JSON number, XML text.
    Int(i64),
    /// A boolean: v3/v4 XML `1` or empty, JSON `true`/`false`.
    Bool(bool),
    /// A boolean the v3/v4 objects other than prospects write as words: XML `true`/`false`
    /// (the list and list-membership examples of the docs), JSON `true`/`false`.
    Word(bool),
    /// No value: XML `<name/>`, JSON `null`.
    Null,
    /// An element with children in order: XML nested elements, JSON an object.
    Record(Vec<(String, Node)>),
    /// An element holding only attributes, in order: XML `<name a="…" b="…"/>`, JSON
    /// `{"@attributes":{"a":…,"b":…}}` (the prospect account `do/describe` fields).
    Attributes(Vec<(String, Node)>),
    /// The same element repeated (v3/v4 `<prospect>` lists): XML one element per item, JSON an
    /// array, except that exactly one item is a plain object (Pardot's famous quirk) and no
    /// item leaves the key out.
    Repeated(Vec<Node>),
}

impl Node {
    /// A text node, or `Null` when `value` is `None`.
    pub fn opt_text(value: Option<&str>) -> Self {
        value.map_or(Self::Null, |v| Self::Text(v.to_owned()))
    }
}

/// A record builder helper: `(name, node)` pairs.
pub fn field(name: &str, node: Node) -> (String, Node) {
    (name.to_owned(), node)
}

/// Escapes element text (quotes stay as they are: only attributes would need them, and the
/// envelope's attributes are numbers).
fn escape_xml(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn indent(depth: usize, out: &mut String) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

/// The text of a scalar node as an XML attribute holds it (nested nodes have none).
fn write_xml_text(node: &Node, out: &mut String) {
    match node {
        Node::Text(text) => out.push_str(text),
        Node::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Node::Bool(true) => out.push('1'),
        Node::Word(b) => {
            let _ = write!(out, "{b}");
        }
        Node::Bool(false)
        | Node::Null
        | Node::Record(_)
        | Node::Attributes(_)
        | Node::Repeated(_) => {}
    }
}

fn write_xml_element(name: &str, node: &Node, depth: usize, out: &mut String) {
    match node {
        Node::Repeated(items) => {
            for item in items {
                write_xml_element(name, item, depth, out);
            }
        }
        Node::Null => {
            indent(depth, out);
            let _ = writeln!(out, "<{name}/>");
        }
        Node::Text(_) | Node::Int(_) | Node::Bool(_) | Node::Word(_) => {
            indent(depth, out);
            let _ = write!(out, "<{name}>");
            match node {
                Node::Text(text) => escape_xml(text, out),
                scalar => write_xml_text(scalar, out),
            }
            let _ = writeln!(out, "</{name}>");
        }
        Node::Attributes(attributes) => {
            indent(depth, out);
            let _ = write!(out, "<{name}");
            for (attribute, value) in attributes {
                let _ = write!(out, " {attribute}=\"");
                let mut text = String::new();
                write_xml_text(value, &mut text);
                let mut escaped = String::new();
                escape_xml(&text, &mut escaped);
                out.push_str(&escaped.replace('"', "&quot;"));
                out.push('"');
            }
            out.push_str("/>\n");
        }
        // Nothing to write inside (a bulk query that matched nothing): an empty element.
        Node::Record(children)
            if children
                .iter()
                .all(|(_, n)| matches!(n, Node::Repeated(items) if items.is_empty())) =>
        {
            indent(depth, out);
            let _ = writeln!(out, "<{name}/>");
        }
        Node::Record(children) => {
            indent(depth, out);
            let _ = writeln!(out, "<{name}>");
            for (child, value) in children {
                write_xml_element(child, value, depth + 1, out);
            }
            indent(depth, out);
            let _ = writeln!(out, "</{name}>");
        }
    }
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const XML_OK: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"ok\" version=\"1.0\">\n";
const JSON_OK: &str = r#"{"@attributes":{"stat":"ok","version":1}"#;

/// The XML success envelope around `children`.
pub fn xml_ok(children: &[(String, Node)]) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(XML_OK);
    for (name, node) in children {
        write_xml_element(name, node, 1, &mut out);
    }
    out.push_str("</rsp>\n");
    out
}

/// The XML failure envelope for `error`.
pub fn xml_fail(error: &ApiError) -> String {
    let mut out = String::with_capacity(160);
    out.push_str(XML_DECLARATION);
    out.push_str("<rsp stat=\"fail\" version=\"1.0\">\n");
    let _ = write!(out, "    <err code=\"{}\">", error.code);
    escape_xml(&error.message, &mut out);
    out.push_str("</err>\n</rsp>\n");
    out
}

/// Writes `node` as JSON.
pub fn write_json(node: &Node, out: &mut String) {
    match node {
        Node::Text(text) => write_json_string(text, out),
        Node::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Node::Bool(b) | Node::Word(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Null => out.push_str("null"),
        Node::Record(children) => {
            out.push('{');
            write_json_members(children, out);
            out.push('}');
        }
        Node::Attributes(attributes) => {
            out.push_str("{\"@attributes\":{");
            write_json_members(attributes, out);
            out.push_str("}}");
        }
        Node::Repeated(items) if items.len() == 1 => write_json(&items[0], out),
        Node::Repeated(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
    }
}

fn write_json_members(children: &[(String, Node)], out: &mut String) {
    let mut first = true;
    for (name, node) in children {
        if matches!(node, Node::Repeated(items) if items.is_empty()) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        write_json_string(name, out);
        out.push(':');
        write_json(node, out);
    }
}

/// The JSON success envelope around `children`.
pub fn json_ok(children: &[(String, Node)]) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(JSON_OK);
    if children
        .iter()
        .any(|(_, n)| !matches!(n, Node::Repeated(items) if items.is_empty()))
    {
        out.push(',');
    }
    write_json_members(children, &mut out);
    out.push('}');
    out
}

/// The JSON failure envelope for `error`.
pub fn json_fail(error: &ApiError) -> String {
    let mut out = String::with_capacity(128);
    let _ = write!(
        out,
        r#"{{"@attributes":{{"stat":"fail","version":1,"err_code":{}}},"err":"#,
        error.code
    );
    write_json_string(&error.message, &mut out);
    out.push('}');
    out
}

/// A v3/v4 query page written straight into one buffer, an item at a time: the bytes
/// [`ok`] writes for `result` holding `total_results` and the items repeated under one name,
/// without a tree of the whole page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryPage {
    format: Format,
    item: &'static str,
    count: usize,
}

impl QueryPage {
    /// The page of `count` items named `item` in `format`.
    pub fn new(format: Format, item: &'static str, count: usize) -> Self {
        Self {
            format,
            item,
            count,
        }
    }

    /// The page's buffer of `capacity` bytes, opened: the envelope, `total_results`, up to
    /// the first item.
    pub fn open(&self, total: usize, capacity: usize) -> String {
        let mut out = String::with_capacity(capacity);
        let item = self.item;
        match (self.format, self.count) {
            (Format::Xml, _) => {
                let _ = write!(
                    out,
                    "{XML_OK}    <result>\n        <total_results>{total}</total_results>\n"
                );
            }
            (Format::Json, count) => {
                let _ = write!(out, r#"{JSON_OK},"result":{{"total_results":{total}"#);
                match count {
                    0 => {}
                    1 => {
                        let _ = write!(out, ",\"{item}\":");
                    }
                    _ => {
                        let _ = write!(out, ",\"{item}\":[");
                    }
                }
            }
        }
        out
    }

    /// What stands between two items.
    pub fn separator(&self) -> &'static str {
        match self.format {
            Format::Xml => "",
            Format::Json => ",",
        }
    }

    /// Writes one item, `node`, into `out`.
    pub fn write_item(&self, node: &Node, out: &mut String) {
        match self.format {
            Format::Xml => write_xml_element(self.item, node, 2, out),
            Format::Json => write_json(node, out),
        }
    }

    /// Closes the page in `out` after its last item.
    pub fn close(&self, out: &mut String) {
        match (self.format, self.count) {
            (Format::Xml, _) => out.push_str("    </result>\n</rsp>\n"),
            (Format::Json, 0 | 1) => out.push_str("}}"),
            (Format::Json, _) => out.push_str("]}}"),
        }
    }
}

/// A response with `body` and the content type of `format`.
pub fn respond(status: StatusCode, format: Format, body: impl Into<Body>) -> Response {
    let content_type = match format {
        Format::Xml => XML_CONTENT_TYPE,
        Format::Json => JSON_CONTENT_TYPE,
    };
    let mut response = (status, body.into()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A v3/v4 success answer.
pub fn ok(format: Format, children: &[(String, Node)]) -> Response {
    let body = match format {
        Format::Xml => xml_ok(children),
        Format::Json => json_ok(children),
    };
    respond(StatusCode::OK, format, body)
}

/// A v3/v4 failure answer with `status`.
pub fn fail(format: Format, status: StatusCode, error: &ApiError) -> Response {
    let body = match format {
        Format::Xml => xml_fail(error),
        Format::Json => json_fail(error),
    };
    respond(status, format, body)
}

/// A v5 JSON answer.
pub fn v5_json(status: StatusCode, node: &Node) -> Response {
    let mut body = String::with_capacity(256);
    write_json(node, &mut body);
    respond(status, Format::Json, body)
}

/// A v5 error answer: `{"code":N,"message":"..."}` with the v5 status of the code.
pub fn v5_error(error: &ApiError) -> Response {
    let node = Node::Record(vec![
        field("code", Node::Int(i64::from(error.code))),
        field("message", Node::Text(error.message.to_string())),
    ]);
    v5_json(error.v5_status(), &node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_shapes() {
        let children = vec![
            field(
                "api_key",
                Node::Text("5a1698a233e73d7c8ccd60d775fbc68a".into()),
            ),
            field("version", Node::Int(4)),
        ];
        assert_eq!(
            xml_ok(&children),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"ok\" version=\"1.0\">\n    <api_key>5a1698a233e73d7c8ccd60d775fbc68a</api_key>\n    <version>4</version>\n</rsp>\n"
        );
        assert_eq!(
            json_ok(&children),
            r#"{"@attributes":{"stat":"ok","version":1},"api_key":"5a1698a233e73d7c8ccd60d775fbc68a","version":4}"#
        );
    }

    #[test]
    fn failure_shapes() {
        let error = ApiError::code(15);
        assert_eq!(
            xml_fail(&error),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rsp stat=\"fail\" version=\"1.0\">\n    <err code=\"15\">Login failed</err>\n</rsp>\n"
        );
        assert_eq!(
            json_fail(&error),
            r#"{"@attributes":{"stat":"fail","version":1,"err_code":15},"err":"Login failed"}"#
        );
    }

    #[test]
    fn one_item_is_an_object_and_xml_is_escaped() {
        let one = Node::Repeated(vec![Node::Record(vec![field("id", Node::Int(1))])]);
        let mut out = String::new();
        write_json(&one, &mut out);
        assert_eq!(out, r#"{"id":1}"#);
        let two = Node::Repeated(vec![Node::Int(1), Node::Int(2)]);
        out.clear();
        write_json(&two, &mut out);
        assert_eq!(out, "[1,2]");
        let xml = xml_ok(&[
            field("company", Node::Text("A & <B>".into())),
            field("fax", Node::Null),
        ]);
        assert!(
            xml.contains("<company>A &amp; &lt;B&gt;</company>\n    <fax/>\n"),
            "{xml}"
        );
        assert_eq!(
            json_ok(&[field("p", Node::Repeated(vec![]))]),
            r#"{"@attributes":{"stat":"ok","version":1}}"#
        );
    }
}
