//! Where credentials from the environment may go. A platform that injects
//! `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_EXPORTER_OTLP_HEADERS` means the headers
//! for its own collector: an entry that names another endpoint must not carry them
//! there, as a client never carries credentials along a redirect to another origin.
//!
//! So the environment's headers (`OTEL_EXPORTER_OTLP_(TRACES_)HEADERS` and the
//! preset's vendor variables) are withheld from an endpoint of the entry's `config`
//! or of `exporter_config` only when the environment itself names an endpoint (the
//! first set of the preset's vendor variable, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! and `OTEL_EXPORTER_OTLP_ENDPOINT`) with another origin. When it names none, the
//! headers a user put in the environment (a Kubernetes secret, say) go wherever the
//! configuration sends spans. A vendor's own key (`HONEYCOMB_WRITE_KEY`) also goes
//! to the vendor's default endpoint. An endpoint's user info is a credential of that
//! URL only, so it never reaches another endpoint.

use super::sources::{from_config, Lookup};
use super::{endpoint, endpoint_vars, Preset};

/// Which of the environment's headers the resolved endpoint may receive, and the
/// variables it may not.
pub(super) struct EnvCredentials {
    /// `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS` may be sent.
    spec: bool,
    /// The preset's vendor header variables may be sent.
    vendor: bool,
    /// The endpoint the environment names, which its credentials are meant for.
    meant_for: String,
    /// Each variable withheld, and how an entry's `headers` would send it.
    withheld: Vec<(String, String)>,
}

impl EnvCredentials {
    /// Decides for `url`, the endpoint resolved from `source` (a setting's or a
    /// variable's name). Only an endpoint from the configuration is checked, and only
    /// against an endpoint the environment names: one from the environment, or the
    /// default, is where the environment's credentials go.
    pub(super) fn decide(
        preset: &Preset,
        lookup: &Lookup<'_, '_>,
        source: &str,
        url: &str,
    ) -> Self {
        let mut decided = EnvCredentials {
            spec: true,
            vendor: true,
            meant_for: String::new(),
            withheld: Vec::new(),
        };
        if let Some((var, target)) = from_config(source)
            .then(|| env_target(preset, lookup))
            .flatten()
        {
            decided.spec = target.is_some_and(|target| endpoint::same_origin(url, &target));
            decided.vendor = decided.spec || endpoint::same_origin(url, preset.default_endpoint);
            decided.meant_for = var.to_string();
        }
        decided
    }

    /// Whether headers from `source` may be sent; `vendor_header` is the header a
    /// vendor variable sets. A variable that may not is kept for [`Self::notice`].
    pub(super) fn admit(&mut self, source: &str, vendor_header: Option<&str>) -> bool {
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

    /// The warning for the variables withheld from `endpoint` (its log form, from
    /// `source`): their names, never their values, why, and how to send them anyway.
    pub(super) fn notice(&self, endpoint: &str, source: &str) -> Option<String> {
        if self.withheld.is_empty() {
            return None;
        }
        let names: Vec<&str> = self.withheld.iter().map(|(name, _)| &**name).collect();
        let examples: Vec<&str> = self.withheld.iter().map(|(_, ex)| &**ex).collect();
        Some(format!(
            "{} not sent to {endpoint} ({source}): the environment names another endpoint ({}), and credentials from the environment go only to its origin; to send them here, set this entry's own headers, e.g. headers: \"{}\"",
            names.join(", "),
            self.meant_for,
            examples.join(",")
        ))
    }
}

/// The variable naming an endpoint in the environment, if one does, and that
/// endpoint's URL: the first endpoint variable set. A variable that cannot be read
/// or parsed has no URL, so no endpoint shares its origin.
fn env_target(preset: &Preset, lookup: &Lookup<'_, '_>) -> Option<(&'static str, Option<String>)> {
    endpoint_vars(preset).into_iter().find_map(|var| {
        let value = (lookup.env)(var);
        if matches!(value, Ok(None)) {
            return None;
        }
        let url = value.ok().flatten().and_then(|text| {
            let parsed = endpoint::parse(var, &text, true).ok();
            parsed.map(|endpoint| endpoint.url)
        });
        Some((var, url))
    })
}
