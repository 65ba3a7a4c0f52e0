//! `resource`: attributes (typed), `attributes_list`, `schema_url` and the detectors
//! spanplug has.

use crate::file_spec::{AttributeValue, ResourceDetector, ResourceSpec};

use super::map::{entries, int, single, text, Mapper};
use super::node::{Node, Value};
use super::schema::join;

impl Mapper {
    pub(super) fn resource(&mut self, node: &Node) -> ResourceSpec {
        let mut spec = ResourceSpec::default();
        if let Some(list) = node.get("attributes_list") {
            self.attributes_list(list, &mut spec);
        }
        if let Some(Value::List(items)) = node.get("attributes").map(|n| &n.value) {
            for (i, item) in items.iter().enumerate() {
                let path = format!("resource.attributes[{i}]");
                let Some(name) = text(item.get("name")) else {
                    continue;
                };
                if let Some(value) = self.attribute(&path, item) {
                    spec.attributes.retain(|(k, _)| k != name);
                    spec.attributes.push((name.to_string(), value));
                }
            }
        }
        spec.schema_url = text(node.get("schema_url")).map(String::from);
        for key in ["detection/development", "detection"] {
            if let Some(detection) = node.get(key) {
                self.detection(&join("resource", key), detection, &mut spec);
            }
        }
        spec
    }

    /// `attributes_list`: `OTEL_RESOURCE_ATTRIBUTES`'s format, values percent-decoded.
    fn attributes_list(&mut self, list: &Node, spec: &mut ResourceSpec) {
        let Some(text) = text(Some(list)) else { return };
        let path = "resource.attributes_list";
        match spanplug_api::settings::key_value_pairs(path, text) {
            Ok(pairs) => {
                for (key, value) in pairs {
                    match spanplug_api::settings::percent_decode(value) {
                        Some(value) => spec
                            .attributes
                            .push((key.to_string(), AttributeValue::String(value))),
                        None => self.refuse(
                            path,
                            list,
                            format!("the value of `{key}` is not valid percent-encoded UTF-8"),
                        ),
                    }
                }
            }
            Err(error) => self.refuse(
                path,
                list,
                error
                    .trim_start_matches(path)
                    .trim_start_matches(": ")
                    .to_string(),
            ),
        }
    }

    fn attribute(&mut self, path: &str, item: &Node) -> Option<AttributeValue> {
        let value = item.get("value")?;
        let kind = text(item.get("type")).unwrap_or("string");
        let list = |f: &dyn Fn(&Value) -> bool| match &value.value {
            Value::List(items) if items.iter().all(|i| f(&i.value)) => Some(items),
            _ => None,
        };
        let parsed = match (kind, &value.value) {
            (_, Value::Null) => return None,
            ("string", Value::Str(s)) => Some(AttributeValue::String(s.clone())),
            ("bool", Value::Bool(b)) => Some(AttributeValue::Bool(*b)),
            ("int", Value::Int(i)) => Some(AttributeValue::Int(*i)),
            ("double", Value::Float(x)) => Some(AttributeValue::Double(*x)),
            ("double", Value::Int(i)) => Some(AttributeValue::Double(*i as f64)),
            ("string_array", _) => list(&|v| matches!(v, Value::Str(_))).map(|items| {
                AttributeValue::StringArray(
                    items
                        .iter()
                        .filter_map(|i| text(Some(i)).map(String::from))
                        .collect(),
                )
            }),
            ("bool_array", _) => list(&|v| matches!(v, Value::Bool(_))).map(|items| {
                AttributeValue::BoolArray(
                    items
                        .iter()
                        .map(|i| matches!(i.value, Value::Bool(true)))
                        .collect(),
                )
            }),
            ("int_array", _) => list(&|v| matches!(v, Value::Int(_))).map(|items| {
                AttributeValue::IntArray(items.iter().filter_map(|i| int(Some(i))).collect())
            }),
            ("double_array", _) => {
                list(&|v| matches!(v, Value::Float(_) | Value::Int(_))).map(|items| {
                    AttributeValue::DoubleArray(
                        items
                            .iter()
                            .map(|i| match i.value {
                                Value::Float(x) => x,
                                Value::Int(n) => n as f64,
                                _ => 0.0,
                            })
                            .collect(),
                    )
                })
            }
            _ => None,
        };
        if parsed.is_none() {
            self.refuse(
                &join(path, "value"),
                value,
                format!("does not match its type `{kind}`"),
            );
        }
        parsed
    }

    fn detection(&mut self, path: &str, node: &Node, spec: &mut ResourceSpec) {
        for (key, child) in entries(node) {
            let at = join(path, key);
            match (key.as_str(), &child.value) {
                ("detectors", Value::List(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        let Some((name, body)) = single(item) else {
                            continue;
                        };
                        let detector = match name {
                            "service" => ResourceDetector::Service,
                            "host" => ResourceDetector::Host,
                            "process" => ResourceDetector::Process,
                            "container" => ResourceDetector::Container,
                            other => {
                                self.refuse(&format!("{at}[{i}].{other}"), body, "not a detector spanplug has (service, host, process, container)");
                                continue;
                            }
                        };
                        spec.detectors.push(detector);
                    }
                }
                _ => self.refuse(
                    &at,
                    child,
                    "not supported by spanplug (its detectors' attributes are all added)",
                ),
            }
        }
    }
}
