//! `tracer_provider.processors`: `batch` and `simple` with the standard exporters,
//! and custom components. A custom processor or exporter is a spanplug plugin
//! named by its import path, `module:function` (quote it: `- "redact:redact": {...}`),
//! whose properties reach the factory structured ([`SettingTree`]) and, for the
//! top-level scalars, flat.

use spanplug_api::settings::{key_value_pairs, percent_encode};
use spanplug_api::{SettingTree, SettingValue};
use spanplug_loader::ProcessorEntry;

use crate::TracingConfig;

use super::map::{entries, int, single, text, Mapper};
use super::node::{Node, Value};
use super::schema::{join, to_json};
use super::Problem;

/// `console`: spans to standard output.
const CONSOLE_IMPORT_PATH: &str = "console_file:debug_span_processor";
/// `otlp_http`.
const OTLP_HTTP_IMPORT_PATH: &str = "otlp_http:otlp";
/// The spec's default traces endpoint.
const DEFAULT_TRACES_ENDPOINT: &str = "http://localhost:4318/v1/traces";
/// The batch processor's settings, as the otlp_http plugin names them too.
/// Why batch settings are refused for a plugin exporter.
const PLUGINS_BATCH: &str = "a spanplug plugin batches on its own; set its properties instead";
/// The `otlp_http` properties spanplug applies (the 1.0 schema's, all of them).
const OTLP_HTTP_KEYS: [&str; 7] = [
    "endpoint",
    "headers",
    "headers_list",
    "compression",
    "timeout",
    "encoding",
    "tls",
];
const BATCH_KEYS: [&str; 4] = [
    "schedule_delay",
    "export_timeout",
    "max_queue_size",
    "max_export_batch_size",
];

impl Mapper {
    pub(super) fn processor(&mut self, path: &str, node: &Node, config: &mut TracingConfig) {
        let Some((name, body)) = single(node) else {
            return;
        };
        let at = join(path, name);
        match name {
            "batch" | "simple" => {
                if let Some(entry) = self.exporting(&at, name == "batch", body) {
                    config.exporter_import_path.push(entry);
                }
            }
            custom if custom.contains(':') => {
                if let Some(entry) = self.custom(&at, custom, body) {
                    config.exporter_import_path.push(entry);
                }
            }
            other => self.refuse(&at, body, format!(
                "processor `{other}` is not known: use batch, simple, or a spanplug plugin as \"module:function\" (quoted)"
            )),
        }
    }

    /// `batch` or `simple` around its exporter.
    fn exporting(&mut self, path: &str, batch: bool, body: &Node) -> Option<ProcessorEntry> {
        let exporter = body.get("exporter")?;
        let (name, props) = single(exporter)?;
        let at = join(&join(path, "exporter"), name);
        let set: Vec<(&str, &Node)> = BATCH_KEYS
            .iter()
            .filter_map(|key| body.get(key).filter(|n| !n.is_null()).map(|n| (*key, n)))
            .collect();
        match name {
            "otlp_http" => self.otlp_http(&at, props, batch, path, &set),
            "console" => {
                self.refuse_batch(
                    path,
                    &set,
                    "the console exporter writes each span as it ends",
                );
                Some(ProcessorEntry::new(CONSOLE_IMPORT_PATH))
            }
            "otlp_grpc" => {
                self.refuse(
                    &at,
                    props,
                    "not supported: spanplug has no gRPC transport yet; use otlp_http (port 4318)",
                );
                None
            }
            "otlp_file/development" => {
                self.refuse(&at, props, "not supported: spanplug's file exporter (console_file) writes its own JSON lines, not OTLP JSON; name it as a custom exporter instead");
                None
            }
            custom if custom.contains(':') => {
                self.refuse_batch(path, &set, PLUGINS_BATCH);
                self.custom(&at, custom, props)
            }
            // The spelling the OpenTelemetry Python SDK loads too (the entry point
            // `spanplug` of its `opentelemetry_traces_exporter` group).
            "spanplug" => {
                self.refuse_batch(path, &set, PLUGINS_BATCH);
                self.spanplug_exporter(&at, props)
            }
            other => {
                self.refuse(&at, props, format!(
                    "exporter `{other}` is not known: use otlp_http, console, spanplug (with import_path), or a spanplug plugin as \"module:function\" (quoted)"
                ));
                None
            }
        }
    }

    /// `spanplug: {import_path: "module:function", ...properties}`.
    fn spanplug_exporter(&mut self, at: &str, props: &Node) -> Option<ProcessorEntry> {
        let Some(import_path) = text(props.get("import_path")) else {
            self.refuse(
                at,
                props,
                "needs `import_path: module:function`, the plugin to run",
            );
            return None;
        };
        let rest = entries(props)
            .iter()
            .filter(|(k, _)| k != "import_path")
            .cloned()
            .collect();
        let properties = Node {
            value: Value::Map(rest),
            line: props.line,
        };
        self.custom(at, import_path, &properties)
    }

    fn refuse_batch(&mut self, path: &str, set: &[(&str, &Node)], why: &str) {
        for (key, node) in set {
            self.refuse(
                &join(path, key),
                node,
                format!("not applied to this exporter: {why}"),
            );
        }
    }

