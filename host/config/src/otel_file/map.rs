//! The file's fields onto a [`TracingConfig`]: each applied, or refused (an error) or
//! warned about (other signals) with its YAML path and line. The schema has already
//! checked types and ranges, so a value of an unexpected shape here is skipped.

use crate::file_spec::{ParentBasedSpec, ResourceSpec, SamplerSpec, SpanLimitsSpec};
use crate::{Propagator, TracingConfig};

use super::node::{Node, Value};
use super::schema::join;
use super::Problem;

/// The spec's default for every count limit.
const DEFAULT_LIMIT: u32 = 128;

/// What mapping found: the problems that stop loading, and the warnings.
#[derive(Default)]
pub(super) struct Mapper {
    pub(super) errors: Vec<Problem>,
    pub(super) warnings: Vec<Problem>,
}

/// A map's entries (none for anything else).
pub(super) fn entries(node: &Node) -> &[(String, Node)] {
    match &node.value {
        Value::Map(entries) => entries,
        _ => &[],
    }
}

/// The one key of a single-key map (`- batch: {...}`), the schema's polymorphism.
pub(super) fn single(node: &Node) -> Option<(&str, &Node)> {
    match entries(node) {
        [(key, value)] => Some((key, value)),
        _ => None,
    }
}

pub(super) fn int(node: Option<&Node>) -> Option<i64> {
    match node.map(|n| &n.value) {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    }
}

