//! `redact:attributes`: a transformer that masks secrets and personal data before any
//! exporter after it sees them: attribute values (span and event), the span name and
//! the status description.
//!
//! Config keys:
//! - `keys`: comma-separated globs on attribute keys, matched without regard to case;
//!   a matching attribute's whole value is redacted (default: [`DEFAULT_KEYS`]);
//! - `values`: built-in detectors applied to every string value, the span name and the
//!   status description: `email`, `card` (13 to 19 digits passing Luhn), `bearer`
//!   (the token after `Bearer `), `ipv4` (default `email,card,bearer`);
//! - `mode`: `mask` writes `[REDACTED]` (default), `hash` writes `sha256:` and 16 hex
//!   digits of the text's HMAC-SHA-256 under `hash_key` (plain SHA-256 without one, with
//!   a warning) so equal values stay joinable, `remove` drops the attribute (names and
//!   descriptions, which cannot be removed, are masked);
//! - `hash_key`: the HMAC key for `hash` mode; keep it out of YAML with `${env:VAR}`.
//!
//! Not covered (the editing interface cannot change them): event names, link
//! attributes, and resource attributes; integer and float arrays are not scanned.

#![warn(missing_docs)]

mod detect;
mod hash;
mod memo;

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use spanplug_api::{
    EndingSpan, KeyValue, PluginContext, Processor, SpanProcessor, SpanView, ValueRef,
};
use spanplug_glob::{list, Glob};

use crate::detect::Detector;
use crate::hash::hmac_sha256;
use crate::memo::{CleanValues, JudgedKeys, Memo};

/// Attribute keys redacted by default.
pub const DEFAULT_KEYS: &str =
    "*password*,*passwd*,*secret*,*token*,*api_key*,*api-key*,*apikey*,*authorization*,*cookie*";
const DEFAULT_VALUES: &str = "email,card,bearer";
const KEYS: [&str; 4] = ["keys", "values", "mode", "hash_key"];
const MASK: &str = "[REDACTED]";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Mask,
    Hash,
    Remove,
}

thread_local! {
    /// By redactor id; a process has one or two redactors, so a list beats a map.
    static MEMOS: RefCell<Vec<(u64, Memo)>> = const { RefCell::new(Vec::new()) };
}

static NEXT_REDACTOR: AtomicU64 = AtomicU64::new(0);

struct Redactor {
    /// Names this redactor's verdicts in [`MEMOS`].
    id: u64,
    keys: Vec<Glob>,
    detectors: Vec<Detector>,
    mode: Mode,
    /// The HMAC key of `hash` mode; never logged.
    hash_key: Option<Vec<u8>>,
}

/// What to do with one attribute.
enum Action {
    Keep,
    Replace(String),
    Remove,
}

impl Redactor {
    fn replacement(&self, secret: &str) -> String {
        match self.mode {
            Mode::Hash => {
                let digest = match &self.hash_key {
                    Some(key) => hmac_sha256(key, secret.as_bytes()),
                    None => Sha256::digest(secret.as_bytes()).into(),
                };
                let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("sha256:{hex}")
            }
            Mode::Mask | Mode::Remove => MASK.to_string(),
        }
    }

