//! The XML half of the v3/v4 envelope parser (`<rsp stat="…">`, via quick-xml).

use quick_xml::events::{BytesStart, Event};

use super::{
    ApiError, Envelope, EnvelopeError, Format, Payload, body_start, parse_code, server_text,
};

struct XmlChild {
    name: String,
    is_err: bool,
    code: Option<String>,
    param: Option<String>,
    text: String,
    has_children: bool,
}

/// Parses an XML `<rsp>` body (BOM and leading whitespace already skipped).
pub(super) fn parse(body: &[u8]) -> Result<Envelope, EnvelopeError> {
    let syntax = |reason: String| EnvelopeError::Syntax {
        format: Format::Xml,
        reason: server_text(&reason),
        excerpt: body_start(body),
    };
    let not_envelope = |reason: &str| EnvelopeError::NotAnEnvelope {
        format: Format::Xml,
        reason: reason.to_owned(),
        excerpt: body_start(body),
    };
    let text = std::str::from_utf8(body).map_err(|e| syntax(format!("not UTF-8: {e}")))?;
    let mut reader = quick_xml::Reader::from_str(text);

    let mut depth = 0usize;
    let mut root_closed = false;
    let mut stat: Option<String> = None;
    let mut version: Option<String> = None;
    let mut child: Option<XmlChild> = None;
    let mut errors = Vec::new();
    let mut fields = Vec::new();

    loop {
        let event = reader
            .read_event()
            .map_err(|e| syntax(format!("{e} at byte {}", reader.error_position())))?;
        match event {
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            Event::Start(_) | Event::Empty(_) if depth == 0 && root_closed => {
                return Err(not_envelope("content after </rsp>"));
            }
            Event::Start(e) => {
                match depth {
                    0 => read_root(&e, &mut stat, &mut version, &syntax, &not_envelope)?,
                    1 => child = Some(start_child(&e, &syntax)?),
                    _ => {
                        if let Some(c) = child.as_mut() {
                            c.has_children = true;
                        }
                    }
                }
                depth += 1;
            }
            Event::Empty(e) => match depth {
                0 => {
                    read_root(&e, &mut stat, &mut version, &syntax, &not_envelope)?;
                    root_closed = true;
                }
                1 => {
                    let c = start_child(&e, &syntax)?;
                    finish_child(c, &mut errors, &mut fields, &not_envelope)?;
                }
                _ => {
                    if let Some(c) = child.as_mut() {
                        c.has_children = true;
                    }
                }
            },
            Event::End(_) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| syntax("closing tag without an opening tag".into()))?;
                match depth {
                    0 => root_closed = true,
                    1 => {
                        if let Some(c) = child.take() {
                            finish_child(c, &mut errors, &mut fields, &not_envelope)?;
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                if depth == 0 {
                    if !content.trim().is_empty() {
                        return Err(not_envelope("text outside the <rsp> element"));
                    }
                } else if depth == 2
                    && let Some(c) = child.as_mut()
                {
                    c.text.push_str(&content);
                }
            }
            Event::CData(t) => {
                if depth == 0 {
                    return Err(not_envelope("CDATA outside the <rsp> element"));
                }
                if depth == 2
                    && let Some(c) = child.as_mut()
                {
                    c.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if depth == 0 {
                    return Err(not_envelope("entity reference outside the <rsp> element"));
                }
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(syntax(format!("unknown entity `&{other};`"))),
                    },
                    Err(e) => return Err(syntax(e.to_string())),
                };
                if depth == 2
                    && let Some(c) = child.as_mut()
                {
                    c.text.push(resolved);
                }
            }
        }
    }

    if stat.is_none() && !root_closed {
        return Err(if depth == 0 {
            not_envelope("no <rsp> element")
        } else {
            syntax("the body ends before </rsp> (truncated?)".into())
        });
    }
    if !root_closed {
        return Err(syntax("the body ends before </rsp> (truncated?)".into()));
    }
    let ok = match stat.as_deref() {
        Some("ok") => true,
        Some("fail") => false,
        Some(_) => return Err(not_envelope("`stat` is neither \"ok\" nor \"fail\"")),
        None => return Err(not_envelope("<rsp> has no `stat` attribute")),
    };
    if !ok && errors.is_empty() {
        return Err(not_envelope("stat=\"fail\" without an <err> element"));
    }
    Ok(Envelope {
        format: Format::Xml,
        ok,
        version,
        errors,
        fields,
        payload: Payload::Xml(text.to_owned()),
    })
}

fn attribute_value(
    e: &BytesStart<'_>,
    name: &str,
    syntax: &dyn Fn(String) -> EnvelopeError,
) -> Result<Option<String>, EnvelopeError> {
    for attr in e.attributes() {
        let attr = attr.map_err(|e| syntax(format!("bad attribute: {e}")))?;
        if attr.key.local_name().as_ref() == name {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| syntax(format!("bad attribute value: {e}")))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn read_root(
    e: &BytesStart<'_>,
    stat: &mut Option<String>,
    version: &mut Option<String>,
    syntax: &dyn Fn(String) -> EnvelopeError,
    not_envelope: &dyn Fn(&str) -> EnvelopeError,
) -> Result<(), EnvelopeError> {
    if e.local_name().as_ref() != "rsp" {
        return Err(not_envelope("the root element is not <rsp>"));
    }
    *stat = attribute_value(e, "stat", syntax)?;
    *version = attribute_value(e, "version", syntax)?;
    Ok(())
}

fn start_child(
    e: &BytesStart<'_>,
    syntax: &dyn Fn(String) -> EnvelopeError,
) -> Result<XmlChild, EnvelopeError> {
    let name = e.local_name().as_ref().to_owned();
    let is_err = name == "err";
    let (code, param) = if is_err {
        (
            attribute_value(e, "code", syntax)?,
            attribute_value(e, "param", syntax)?,
        )
    } else {
        (None, None)
    };
    Ok(XmlChild {
        name,
        is_err,
        code,
        param,
        text: String::new(),
        has_children: false,
    })
}

fn finish_child(
    child: XmlChild,
    errors: &mut Vec<ApiError>,
    fields: &mut Vec<(String, String)>,
    not_envelope: &dyn Fn(&str) -> EnvelopeError,
) -> Result<(), EnvelopeError> {
    if child.is_err {
        let code = child
            .code
            .as_deref()
            .ok_or_else(|| not_envelope("<err> without a `code` attribute"))?;
        let code = parse_code(code).ok_or_else(|| not_envelope("<err code> is not a number"))?;
        errors.push(ApiError {
            code,
            message: server_text(&child.text),
            param: child.param.as_deref().map(server_text),
        });
    } else if !child.has_children {
        fields.push((child.name, child.text.trim().to_owned()));
    }
    Ok(())
}
