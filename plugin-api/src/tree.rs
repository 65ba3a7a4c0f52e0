//! Structured settings (since 0.3.1): an entry's own settings as a tree of maps,
//! lists, numbers, booleans and strings, as an OpenTelemetry configuration file
//! writes a component's properties. The host passes them as one slice of
//! [`SettingNode`]s in preorder; a plugin reads them through [`Setting`], from
//! [`PluginContext::settings`](crate::PluginContext::settings). The flat settings
//! (`config_value`) keep working: each top-level scalar is there too, as text.

use std::fmt;

use abi_stable::{std_types::RStr, StableAbi};

/// At most this many nodes in one entry's settings; a host refuses more.
pub const MAX_SETTING_NODES: usize = 4096;
/// At most this deep (the root map is depth 1); a host refuses deeper settings.
pub const MAX_SETTING_DEPTH: usize = 32;

open_enum! {
    /// What a [`SettingNode`] holds. Open: a later minor may add kinds, which
    /// [`Setting::kind`] of an older plugin reports as unknown.
    SettingKind {
        /// No value (`key:` with nothing after it, or `null`).
        NULL = 0 => "null",
        /// `true` or `false`.
        BOOL = 1 => "bool",
        /// A whole number that fits an `i64`, in decimal.
        INT = 2 => "int",
        /// A floating-point number, as Rust prints an `f64`.
        FLOAT = 3 => "float",
        /// Text.
        STRING = 4 => "string",
        /// A list; its items follow it.
        LIST = 5 => "list",
        /// A map; its entries follow it, each node carrying its key.
        MAP = 6 => "map",
    } unknown => "unknown"
}

/// One node of the preorder: a scalar, or a list or map followed by the
/// `descendants` nodes that belong to it.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct SettingNode<'a> {
    /// What the node holds.
    pub kind: SettingKind,
    /// The node's key in its parent map (empty in a list and for the root).
    pub key: RStr<'a>,
    /// A scalar's text (`true`, `42`, `1.5`, the string); empty otherwise.
    pub text: RStr<'a>,
    /// How many nodes after this one are inside it (0 for scalars).
    pub descendants: u32,
}

/// Values may be credentials: keys and kinds only.
impl fmt::Debug for SettingNode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SettingNode")
            .field("kind", &self.kind)
            .field("key", &self.key)
            .field("descendants", &self.descendants)
            .finish_non_exhaustive()
    }
}

/// A setting value a host builds and a plugin may copy out with [`Setting::to_value`].
#[derive(Clone, PartialEq)]
pub enum SettingValue {
    /// No value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    String(String),
    /// A list.
    List(Vec<SettingValue>),
    /// A map, in the order written.
    Map(Vec<(String, SettingValue)>),
}

/// Values may be credentials: the shape only.
impl fmt::Debug for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::List(items) => f.debug_list().entries(items).finish(),
            SettingValue::Map(entries) => f
                .debug_map()
                .entries(entries.iter().map(|(k, v)| (k, v)))
                .finish(),
            SettingValue::Null => f.write_str("null"),
            other => write!(f, "<{}>", other.kind().as_str()),
        }
    }
}

impl SettingValue {
    /// The node kind this value is sent as.
    pub fn kind(&self) -> SettingKind {
        match self {
            SettingValue::Null => SettingKind::NULL,
            SettingValue::Bool(_) => SettingKind::BOOL,
            SettingValue::Int(_) => SettingKind::INT,
            SettingValue::Float(_) => SettingKind::FLOAT,
            SettingValue::String(_) => SettingKind::STRING,
            SettingValue::List(_) => SettingKind::LIST,
            SettingValue::Map(_) => SettingKind::MAP,
        }
    }
}

/// A host's owned preorder of one entry's settings, checked against
/// [`MAX_SETTING_NODES`] and [`MAX_SETTING_DEPTH`]; [`SettingTree::nodes`] lends it
/// out as the context carries it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SettingTree {
    nodes: Vec<(SettingKind, String, String, u32)>,
}

impl fmt::Debug for SettingTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.nodes(), f)
    }
}

