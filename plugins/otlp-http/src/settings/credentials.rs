//! Where credentials from the environment may go. A platform that injects
//! `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_EXPORTER_OTLP_HEADERS` means the headers
//! for its own collector: an entry that names another endpoint must not carry them
//! there, as a client never carries credentials along a redirect to another origin.
//!
//! The environment's headers (`OTEL_EXPORTER_OTLP_(TRACES_)HEADERS` and the preset's
//! vendor variables) go to the origin of the endpoint the environment names (the
//! first set of the preset's vendor variable, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! and `OTEL_EXPORTER_OTLP_ENDPOINT`) or, when it names none, of the preset's
//! default endpoint. An endpoint from the entry's `config` or from `exporter_config`
//! with another origin does not get them; a vendor's own key (`HONEYCOMB_WRITE_KEY`)
//! also goes to the vendor's default endpoint. An endpoint's user info is a
//! credential of that URL only, so it never reaches another endpoint.

use super::sources::{from_config, Lookup};
use super::{endpoint, endpoint_vars, Preset};

/// Which of the environment's headers the resolved endpoint may receive, and the
/// variables it may not.
pub struct EnvCredentials {
    /// `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS` may be sent.
    spec: bool,
    /// The preset's vendor header variables may be sent.
    vendor: bool,
    /// The endpoint the environment's credentials are meant for, for the log line.
    meant_for: String,
    /// Each variable withheld, and how an entry's `headers` would send it.
    withheld: Vec<(String, String)>,
}

impl EnvCredentials {
    /// Decides for `url`, the endpoint resolved from `source` (a setting's or a
    /// variable's name). Only an endpoint from the configuration is checked: one from
    /// the environment, or the default, is where the environment's credentials go.
    pub fn decide(preset: &Preset, lookup: &Lookup<'_, '_>, source: &str, url: &str) -> Self {
        let mut decided = EnvCredentials {
            spec: true,
            vendor: true,
            meant_for: String::new(),
            withheld: Vec::new(),
        };
        if from_config(source) {
            let (meant_for, target) = env_target(preset, lookup);
            decided.spec = target.is_some_and(|target| endpoint::same_origin(url, &target));
            decided.vendor = decided.spec || endpoint::same_origin(url, preset.default_endpoint);
            decided.meant_for = meant_for;
        }
        decided
    }

    /// Whether headers from `source` may be sent; `vendor_header` is the header a
    /// vendor variable sets. A variable that may not is kept for [`Self::notice`].
    pub fn admit(&mut self, source: &str, vendor_header: Option<&str>) -> bool {
        if from_config(source) {
            return true;
        }
        let (allowed, example) = match vendor_header {
            Some(name) => (self.vendor, format!("{name}=${{env:{source}}}")),
            None => (self.spec, format!("${{env:{source}}}")),
        };
        if !allowed {
            self.withheld.push((source.to_string(), example));
        }
        allowed
    }

    /// The info line for the variables withheld from `endpoint` (its log form, from
    /// `source`): their names, never their values, and how to send them anyway.
    pub fn notice(&self, endpoint: &str, source: &str) -> Option<String> {
        if self.withheld.is_empty() {
            return None;
        }
        let names: Vec<&str> = self.withheld.iter().map(|(name, _)| &**name).collect();
        let examples: Vec<&str> = self.withheld.iter().map(|(_, ex)| &**ex).collect();
        Some(format!(
            "{} not sent to {endpoint} ({source}): its origin is not that of {}, where credentials from the environment go; to send them here, set this entry's own headers, e.g. headers: \"{}\"",
            names.join(", "),
            self.meant_for,
            examples.join(",")
        ))
    }
}

/// The endpoint the environment names, for the log line, and its URL: the first
/// endpoint variable set, else the preset's default. A variable that cannot be read
/// or parsed has no URL, so no endpoint shares its origin.
fn env_target(preset: &Preset, lookup: &Lookup<'_, '_>) -> (String, Option<String>) {
    for var in endpoint_vars(preset) {
        let value = (lookup.env)(var);
        if !matches!(value, Ok(None)) {
            let url = value.ok().flatten().and_then(|text| {
                let parsed = endpoint::parse(var, &text, true).ok();
                parsed.map(|endpoint| endpoint.url)
            });
            return (format!("the endpoint {var} names"), url);
        }
    }
    let default = preset.default_endpoint;
    let meant_for = format!("the default endpoint ({default}; no variable names one)");
    (meant_for, Some(default.to_string()))
}
