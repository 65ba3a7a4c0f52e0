//! Environment variables as spanplug reads them: a value that is not UTF-8 is an
//! error naming the variable, never taken as unset and never shown (it may hold a
//! secret), and every boolean goes through one reading ([`parse_switch`]).

use std::fmt;

/// A variable whose value cannot be used. Its message names the variable and says
/// what is expected, without the bytes of a value that is not UTF-8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvError {
    name: String,
    message: String,
}

impl EnvError {
    /// The variable at fault.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with its value, without the variable's name.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

impl std::error::Error for EnvError {}

/// The text of the variable `name`; `None` when it is unset or blank (read by
/// [`spanplug_api::settings::env_var`], as plugins read theirs).
pub fn var(name: &str) -> Result<Option<String>, EnvError> {
    spanplug_api::settings::env_var(name).map_err(|_| EnvError {
        name: name.into(),
        message: spanplug_api::settings::NOT_UTF8.into(),
    })
}

/// Whose words a boolean variable takes (see [`parse_switch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchWords {
    /// An OpenTelemetry variable: `true` and `false` only, as the spec says.
    OpenTelemetry,
    /// One of spanplug's own: also `1`/`0`, `yes`/`no` and `on`/`off`.
    Spanplug,
}

/// The one reading of a boolean value: surrounding blanks ignored, any case;
/// `None` for a word `words` does not take.
pub fn parse_switch(text: &str, words: SwitchWords) -> Option<bool> {
    let text = text.trim();
    let is = |word: &str| text.eq_ignore_ascii_case(word);
    let own = words == SwitchWords::Spanplug;
    if is("true") || own && (is("1") || is("yes") || is("on")) {
        Some(true)
    } else if is("false") || own && (is("0") || is("no") || is("off")) {
        Some(false)
    } else {
        None
    }
}

/// One of spanplug's switches (`SPANPLUG_*`): `None` when unset or blank; any word
/// [`parse_switch`] does not take is an error naming the variable and the words.
pub fn switch(name: &str) -> Result<Option<bool>, EnvError> {
    let Some(text) = var(name)? else {
        return Ok(None);
    };
    match parse_switch(&text, SwitchWords::Spanplug) {
        Some(on) => Ok(Some(on)),
        None => Err(EnvError {
            name: name.into(),
            message: format!(
                "expected true or false (or 1/0, yes/no, on/off, in any case), got {text:?}"
            ),
        }),
    }
}

/// An OpenTelemetry boolean (`OTEL_SDK_DISABLED`), as the spec reads one: `true` in
/// any case is true; unset, blank and `false` are false; any other word is false,
/// with a warning naming the variable.
pub fn otel_switch(name: &str) -> Result<bool, EnvError> {
    let Some(text) = var(name)? else {
        return Ok(false);
    };
    Ok(
        parse_switch(&text, SwitchWords::OpenTelemetry).unwrap_or_else(|| {
            log::warn!("{name}={text:?} is neither true nor false; taken as false");
            false
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::{parse_switch, SwitchWords};

    #[test]
    fn every_boolean_is_read_alike_and_the_spec_s_take_only_true_and_false() {
        for (text, own, otel) in [
            ("true", Some(true), Some(true)),
            (" TRUE ", Some(true), Some(true)),
            ("False", Some(false), Some(false)),
            ("1", Some(true), None),
            ("yes", Some(true), None),
            ("On", Some(true), None),
            ("0", Some(false), None),
            ("no", Some(false), None),
            ("off", Some(false), None),
            ("1\u{fffd}", None, None),
            ("maybe", None, None),
            ("", None, None),
        ] {
            assert_eq!(parse_switch(text, SwitchWords::Spanplug), own, "{text:?}");
            assert_eq!(
                parse_switch(text, SwitchWords::OpenTelemetry),
                otel,
                "{text:?}"
            );
        }
    }
}
