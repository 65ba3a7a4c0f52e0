//! The file as a tree whose every node knows its line: YAML events (saphyr-parser)
//! with environment substitution applied to each scalar before its type is decided
//! (the YAML 1.2 core schema for plain scalars; quoted and block scalars stay text),
//! so a variable can make a number or a boolean but never a map.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::subst::substitute;

/// Nodes (aliases counted each time they are used) beyond this are refused.
const MAX_NODES: usize = 100_000;

/// A value of the file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Node>),
    /// In the order written; keys are unique.
    Map(Vec<(String, Node)>),
}

/// A value and the line it starts on (a map entry's: its key's line).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) line: usize,
}

impl Node {
    /// The entry `key` of a map.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
}

/// Reads environment variables for substitution.
pub(crate) type Env<'e> = &'e dyn Fn(&str) -> Option<String>;

/// Parses one YAML document; errors carry their line.
pub(crate) fn parse(text: &str, env: Env<'_>) -> Result<Node, (usize, String)> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        env,
        anchors: HashMap::new(),
        count: 0,
    };
    loop {
        let (event, span) = reader.next()?;
        match event {
            Event::StreamStart | Event::DocumentStart(_) => {}
            Event::StreamEnd => {
                return Ok(Node {
                    value: Value::Null,
                    line: 1,
                })
            }
            event => {
                let node = reader.node(event, span)?;
                return match reader.next()? {
                    (Event::DocumentEnd, _) => match reader.next()? {
                        (Event::StreamEnd, _) => Ok(node),
                        (_, span) => {
                            Err((line(span), "a config file holds one YAML document".into()))
                        }
                    },
                    (_, span) => Err((line(span), "unexpected YAML after the document".into())),
                };
            }
        }
    }
}

fn line(span: Span) -> usize {
    span.start.line()
}

struct Reader<'t, 'e> {
    parser: Parser<'t, saphyr_parser::StrInput<'t>>,
    env: Env<'e>,
    anchors: HashMap<usize, Node>,
    count: usize,
}

impl<'t> Reader<'t, '_> {
    fn next(&mut self) -> Result<(Event<'t>, Span), (usize, String)> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err((
                error.marker().line(),
                format!("not valid YAML: {}", error.info()),
            )),
            None => Err((0, "the YAML ended early".into())),
        }
    }

    fn counted(&mut self, node: Node, at: usize) -> Result<Node, (usize, String)> {
        self.count += 1;
        if self.count > MAX_NODES {
            return Err((
                at,
                format!("more than {MAX_NODES} values; config files are limited to that"),
            ));
        }
        Ok(node)
    }

    fn node(&mut self, event: Event<'t>, span: Span) -> Result<Node, (usize, String)> {
        let at = line(span);
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(&text, style, tag.as_deref(), self.env).map_err(|e| (at, e))?;
                (Node { value, line: at }, anchor)
            }
            Event::SequenceStart(anchor, _) => (self.sequence(at)?, anchor),
            Event::MappingStart(anchor, _) => (self.mapping(at)?, anchor),
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or((at, "an alias names no anchor".to_string()))?;
                self.count += count_nodes(&node);
                return self.counted(Node { line: at, ..node }, at);
            }
            _ => return Err((at, "unexpected YAML event".into())),
        };
        let node = self.counted(node, at)?;
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn sequence(&mut self, at: usize) -> Result<Node, (usize, String)> {
        let mut items = Vec::new();
        loop {
            match self.next()? {
                (Event::SequenceEnd, _) => {
                    return Ok(Node {
                        value: Value::List(items),
                        line: at,
                    })
                }
                (event, span) => items.push(self.node(event, span)?),
            }
        }
    }

    fn mapping(&mut self, at: usize) -> Result<Node, (usize, String)> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            let key_line = line(span);
            let key = match event {
                Event::MappingEnd => {
                    return Ok(Node {
                        value: Value::Map(entries),
                        line: at,
                    })
                }
                // Keys are not candidates for substitution.
                Event::Scalar(text, ..) => text.into_owned(),
                _ => return Err((key_line, "a map key must be text".into())),
            };
            if entries.iter().any(|(k, _)| *k == key) {
                return Err((
                    key_line,
                    format!("the key `{key}` appears twice in one map"),
                ));
            }
            let (event, span) = self.next()?;
            let mut value = self.node(event, span)?;
            value.line = key_line;
            entries.push((key, value));
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::List(items) => items.iter().map(count_nodes).sum::<usize>() + 1,
        Value::Map(entries) => entries.iter().map(|(_, v)| count_nodes(v)).sum::<usize>() + 1,
        _ => 1,
    }
}