impl SettingTree {
    /// The preorder of `value` (normally a map: an entry's own settings). Errors say
    /// which bound was passed.
    pub fn new(value: &SettingValue) -> Result<Self, String> {
        let mut tree = SettingTree::default();
        tree.push(String::new(), value, 1)?;
        Ok(tree)
    }

    fn push(&mut self, key: String, value: &SettingValue, depth: usize) -> Result<(), String> {
        if depth > MAX_SETTING_DEPTH {
            return Err(format!(
                "settings are nested deeper than {MAX_SETTING_DEPTH} levels"
            ));
        }
        if self.nodes.len() >= MAX_SETTING_NODES {
            return Err(format!(
                "settings have more than {MAX_SETTING_NODES} values"
            ));
        }
        let at = self.nodes.len();
        let text = match value {
            SettingValue::Bool(b) => b.to_string(),
            SettingValue::Int(i) => i.to_string(),
            SettingValue::Float(x) => x.to_string(),
            SettingValue::String(s) => s.clone(),
            SettingValue::Null | SettingValue::List(_) | SettingValue::Map(_) => String::new(),
        };
        self.nodes.push((value.kind(), key, text, 0));
        match value {
            SettingValue::List(items) => {
                for item in items {
                    self.push(String::new(), item, depth + 1)?;
                }
            }
            SettingValue::Map(entries) => {
                for (key, item) in entries {
                    self.push(key.clone(), item, depth + 1)?;
                }
            }
            _ => {}
        }
        // Bounded by MAX_SETTING_NODES, so it fits.
        self.nodes[at].3 = (self.nodes.len() - at - 1) as u32;
        Ok(())
    }

    /// The nodes as [`PluginContextFields`](crate::PluginContextFields) carries them.
    pub fn nodes(&self) -> Vec<SettingNode<'_>> {
        self.nodes
            .iter()
            .map(|(kind, key, text, descendants)| SettingNode {
                kind: *kind,
                key: key.as_str().into(),
                text: text.as_str().into(),
                descendants: *descendants,
            })
            .collect()
    }
}

/// A plugin's view of one value of its structured settings, borrowed from the
/// context. A malformed preorder (a count past the end) reads as if truncated.
#[derive(Clone, Copy)]
pub struct Setting<'a> {
    nodes: &'a [SettingNode<'a>],
}

impl fmt::Debug for Setting<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_value(), f)
    }
}

