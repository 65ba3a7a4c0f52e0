//! Validation against the OpenTelemetry configuration JSON schema vendored in
//! `host/config/schema/` (its README says where it came from), with the `jsonschema`
//! crate: no network and no file access, the schema is compiled in.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use jsonschema::Validator;
use serde_json::{Map, Number, Value as Json};

use super::node::{Node, Value};
use super::Problem;

/// The 1.0 schema; see `schema/README.md`.
const SCHEMA_1_0: &str = include_str!("../../schema/1.0/opentelemetry_configuration.json");

fn validator() -> &'static Result<Validator, String> {
    static VALIDATOR: OnceLock<Result<Validator, String>> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Json = serde_json::from_str(SCHEMA_1_0).map_err(|e| e.to_string())?;
        jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())
    })
}

/// What the schema says of `root`: errors, and (for a file of a newer minor than the
/// schema, `lenient`) properties the schema does not know, as warnings.
pub(super) fn validate(root: &Node, lenient: bool) -> (Vec<Problem>, Vec<Problem>) {
    let validator = match validator() {
        Ok(validator) => validator,
        Err(error) => {
            let problem = Problem::new(
                "",
                0,
                format!("the vendored schema does not compile: {error}"),
            );
            return (vec![problem], Vec::new());
        }
    };
    let instance = to_json(root);
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for error in validator.iter_errors(&instance) {
        let (path, node) = locate(root, error.instance_path().segments());
        if let ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() {
            for key in unexpected {
                let line = node.get(key).map_or(node.line, |n| n.line);
                let problem = Problem::new(
                    &join(&path, key),
                    line,
                    "not a property the schema knows here".into(),
                );
                if lenient {
                    warnings.push(problem.note("a 1.1 addition? spanplug has only the 1.0 schema"));
                } else {
                    errors.push(problem);
                }
            }
            continue;
        }
        errors.push(Problem::new(&path, node.line, error.masked().to_string()));
    }
    (errors, warnings)
}

/// `a.b` or `b` at the root.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The YAML path (`tracer_provider.processors[0].batch`) and node of a JSON pointer.
fn locate<'n, 's>(
    root: &'n Node,
    segments: impl Iterator<Item = LocationSegment<'s>>,
) -> (String, &'n Node) {
    let mut path = String::new();
    let mut node = root;
    for segment in segments {
        let next = match (&segment, &node.value) {
            (LocationSegment::Index(i), Value::List(items)) => {
                path.push_str(&format!("[{i}]"));
                items.get(*i)
            }
            (LocationSegment::Index(i), _) => {
                path = join(&path, &i.to_string());
                node.get(&i.to_string())
            }
            (LocationSegment::Property(key), _) => {
                path = join(&path, key);
                node.get(key)
            }
        };
        match next {
            Some(next) => node = next,
            None => break,
        }
    }
    (path, node)
}

/// The tree as JSON, for the validator (a non-finite float becomes text, which no
/// numeric property accepts).
pub(super) fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::Float(x) => {
            Number::from_f64(*x).map_or_else(|| Json::String(x.to_string()), Json::Number)
        }
        Value::Str(s) => Json::String(s.clone()),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}
