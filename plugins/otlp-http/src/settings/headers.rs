//! Request headers: the `OTEL_EXPORTER_OTLP_HEADERS` format, and which source's
//! headers an entry sends (see the order in [`crate::settings`]).

use super::credentials::EnvCredentials;
use super::sources::{Found, Lookup};
use super::{Preset, Secret};
use spanplug_api::settings::percent_decode;

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.".contains(&b)
}

/// `key=value,key2=value2` with percent-encoded values (the W3C baggage format the
/// spec uses for `OTEL_EXPORTER_OTLP_HEADERS`). Errors never echo a value, nor an
/// invalid name past its valid start (`Authorization: Basic …` is one name to this
/// format, credential included).
pub fn parse_headers(source: &str, text: &str) -> Result<Vec<(String, Secret)>, String> {
    spanplug_api::settings::key_value_pairs(source, text)?
        .into_iter()
        .map(|(key, value)| {
            if !key.bytes().all(is_name_byte) {
                return Err(invalid_header_name(source, key));
            }
            let value = percent_decode(value).ok_or_else(|| {
                format!("{source}: the value of header {key:?} is not valid percent-encoded UTF-8")
            })?;
            Ok((key.to_ascii_lowercase(), Secret::new(value)))
        })
        .collect()
}

/// Names the header only when it is written `Name: value`, only up to the ':', and
/// only when that looks like a header name: the text before a ':' may be a
/// credential (`TOKEN:x=…`, or `b` of `Authorization=Basic a,b:c=`, where a comma
/// in a value split the list).
fn invalid_header_name(source: &str, key: &str) -> String {
    let end = key
        .bytes()
        .position(|b| !is_name_byte(b))
        .unwrap_or(key.len());
    let (name, rest) = key.split_at(end);
    match rest.chars().next() {
        Some(c @ (':' | ' ' | '\t')) if looks_like_a_header_name(name) => format!(
            "{source}: the header name {name:?} is followed by {c:?}: a header name may not contain ':' or spaces; write name=value with the value percent-encoded (a space is %20); the rest is not shown"
        ),
        _ => format!(
            "{source}: a header name is not valid (not shown: it may be a credential); a name has letters, digits, '-', '_' and '.', and is written name=value"
        ),
    }
}

/// Header names that are shown in errors although they are one word.
const KNOWN_NAMES: &[&str] = &["authorization", "apikey", "cookie"];

/// A known header name, or words of ASCII letters joined by '-' (`x-api-key`,
/// `Content-Type`, `DD-API-KEY`), each all lower case, all upper case or capitalised,
/// at most 40 characters in all. Base64 and hex rarely pass; a one-word name that
/// is not known never does.
fn looks_like_a_header_name(name: &str) -> bool {
    if name.len() > 40 {
        return false;
    }
    if KNOWN_NAMES
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name))
    {
        return true;
    }
    let word = |(i, word): (usize, &str)| {
        let mut rest = word.chars().skip(1);
        let long_enough = word.len() >= 2 || (i == 0 && word.eq_ignore_ascii_case("x"));
        long_enough
            && word.bytes().all(|b| b.is_ascii_alphabetic())
            && (word.bytes().all(|b| b.is_ascii_uppercase())
                || rest.all(|c| c.is_ascii_lowercase()))
    };
    name.contains('-') && name.split('-').enumerate().all(word)
}

/// The headers of the entry, the environment or `exporter_config`, with the preset's
/// vendor headers over them except where the entry's own `headers` set them. A
/// variable `env` does not admit is as if unset (yet an error if it does not parse).
pub(super) fn resolve(
    preset: &Preset,
    lookup: &Lookup<'_, '_>,
    env: &mut EnvCredentials,
) -> Result<Vec<(String, Secret)>, String> {
    let parse = |found: Option<Found>| match found {
        Some((source, text)) => parse_headers(&source, &text),
        None => Ok(Vec::new()),
    };
    let found = lookup.otlp("headers", "HEADERS")?;
    let source = found.as_ref().map(|(source, _)| source.clone());
    let mut headers = parse(found)?;
    if source.is_some_and(|source| !env.admit(&source, None)) {
        headers = parse(lookup.shared("headers"))?;
    }
    let from_entry = lookup.ctx.entry_config_value("headers").is_some();
    for (name, vars) in preset.header_envs {
        if from_entry && headers.iter().any(|(k, _)| k == name) {
            continue;
        }
        if let Some((var, value)) = lookup.first_var(vars)? {
            if env.admit(&var, Some(name)) {
                headers.retain(|(k, _)| k != name);
                headers.push((name.to_string(), Secret::new(value)));
            }
        }
    }
    Ok(headers)
}