impl<'a> Setting<'a> {
    /// The value whose node starts `nodes`; `None` for an empty slice.
    pub fn new(nodes: &'a [SettingNode<'a>]) -> Option<Self> {
        let first = nodes.first()?;
        let end = (first.descendants as usize)
            .saturating_add(1)
            .min(nodes.len());
        Some(Setting {
            nodes: &nodes[..end],
        })
    }

    /// What it holds.
    pub fn kind(&self) -> SettingKind {
        self.nodes[0].kind
    }

    /// Its key in the parent map (empty in a list or at the root).
    pub fn key(&self) -> &'a str {
        self.nodes[0].key.as_str()
    }

    /// A string's text (`None` for other kinds).
    pub fn as_str(&self) -> Option<&'a str> {
        (self.kind() == SettingKind::STRING).then(|| self.nodes[0].text.as_str())
    }

    /// A boolean.
    pub fn as_bool(&self) -> Option<bool> {
        (self.kind() == SettingKind::BOOL).then(|| self.nodes[0].text.as_str() == "true")
    }

    /// A whole number.
    pub fn as_i64(&self) -> Option<i64> {
        (self.kind() == SettingKind::INT)
            .then(|| self.nodes[0].text.as_str().parse().ok())
            .flatten()
    }

    /// A number (whole numbers too).
    pub fn as_f64(&self) -> Option<f64> {
        matches!(self.kind(), SettingKind::INT | SettingKind::FLOAT)
            .then(|| self.nodes[0].text.as_str().parse().ok())
            .flatten()
    }

    /// A scalar's text as written (numbers and booleans too); `None` for lists, maps
    /// and null.
    pub fn text(&self) -> Option<&'a str> {
        matches!(
            self.kind(),
            SettingKind::BOOL | SettingKind::INT | SettingKind::FLOAT | SettingKind::STRING
        )
        .then(|| self.nodes[0].text.as_str())
    }

    /// The items of a list or the entries of a map (with [`Setting::key`]); nothing
    /// for scalars.
    pub fn children(&self) -> impl Iterator<Item = Setting<'a>> {
        let container = matches!(self.kind(), SettingKind::LIST | SettingKind::MAP);
        let mut rest = if container { &self.nodes[1..] } else { &[][..] };
        std::iter::from_fn(move || {
            let child = Setting::new(rest)?;
            rest = &rest[child.nodes.len()..];
            Some(child)
        })
    }

    /// The entry `key` of a map.
    pub fn get(&self, key: &str) -> Option<Setting<'a>> {
        if self.kind() != SettingKind::MAP {
            return None;
        }
        self.children().find(|child| child.key() == key)
    }

    /// An owned copy (unknown kinds read as null).
    pub fn to_value(&self) -> SettingValue {
        let text = self.nodes[0].text.as_str();
        match self.kind() {
            SettingKind::BOOL => SettingValue::Bool(text == "true"),
            SettingKind::INT => text.parse().map_or(SettingValue::Null, SettingValue::Int),
            SettingKind::FLOAT => text.parse().map_or(SettingValue::Null, SettingValue::Float),
            SettingKind::STRING => SettingValue::String(text.to_string()),
            SettingKind::LIST => {
                SettingValue::List(self.children().map(|c| c.to_value()).collect())
            }
            SettingKind::MAP => SettingValue::Map(
                self.children()
                    .map(|c| (c.key().to_string(), c.to_value()))
                    .collect(),
            ),
            _ => SettingValue::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SettingValue {
        SettingValue::Map(vec![
            (
                "rules".into(),
                SettingValue::List(vec![
                    SettingValue::Map(vec![
                        ("match".into(), SettingValue::String("http.*".into())),
                        ("keep".into(), SettingValue::Bool(false)),
                    ]),
                    SettingValue::Int(-3),
                ]),
            ),
            ("ratio".into(), SettingValue::Float(0.25)),
            ("none".into(), SettingValue::Null),
        ])
    }

    #[test]
    fn a_tree_survives_the_preorder_and_reads_back_intact() {
        let tree = SettingTree::new(&sample()).unwrap();
        let nodes = tree.nodes();
        assert_eq!(nodes.len(), 8);
        let root = Setting::new(&nodes).unwrap();
        assert_eq!(root.to_value(), sample());
        let rules: Vec<_> = root.get("rules").unwrap().children().collect();
        assert_eq!(rules[0].get("match").unwrap().as_str(), Some("http.*"));
        assert_eq!(rules[0].get("keep").unwrap().as_bool(), Some(false));
        assert_eq!(rules[1].as_i64(), Some(-3));
        assert_eq!(root.get("ratio").unwrap().as_f64(), Some(0.25));
        assert_eq!(root.get("none").unwrap().kind(), SettingKind::NULL);
        assert!(root.get("missing").is_none());
    }

    #[test]
    fn bounds_are_enforced_and_a_bad_count_reads_as_truncated() {
        let mut deep = SettingValue::Int(1);
        for _ in 0..MAX_SETTING_DEPTH {
            deep = SettingValue::List(vec![deep]);
        }
        assert!(SettingTree::new(&deep).unwrap_err().contains("deeper"));
        let wide = SettingValue::List(vec![SettingValue::Null; MAX_SETTING_NODES]);
        assert!(SettingTree::new(&wide).unwrap_err().contains("more than"));
        let tree = SettingTree::new(&sample()).unwrap();
        let mut nodes = tree.nodes();
        nodes[0].descendants = u32::MAX;
        nodes[1].descendants = 1000;
        let root = Setting::new(&nodes).unwrap();
        assert_eq!(root.children().count(), 1);
        assert!(!format!("{root:?}").contains("http"));
    }
}
