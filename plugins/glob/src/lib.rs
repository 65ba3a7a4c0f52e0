//! Shell-style globs for plugin settings: `*` (any run), `?` (one character),
//! `[abc]`, `[a-z]`, `[!x]` (classes), and `\` to escape. Matching is linear in the
//! text times the pattern (no backtracking blow-up), so a hostile pattern or span
//! name cannot stall the application thread.

#![warn(missing_docs)]

use std::fmt;
use std::iter::Peekable;
use std::str::Chars;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Char(char),
    Any,
    AnyRun,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// The common shapes, matched with `str` methods instead of the general walk.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    /// No wildcard: `GET /health`.
    Exact(String),
    /// `lit*`
    Prefix(String),
    /// `*lit`
    Suffix(String),
    /// `*lit*`
    Contains(String),
    General,
}

/// A compiled glob.
#[derive(Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    tokens: Vec<Token>,
    shape: Shape,
}

/// Why a glob does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobError {
    glob: String,
    reason: &'static str,
}

impl fmt::Display for GlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "glob {:?} does not parse: {}", self.glob, self.reason)
    }
}

impl std::error::Error for GlobError {}

/// Parses a class after its `[`, through its `]`: `!` or `^` negates, `]` first is
/// literal, `a-z` a range, `-` last literal, `\` escapes. The error is the reason.
fn parse_class(chars: &mut Peekable<Chars<'_>>) -> Result<Token, &'static str> {
    const UNCLOSED: &str = "a `[` is never closed";
    let negated = chars.next_if(|c| *c == '!' || *c == '^').is_some();
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = chars.next().ok_or(UNCLOSED)?;
        if c == ']' && !first {
            break;
        }
        first = false;
        let low = if c == '\\' {
            chars.next().ok_or(UNCLOSED)?
        } else {
            c
        };
        let high = if chars.next_if_eq(&'-').is_some() {
            match chars.next() {
                Some(']') => {
                    ranges.push((low, low));
                    ranges.push(('-', '-'));
                    break;
                }
                Some('\\') => chars.next().ok_or(UNCLOSED)?,
                Some(high) => high,
                None => return Err(UNCLOSED),
            }
        } else {
            low
        };
        if high < low {
            return Err("a range in `[...]` runs backwards");
        }
        ranges.push((low, high));
    }
    Ok(Token::Class { negated, ranges })
}

/// Patterns with more elements than this are refused: matching keeps one bit per
/// element, and no real key or span name needs more.
pub const MAX_GLOB_ELEMENTS: usize = 127;

impl Glob {
    /// Compiles `text`.
    pub fn new(text: &str) -> Result<Glob, GlobError> {
        let error = |reason| GlobError {
            glob: text.to_string(),
            reason,
        };
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => {
                    if tokens.last() == Some(&Token::AnyRun) {
                        continue;
                    }
                    Token::AnyRun
                }
                '?' => Token::Any,
                '\\' => Token::Char(
                    chars
                        .next()
                        .ok_or_else(|| error("it ends with a lone `\\`"))?,
                ),
                '[' => parse_class(&mut chars).map_err(error)?,
                c => Token::Char(c),
            });
            if tokens.len() > MAX_GLOB_ELEMENTS {
                return Err(error("more than 127 characters, classes and wildcards"));
            }
        }
        Ok(Glob {
            text: text.to_string(),
            shape: shape_of(&tokens),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        match &self.shape {
            Shape::Exact(literal) => text == literal,
            Shape::Prefix(literal) => text.starts_with(literal.as_str()),
            Shape::Suffix(literal) => text.ends_with(literal.as_str()),
            Shape::Contains(literal) => text.contains(literal.as_str()),
            Shape::General => self.walk(text),
        }
    }

    fn walk(&self, text: &str) -> bool {
        // Which pattern positions are reachable after each character, one bit each: an
        // NFA walk, linear in the text, with no allocation.
        let n = self.tokens.len();
        let mut states = self.close(1);
        for c in text.chars() {
            let mut next = 0u128;
            for (i, token) in self.tokens.iter().enumerate() {
                if states & (1 << i) == 0 {
                    continue;
                }
                let advance = match token {
                    Token::AnyRun => {
                        next |= 1 << i;
                        false
                    }
                    Token::Any => true,
                    Token::Char(want) => *want == c,
                    Token::Class { negated, ranges } => {
                        ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
                    }
                };
                if advance {
                    next |= 1 << (i + 1);
                }
            }
            states = self.close(next);
            if states == 0 {
                return false;
            }
        }
        states & (1 << n) != 0
    }

    /// `*` may match nothing: a state before one also reaches the state after it.
    fn close(&self, mut states: u128) -> u128 {
        for (i, token) in self.tokens.iter().enumerate() {
            if states & (1 << i) != 0 && *token == Token::AnyRun {
                states |= 1 << (i + 1);
            }
        }
        states
    }
}

/// Recognises the shapes [`Shape`] names; anything else takes the general walk.
fn shape_of(tokens: &[Token]) -> Shape {
    let literal = |tokens: &[Token]| -> Option<String> {
        tokens
            .iter()
            .map(|t| match t {
                Token::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    };
    let starts = tokens.first() == Some(&Token::AnyRun);
    let ends = tokens.len() > usize::from(starts) && tokens.last() == Some(&Token::AnyRun);
    let inner = &tokens[usize::from(starts)..tokens.len() - usize::from(ends)];
    match (starts, ends, literal(inner)) {
        (false, false, Some(l)) => Shape::Exact(l),
        (false, true, Some(l)) => Shape::Prefix(l),
        (true, false, Some(l)) => Shape::Suffix(l),
        (true, true, Some(l)) => Shape::Contains(l),
        _ => Shape::General,
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.text)
    }
}

/// Splits a comma-separated setting into trimmed, non-empty items.
pub fn list(setting: &str) -> impl Iterator<Item = &str> {
    setting.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(glob: &str, text: &str) -> bool {
        Glob::new(glob).unwrap().matches(text)
    }

    #[test]
    fn matches_shell_style() {
        assert!(m("/health", "/health"));
        assert!(!m("/health", "/healthz"));
        assert!(m("/health*", "/healthz"));
        assert!(m("GET /*/items", "GET /v1/items"));
        assert!(m("*secret*", "client_secret_id"));
        assert!(m("a?c", "abc") && !m("a?c", "ac"));
        assert!(m("[a-c]x", "bx") && !m("[!a-c]x", "bx") && m("[!a-c]x", "dx"));
        assert!(m("\\*", "*") && !m("\\*", "x"));
        assert!(m("*", "") && m("**", "anything"));
        assert!(m("[]a]", "]") && m("[a-]", "-"));
        assert!(m("[A-\\]]", "]") && m("[A-\\]]", "B") && !m("[A-\\]]", "c"));
        assert!(m("é*", "éa"));
        assert!(m("*", "x") && m("*ab", "cab") && !m("*ab", "abc") && m("ab*", "abc"));
        assert!(m("a*b", "axxb") && !m("a*b", "axxc"));
    }

    #[test]
    fn refuses_what_does_not_parse() {
        let long = "x".repeat(200);
        for bad in ["[abc", "x\\", "[z-a]", long.as_str()] {
            let error = Glob::new(bad).unwrap_err().to_string();
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[test]
    fn hostile_patterns_stay_linear() {
        let glob = Glob::new(&"*a".repeat(60)).unwrap();
        // 60 stars over 10,000 characters: linear steps, not 10,000^60.
        let text = "a".repeat(10_000) + "b";
        assert!(!glob.matches(&text));
        assert!(glob.matches(&"a".repeat(120)));
    }
}