    /// `otlp_http`: the otlp_http plugin with every setting given, so that no
    /// variable fills a gap (`read_env: false`).
    fn otlp_http(
        &mut self,
        path: &str,
        props: &Node,
        batch: bool,
        processor: &str,
        set: &[(&str, &Node)],
    ) -> Option<ProcessorEntry> {
        let endpoint = text(props.get("endpoint")).unwrap_or(DEFAULT_TRACES_ENDPOINT);
        let mut entry = ProcessorEntry::new(OTLP_HTTP_IMPORT_PATH)
            .with_config("read_env", "false")
            .with_config("traces_endpoint", endpoint)
            .with_config("headers", self.headers(path, props))
            .with_config(
                "compression",
                text(props.get("compression")).unwrap_or("none"),
            )
            .with_config("timeout", self.millis(path, props, "timeout", 10_000));
        let protocol = match text(props.get("encoding")) {
            Some("json") => "http/json",
            _ => "http/protobuf",
        };
        entry = entry.with_config("protocol", protocol);
        let tls = props.get("tls");
        for (file_key, setting) in [
            ("ca_file", "certificate"),
            ("cert_file", "client_certificate"),
            ("key_file", "client_key"),
        ] {
            if let Some(file) = text(tls.and_then(|t| t.get(file_key))) {
                entry = entry.with_config(setting, file);
            }
        }
        entry = self.batch_settings(entry, processor, set);
        if !batch {
            // `simple`: each span goes out as soon as it ends (from the plugin's
            // thread: spanplug never exports on the application's).
            entry = entry.with_config("max_export_batch_size", "1");
        }
        self.refuse_unknown(path, props, &OTLP_HTTP_KEYS);
        Some(entry)
    }

    /// The batch processor's settings as the otlp_http plugin's.
    fn batch_settings(
        &mut self,
        mut entry: ProcessorEntry,
        processor: &str,
        set: &[(&str, &Node)],
    ) -> ProcessorEntry {
        for (key, node) in set {
            let value = match (*key, int(Some(node))) {
                // The plugin wants a positive delay; 0 is "at once".
                ("schedule_delay", Some(0)) => "1".to_string(),
                ("export_timeout", Some(0)) => {
                    self.refuse(
                        &join(processor, key),
                        node,
                        "0 (no limit) is not supported; give milliseconds",
                    );
                    continue;
                }
                (_, Some(n)) => n.to_string(),
                (_, None) => continue,
            };
            entry = entry.with_config(*key, value);
        }
        entry
    }

    fn refuse_unknown(&mut self, path: &str, props: &Node, known: &[&str]) {
        for (key, node) in entries(props) {
            if !known.contains(&key.as_str()) {
                self.refuse(
                    &join(path, key),
                    node,
                    "not supported by spanplug's otlp_http",
                );
            }
        }
    }

    /// `headers_list`, then `headers` over it, as `name=value,...` (values encoded).
    fn headers(&mut self, path: &str, props: &Node) -> String {
        let (pairs, problem) = header_pairs(path, props);
        self.errors.extend(problem);
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn millis(&mut self, path: &str, props: &Node, key: &str, default: i64) -> String {
        match int(props.get(key)) {
            Some(0) => {
                self.refuse(
                    &join(path, key),
                    props.get(key).unwrap_or(props),
                    "0 (no limit) is not supported; give milliseconds",
                );
                default.to_string()
            }
            Some(ms) => ms.to_string(),
            None => default.to_string(),
        }
    }

    /// A spanplug plugin named `import_path`, its properties structured and flat.
    fn custom(&mut self, path: &str, import_path: &str, props: &Node) -> Option<ProcessorEntry> {
        let value = match &props.value {
            Value::Null => SettingValue::Map(Vec::new()),
            Value::Map(_) => setting(props),
            _ => {
                self.refuse(path, props, "a plugin's properties are a map");
                return None;
            }
        };
        let tree = match SettingTree::new(&value) {
            Ok(tree) => tree,
            Err(error) => {
                self.refuse(path, props, error);
                return None;
            }
        };
        let mut entry = ProcessorEntry::new(import_path).with_settings(tree);
        for (key, node) in entries(props) {
            if let Some(flat) = flat(node) {
                entry = entry.with_config(key.as_str(), flat);
            }
        }
        Some(entry)
    }
}

/// An exporter's `headers_list`, then its `headers` over it, values percent-encoded
/// (as `headers_list` has them); a malformed `headers_list` is the problem returned.
pub(super) fn header_pairs(path: &str, props: &Node) -> (Vec<(String, String)>, Option<Problem>) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut problem = None;
    if let Some(list) = props.get("headers_list") {
        let at = join(path, "headers_list");
        match key_value_pairs(&at, text(Some(list)).unwrap_or_default()) {
            Ok(found) => pairs.extend(
                found
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            ),
            Err(error) => {
                let message = error.trim_start_matches(&at).trim_start_matches(": ");
                problem = Some(Problem::new(&at, list.line, message.to_string()));
            }
        }
    }
    if let Some(Value::List(items)) = props.get("headers").map(|n| &n.value) {
        for item in items {
            let (Some(name), Some(value)) = (text(item.get("name")), text(item.get("value")))
            else {
                continue;
            };
            pairs.retain(|(k, _)| k != name);
            pairs.push((name.to_string(), percent_encode(value)));
        }
    }
    (pairs, problem)
}

/// The node as a plugin setting.
fn setting(node: &Node) -> SettingValue {
    match &node.value {
        Value::Null => SettingValue::Null,
        Value::Bool(b) => SettingValue::Bool(*b),
        Value::Int(i) => SettingValue::Int(*i),
        Value::Float(x) => SettingValue::Float(*x),
        Value::Str(s) => SettingValue::String(s.clone()),
        Value::List(items) => SettingValue::List(items.iter().map(setting).collect()),
        Value::Map(entries) => SettingValue::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), setting(v)))
                .collect(),
        ),
    }
}

/// A top-level property as flat text: scalars as written, lists and maps as
/// compact JSON (so a plugin reading only flat settings sees, and can refuse, them).
fn flat(node: &Node) -> Option<String> {
    Some(match &node.value {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Str(s) => s.clone(),
        Value::List(_) | Value::Map(_) => to_json(node).to_string(),
    })
}