/// A scalar after substitution: plain ones typed by the core schema, the rest text.
fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    env: Env<'_>,
) -> Result<Value, String> {
    let text = substitute(text, env)?;
    match tag {
        Some(tag) if tag.handle == "tag:yaml.org,2002:" && tag.suffix == "str" => {
            return Ok(Value::Str(text))
        }
        Some(tag) => {
            return Err(format!(
                "the tag `{}{}` is not supported (only !!str)",
                tag.handle, tag.suffix
            ))
        }
        None => {}
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::Str(text));
    }
    Ok(core_schema(&text).unwrap_or(Value::Str(text)))
}

/// The YAML 1.2 core schema's reading of a plain scalar; `None` is text.
pub(crate) fn core_schema(text: &str) -> Option<Value> {
    Some(match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        _ => return number(text),
    })
}

fn number(text: &str) -> Option<Value> {
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(hex) = text.strip_prefix("0x") {
        return digits(hex, 16)
            .then(|| i64::from_str_radix(hex, 16).ok().map(Value::Int))
            .flatten();
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return digits(octal, 8)
            .then(|| i64::from_str_radix(octal, 8).ok().map(Value::Int))
            .flatten();
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned, 10) {
        return text.parse().ok().map(Value::Int);
    }
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            let infinity = if text.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            return Some(Value::Float(infinity));
        }
        _ => {}
    }
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction, 10),
        Some((whole, fraction)) => {
            digits(whole, 10) && (fraction.is_empty() || digits(fraction, 10))
        }
        None => digits(mantissa, 10),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    (mantissa_ok && exponent_ok)
        .then(|| text.parse().ok().map(Value::Float))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "INT_VALUE" => Some("1".into()),
            "BOOL_VALUE" => Some("true".into()),
            "HEX_VALUE" => Some("0xdeadbeef".into()),
            "FLOAT_VALUE" => Some("1.1".into()),
            "INVALID_MAP_VALUE" => Some("value\nkey:value".into()),
            _ => None,
        }
    }

    #[test]
    fn types_are_decided_after_substitution_and_quotes_keep_text() {
        let text = "a: ${INT_VALUE}\nb: \"${INT_VALUE}\"\nc: ${BOOL_VALUE}\nd: ${HEX_VALUE}\ne: ${FLOAT_VALUE}\nf: ${UNDEFINED}\ng: ${INVALID_MAP_VALUE}\n${INT_VALUE}: k\nh: 1e3\ni: 0o17\nj: 1.2.3\n";
        let root = parse(text, &env).unwrap();
        let get = |k: &str| root.get(k).unwrap().value.clone();
        assert_eq!(get("a"), Value::Int(1));
        assert_eq!(get("b"), Value::Str("1".into()));
        assert_eq!(get("c"), Value::Bool(true));
        assert_eq!(get("d"), Value::Int(3_735_928_559));
        assert_eq!(get("e"), Value::Float(1.1));
        assert_eq!(get("f"), Value::Null);
        assert_eq!(get("g"), Value::Str("value\nkey:value".into()));
        assert_eq!(get("${INT_VALUE}"), Value::Str("k".into()));
        assert_eq!(get("h"), Value::Float(1000.0));
        assert_eq!(get("i"), Value::Int(15));
        assert_eq!(get("j"), Value::Str("1.2.3".into()));
        assert_eq!(root.get("g").unwrap().line, 7);
    }

    #[test]
    fn anchors_expand_within_bounds_and_errors_carry_lines() {
        let root = parse("base: &b {x: 1}\nuse: *b\n", &env).unwrap();
        assert_eq!(
            root.get("use").unwrap().get("x").unwrap().value,
            Value::Int(1)
        );
        let (line, message) = parse("a: 1\nb: ${1BAD}\n", &env).unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("not valid"), "{message}");
        let (line, message) = parse("a: 1\na: 2\n", &env).unwrap_err();
        assert_eq!((line, message.contains("twice")), (2, true));
        let mut bomb = String::from("l0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = i - 1;
            bomb.push_str(&format!("l{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        assert!(parse(&bomb, &env).unwrap_err().1.contains("more than"));
    }
}