    /// [`Redactor::scrub`], skipped for text this thread already found clean.
    fn scrub_remembered<'t>(&self, clean: &mut CleanValues, text: &'t str) -> Cow<'t, str> {
        if clean.is_clean(text) {
            return Cow::Borrowed(text);
        }
        let scrubbed = self.scrub(text);
        if matches!(scrubbed, Cow::Borrowed(_)) {
            clean.remember(text);
        }
        scrubbed
    }

    /// `text` with every detected range replaced; borrowed when nothing was found.
    fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut found: Vec<Range<usize>> = Vec::new();
        for detector in &self.detectors {
            if detector.may_match(text) {
                detector.find(text, &mut found);
            }
        }
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        found.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        // Overlapping finds merge into one redacted stretch.
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
        for range in found {
            match merged.last_mut() {
                Some(last) if range.start < last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        for range in merged {
            out.push_str(&text[at..range.start]);
            out.push_str(&self.replacement(&text[range.clone()]));
            at = range.end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    fn key_is_sensitive(&self, judged: &mut JudgedKeys, key: &str) -> bool {
        judged.verdict(key, |key| self.judge_key(key))
    }

    fn judge_key(&self, key: &str) -> bool {
        let lower: Cow<'_, str> = if key.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(key.to_ascii_lowercase())
        } else {
            Cow::Borrowed(key)
        };
        self.keys.iter().any(|g| g.matches(&lower))
    }

    fn action(&self, memo: &mut Memo, kv: &KeyValue<'_>) -> Action {
        if self.key_is_sensitive(&mut memo.keys, kv.key.as_str()) {
            return match self.mode {
                Mode::Remove => Action::Remove,
                _ => Action::Replace(self.replacement(&text_of(&kv.value.get()))),
            };
        }
        let scrubbed = match kv.value.get() {
            ValueRef::String(s) => self.scrub_remembered(&mut memo.clean, s),
            // Card numbers stored as integers.
            ValueRef::I64(i) if i.unsigned_abs() >= 1_000_000_000_000 => {
                match self.scrub(&i.to_string()) {
                    Cow::Owned(s) => Cow::Owned(s),
                    Cow::Borrowed(_) => return Action::Keep,
                }
            }
            ValueRef::StringArray(items) => {
                if items
                    .iter()
                    .all(|s| matches!(self.scrub(s.as_str()), Cow::Borrowed(_)))
                {
                    return Action::Keep;
                }
                // One flagged element: the array becomes its scrubbed text.
                let joined: Vec<String> = items
                    .iter()
                    .map(|s| self.scrub(s.as_str()).into_owned())
                    .collect();
                Cow::Owned(joined.join(","))
            }
            _ => return Action::Keep,
        };
        match (scrubbed, self.mode) {
            (Cow::Borrowed(_), _) => Action::Keep,
            (Cow::Owned(_), Mode::Remove) => Action::Remove,
            (Cow::Owned(text), _) => Action::Replace(text),
        }
    }
}

/// A value as text, for hashing.
fn text_of(value: &ValueRef<'_>) -> String {
    match value {
        ValueRef::String(s) => s.to_string(),
        ValueRef::Bool(b) => b.to_string(),
        ValueRef::I64(i) => i.to_string(),
        ValueRef::F64(f) => f.to_string(),
        other => format!("{other:?}"),
    }
}

impl SpanProcessor for Redactor {
    fn name(&self) -> String {
        "redact:attributes".into()
    }

    fn needs_on_start(&self) -> bool {
        false
    }

    fn on_end(&self, _span: &SpanView<'_>) {}

    fn needs_on_end(&self) -> bool {
        false
    }

    fn transforms(&self) -> bool {
        true
    }

    fn transform(&self, span: &mut EndingSpan<'_>) {
        MEMOS.with(|memos| {
            let mut memos = memos.borrow_mut();
            let at = match memos.iter().position(|(id, _)| *id == self.id) {
                Some(at) => at,
                None => {
                    memos.push((self.id, Memo::default()));
                    memos.len() - 1
                }
            };
            self.redact(&mut memos[at].1, span);
        });
    }
}

impl Redactor {
    fn redact(&self, memo: &mut Memo, span: &mut EndingSpan<'_>) {
        let view = *span.view();
        for kv in view.attributes.iter() {
            match self.action(memo, kv) {
                Action::Keep => {}
                Action::Replace(text) => span.set_attribute(kv.key.as_str(), text.as_str()),
                Action::Remove => span.remove_attribute(kv.key.as_str()),
            }
        }
        for (index, event) in view.events.iter().enumerate() {
            for kv in event.attributes.iter() {
                match self.action(memo, kv) {
                    Action::Keep => {}
                    Action::Replace(text) => {
                        span.set_event_attribute(index, kv.key.as_str(), text.as_str())
                    }
                    Action::Remove => span.remove_event_attribute(index, kv.key.as_str()),
                }
            }
        }
        if let Cow::Owned(name) = self.scrub_remembered(&mut memo.clean, view.name.as_str()) {
            span.set_name(&name);
        }
        if let Cow::Owned(description) = self.scrub(view.status.description.as_str()) {
            span.set_status_description(&description);
        }
    }
}

/// Factory `attributes`: the redacting transformer, set up from `keys`, `values`, `mode`
/// and `hash_key`.
pub fn attributes(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    ctx.check_keys(&KEYS)?;
    let keys = list(ctx.config_value("keys").unwrap_or(DEFAULT_KEYS))
        .map(|k| Glob::new(&k.to_ascii_lowercase()).map_err(|e| format!("keys: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let detectors = list(ctx.config_value("values").unwrap_or(DEFAULT_VALUES))
        .map(|name| {
            Detector::parse(name).ok_or_else(|| {
                format!(
                    "values: unknown detector {name:?}; valid: {}",
                    Detector::NAMES
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mode = match ctx.config_value("mode").unwrap_or("mask") {
        "mask" => Mode::Mask,
        "hash" => Mode::Hash,
        "remove" => Mode::Remove,
        other => {
            return Err(format!(
                "mode: unknown mode {other:?}; valid: mask, hash, remove"
            ))
        }
    };
    let hash_key = ctx
        .config_value("hash_key")
        .filter(|k| !k.is_empty())
        .map(|k| k.as_bytes().to_vec());
    if mode == Mode::Hash && hash_key.is_none() {
        ctx.logger().warn(
            "mode hash without hash_key: unkeyed hashes of card numbers or e-mail addresses can be reversed by trying guesses; set hash_key (e.g. \"${env:REDACT_HASH_KEY}\")",
        );
    }
    Ok(vec![Processor::new(Redactor {
        id: NEXT_REDACTOR.fetch_add(1, Ordering::Relaxed),
        hash_key,
        keys,
        detectors,
        mode,
    })])
}

#[cfg(test)]
mod tests;