pub(super) fn text(node: Option<&Node>) -> Option<&str> {
    match node.map(|n| &n.value) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

impl Mapper {
    pub(super) fn refuse(&mut self, path: &str, node: &Node, message: impl Into<String>) {
        self.errors
            .push(Problem::new(path, node.line, message.into()));
    }

    pub(super) fn warn(&mut self, path: &str, node: &Node, message: impl Into<String>) {
        self.warnings
            .push(Problem::new(path, node.line, message.into()));
    }

    /// The whole file.
    pub(super) fn root(&mut self, root: &Node) -> TracingConfig {
        let mut config = TracingConfig {
            default_exporter: false,
            // The spec: an omitted propagator is a noop one.
            propagators: Some(Vec::new()),
            resource: Some(ResourceSpec::default()),
            sampler: Some(SamplerSpec::ParentBased(Box::default())),
            ..TracingConfig::default()
        };
        let mut general_count = None;
        for key in ["attribute_limits", "propagator", "resource"] {
            if root.get(key).is_some() {
                config.provider_settings.push(key.to_string());
            }
        }
        for key in ["sampler", "limits"] {
            if root
                .get("tracer_provider")
                .and_then(|tp| tp.get(key))
                .is_some()
            {
                config
                    .provider_settings
                    .push(format!("tracer_provider.{key}"));
            }
        }
        for (key, node) in entries(root) {
            match key.as_str() {
                "file_format" => {}
                "disabled" => config.enabled = !matches!(node.value, Value::Bool(true)),
                "tracer_provider" => self.tracer_provider(node, &mut config),
                "propagator" => config.propagators = Some(self.propagator(node)),
                "resource" => config.resource = Some(self.resource(node)),
                "attribute_limits" => {
                    self.refuse_value_length("attribute_limits", node);
                    general_count = int(node.get("attribute_count_limit"));
                }
                // spanplug's own metrics, as far as they can be; the rest is the app's.
                "meter_provider" => self.meter_provider(node, &mut config),
                "logger_provider" => self.warn(key, node, format!(
                    "not applied: spanplug configures traces only ({key} is for another signal)"
                )),
                "log_level" => self.warn(key, node, "not applied: spanplug logs through the application's `log` logger, whose level the application sets"),
                "instrumentation/development" | "instrumentation" => self.warn(key, node, "not applied: instrumentation is the application's; spanplug processes the spans it makes"),
                _ => self.warn(key, node, "not applied: spanplug does not know this top-level key"),
            }
        }
        if root.get("tracer_provider").is_none() {
            self.warn(
                "tracer_provider",
                root,
                "absent: tracing is off (the spec's noop tracer provider)",
            );
            config.enabled = false;
        }
        let limits = &mut config.span_limits;
        let count = general_count.and_then(|c| u32::try_from(c).ok());
        limits.attribute_count = limits.attribute_count.or(count).or(Some(DEFAULT_LIMIT));
        config
    }

    fn refuse_value_length(&mut self, path: &str, node: &Node) {
        if let Some(length) = node
            .get("attribute_value_length_limit")
            .filter(|n| !n.is_null())
        {
            self.refuse(
                &join(path, "attribute_value_length_limit"),
                length,
                "not supported: the Rust SDK spanplug builds on has no attribute value length limit (leave it null or unset)",
            );
        }
    }

    fn tracer_provider(&mut self, node: &Node, config: &mut TracingConfig) {
        let path = "tracer_provider";
        config.span_limits = SpanLimitsSpec {
            attribute_count: None,
            ..self.limits(&SpanLimitsSpec::default())
        };
        for (key, child) in entries(node) {
            let at = join(path, key);
            match key.as_str() {
                "processors" => {
                    if let Value::List(items) = &child.value {
                        for (i, item) in items.iter().enumerate() {
                            self.processor(&format!("{at}[{i}]"), item, config);
                        }
                    }
                }
                "limits" => {
                    self.refuse_value_length(&at, child);
                    let get = |k: &str| int(child.get(k)).and_then(|v| u32::try_from(v).ok());
                    config.span_limits = self.limits(&SpanLimitsSpec {
                        attribute_count: get("attribute_count_limit"),
                        event_count: get("event_count_limit"),
                        link_count: get("link_count_limit"),
                        event_attribute_count: get("event_attribute_count_limit"),
                        link_attribute_count: get("link_attribute_count_limit"),
                    });
                }
                "sampler" => config.sampler = Some(self.sampler(&at, child)),
                _ => self.refuse(&at, child, "not supported by spanplug"),
            }
        }
    }

    /// `given` with the spec's default for every count but `attribute_count` (whose
    /// default comes from `attribute_limits`).
    fn limits(&self, given: &SpanLimitsSpec) -> SpanLimitsSpec {
        let or_default = |v: Option<u32>| v.or(Some(DEFAULT_LIMIT));
        SpanLimitsSpec {
            attribute_count: given.attribute_count,
            event_count: or_default(given.event_count),
            link_count: or_default(given.link_count),
            event_attribute_count: or_default(given.event_attribute_count),
            link_attribute_count: or_default(given.link_attribute_count),
        }
    }

    fn sampler(&mut self, path: &str, node: &Node) -> SamplerSpec {
        let Some((name, body)) = single(node) else {
            return SamplerSpec::AlwaysOn;
        };
        let at = join(path, name);
        match name {
            "always_on" => SamplerSpec::AlwaysOn,
            "always_off" => SamplerSpec::AlwaysOff,
            "trace_id_ratio_based" => {
                let ratio = match body.get("ratio").map(|n| &n.value) {
                    Some(Value::Float(x)) => *x,
                    Some(Value::Int(i)) => *i as f64,
                    _ => 1.0,
                };
                SamplerSpec::TraceIdRatio(ratio)
            }
            "parent_based" => {
                let mut spec = ParentBasedSpec::default();
                let delegates = [
                    ("root", &mut spec.root),
                    ("remote_parent_sampled", &mut spec.remote_parent_sampled),
                    (
                        "remote_parent_not_sampled",
                        &mut spec.remote_parent_not_sampled,
                    ),
                    ("local_parent_sampled", &mut spec.local_parent_sampled),
                    (
                        "local_parent_not_sampled",
                        &mut spec.local_parent_not_sampled,
                    ),
                ];
                for (key, slot) in delegates {
                    if let Some(child) = body.get(key) {
                        *slot = self.sampler(&join(&at, key), child);
                    }
                }
                SamplerSpec::ParentBased(Box::new(spec))
            }
            other => {
                self.refuse(&at, body, format!(
                    "sampler `{other}` is not supported; spanplug has always_on, always_off, trace_id_ratio_based and parent_based"
                ));
                SamplerSpec::AlwaysOn
            }
        }
    }

    fn propagator(&mut self, node: &Node) -> Vec<Propagator> {
        let mut names: Vec<(String, String, &Node)> = Vec::new();
        if let Some(Value::List(items)) = node.get("composite").map(|n| &n.value) {
            for (i, item) in items.iter().enumerate() {
                if let Some((name, _)) = single(item) {
                    names.push((
                        format!("propagator.composite[{i}].{name}"),
                        name.to_string(),
                        item,
                    ));
                }
            }
        }
        if let Some(list) = node.get("composite_list") {
            for name in text(Some(list))
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                names.push(("propagator.composite_list".into(), name.to_string(), list));
            }
        }
        let mut chosen = Vec::new();
        for (path, name, at) in names {
            let propagator = match name.as_str() {
                "tracecontext" => Propagator::TraceContext,
                "baggage" => Propagator::Baggage,
                "none" => continue,
                other => {
                    self.refuse(&path, at, format!(
                        "propagator `{other}` is not available in spanplug; it has tracecontext and baggage"
                    ));
                    continue;
                }
            };
            if !chosen.contains(&propagator) {
                chosen.push(propagator);
            }
        }
        chosen
    }
}
