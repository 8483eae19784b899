//! The JSON half of the v3/v4 envelope parser (`format=json`: `@attributes.stat`, `err`), and
//! the lenient view that reads a lone value as a one-entry list the way XML does.

use pardot_auth_core::PardotErrorCode;
use serde_json::Value;

use super::{
    ApiError, Envelope, EnvelopeError, Format, Payload, body_start, parse_code, server_text,
};

pub(super) use lenient::Lenient;

/// Parses a JSON envelope body (BOM and leading whitespace already skipped).
pub(super) fn parse(body: &[u8]) -> Result<Envelope, EnvelopeError> {
    let not_envelope = |reason: &str| EnvelopeError::NotAnEnvelope {
        format: Format::Json,
        reason: reason.to_owned(),
        excerpt: body_start(body),
    };
    let value: Value = serde_json::from_slice(body).map_err(|e| EnvelopeError::Syntax {
        format: Format::Json,
        reason: server_text(&e.to_string()),
        excerpt: body_start(body),
    })?;
    let Value::Object(object) = &value else {
        return Err(not_envelope("the body is not a JSON object"));
    };
    let Some(Value::Object(attributes)) = object.get("@attributes") else {
        return Err(not_envelope("no `@attributes` object"));
    };
    let ok = match attributes.get("stat").and_then(Value::as_str) {
        Some("ok") => true,
        Some("fail") => false,
        Some(_) => return Err(not_envelope("`stat` is neither \"ok\" nor \"fail\"")),
        None => return Err(not_envelope("`@attributes` has no `stat`")),
    };
    let version = attributes.get("version").and_then(scalar_text);
    let default_code = match attributes.get("err_code") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            json_code(v).ok_or_else(|| not_envelope("`err_code` is not a non-negative integer"))?,
        ),
    };

    let mut errors = Vec::new();
    match object.get("err") {
        None | Some(Value::Null) => {
            if let Some(code) = default_code {
                errors.push(ApiError {
                    code,
                    message: String::new(),
                    param: None,
                });
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                errors.push(json_error(item, default_code, &not_envelope)?);
            }
        }
        Some(item) => errors.push(json_error(item, default_code, &not_envelope)?),
    }
    if !ok && errors.is_empty() {
        return Err(not_envelope("stat \"fail\" without `err` or `err_code`"));
    }

    let fields = object
        .iter()
        .filter(|(k, _)| k.as_str() != "@attributes" && k.as_str() != "err")
        .filter_map(|(k, v)| scalar_text(v).map(|text| (k.clone(), text.trim().to_owned())))
        .collect();

    Ok(Envelope {
        format: Format::Json,
        ok,
        version,
        errors,
        fields,
        payload: Payload::Json(value),
    })
}

/// Strings, numbers and booleans as text; `None` for null, arrays and objects.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn json_code(v: &Value) -> Option<PardotErrorCode> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(PardotErrorCode),
        Value::String(s) => parse_code(s),
        _ => None,
    }
}

/// One `err` entry: a message string (the code is `@attributes.err_code`), or an object
/// carrying its own `code` / `@attributes.code`, message and `param`.
fn json_error(
    item: &Value,
    default_code: Option<PardotErrorCode>,
    not_envelope: &dyn Fn(&str) -> EnvelopeError,
) -> Result<ApiError, EnvelopeError> {
    let missing_code = || not_envelope("an `err` entry without a code (no `err_code`)");
    match item {
        Value::String(message) => Ok(ApiError {
            code: default_code.ok_or_else(missing_code)?,
            message: server_text(message),
            param: None,
        }),
        Value::Object(map) => {
            let attrs = map.get("@attributes").and_then(Value::as_object);
            let lookup = |key: &str| {
                map.get(key)
                    .or_else(|| attrs.and_then(|a| a.get(key)))
                    .filter(|v| !v.is_null())
            };
            let code = match lookup("code").or_else(|| lookup("err_code")) {
                Some(v) => {
                    json_code(v).ok_or_else(|| not_envelope("`err.code` is not a number"))?
                }
                None => default_code.ok_or_else(missing_code)?,
            };
            let message = ["message", "@value", "#text", "$value", "err", "text"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str))
                .unwrap_or_default();
            let message = server_text(message);
            let param = lookup("param")
                .and_then(scalar_text)
                .as_deref()
                .map(server_text);
            Ok(ApiError {
                code,
                message,
                param,
            })
        }
        Value::Number(_) | Value::Bool(_) => Ok(ApiError {
            code: default_code.ok_or_else(missing_code)?,
            message: server_text(&scalar_text(item).unwrap_or_default()),
            param: None,
        }),
        Value::Null | Value::Array(_) => {
            Err(not_envelope("an `err` entry is not a string or object"))
        }
    }
}

/// A view of a `serde_json::Value` that reads a lone value where a sequence is expected as a
/// sequence of one, the way XML's repeated elements read; everything else is as serde_json.
mod lenient {
    use serde::de::value::{MapDeserializer, SeqDeserializer};
    use serde::de::{self, IntoDeserializer, Visitor};
    use serde::forward_to_deserialize_any;
    use serde_json::Value;

    #[derive(Clone, Copy)]
    pub(crate) struct Lenient<'de>(pub &'de Value);

    impl<'de> IntoDeserializer<'de, serde_json::Error> for Lenient<'de> {
        type Deserializer = Self;
        fn into_deserializer(self) -> Self {
            self
        }
    }

    fn seq<'de, V: Visitor<'de>>(
        items: impl Iterator<Item = &'de Value>,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        let mut access = SeqDeserializer::new(items.map(Lenient));
        let value = visitor.visit_seq(&mut access)?;
        access.end()?;
        Ok(value)
    }

    impl<'de> de::Deserializer<'de> for Lenient<'de> {
        type Error = serde_json::Error;

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0 {
                Value::Array(items) => seq(items.iter(), visitor),
                Value::Object(map) => {
                    let mut access =
                        MapDeserializer::new(map.iter().map(|(k, v)| (k.as_str(), Lenient(v))));
                    let value = visitor.visit_map(&mut access)?;
                    access.end()?;
                    Ok(value)
                }
                scalar => de::Deserializer::deserialize_any(scalar, visitor),
            }
        }

        fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0 {
                Value::Array(items) => seq(items.iter(), visitor),
                Value::Null => seq(std::iter::empty(), visitor),
                one => seq(std::iter::once(one), visitor),
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0 {
                Value::Null => visitor.visit_none(),
                _ => visitor.visit_some(self),
            }
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            visitor.visit_newtype_struct(self)
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            de::Deserializer::deserialize_enum(self.0, name, variants, visitor)
        }

        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf unit unit_struct tuple tuple_struct map struct identifier
            ignored_any
        }
    }
}
