//! The root sampling settings: `sampling_ratio` and `OTEL_TRACES_SAMPLER`/`_ARG`.

use crate::env::{SAMPLER_ARG_VAR, SAMPLER_VAR};
use crate::{ConfigError, TracingConfig};

/// Ratios below this make a smoke test look broken; `spanplug check` warns about them.
pub const LOW_SAMPLING_RATIO: f64 = 0.1;

/// A sampler `OTEL_TRACES_SAMPLER` can name, with its validated argument. Exhaustive,
/// so that `spanplug-sdk` cannot miss one: a new sampler is a new minor version.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OtelSampler {
    /// `always_on`: every span.
    AlwaysOn,
    /// `always_off`: no span.
    AlwaysOff,
    /// `traceidratio`: roots and children alike by trace id, at this ratio.
    TraceIdRatio(f64),
    /// `parentbased_always_on`: the parent's decision; roots always.
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`: the parent's decision; roots never.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`: the parent's decision; roots by trace id at this ratio.
    ParentBasedTraceIdRatio(f64),
}

impl OtelSampler {
    const VALID: &'static str = "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio";

    /// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (a ratio in 0..=1, default 1).
    pub(crate) fn from_env(name: &str, arg: Option<&str>) -> Result<Self, ConfigError> {
        let ratio = match arg {
            None => 1.0,
            Some(text) => parse_ratio(SAMPLER_ARG_VAR, text)?,
        };
        Ok(match name.trim() {
            "always_on" => OtelSampler::AlwaysOn,
            "always_off" => OtelSampler::AlwaysOff,
            "traceidratio" => OtelSampler::TraceIdRatio(ratio),
            "parentbased_always_on" => OtelSampler::ParentBasedAlwaysOn,
            "parentbased_always_off" => OtelSampler::ParentBasedAlwaysOff,
            "parentbased_traceidratio" => OtelSampler::ParentBasedTraceIdRatio(ratio),
            other => {
                return Err(ConfigError::invalid_value(
                    SAMPLER_VAR.into(),
                    format!("{other:?} is not supported; valid: {}", Self::VALID),
                ))
            }
        })
    }
}

impl TracingConfig {
    /// Human-readable description of the sampler, for `spanplug check`.
    pub fn describe_sampler(&self) -> String {
        if let Some(spec) = &self.sampler {
            return format!("{spec:?} (configuration file)");
        }
        match (self.sampling_ratio, self.otel_sampler) {
            (Some(ratio), _) => format!("parent-based, root ratio {ratio}"),
            (None, Some(otel)) => format!("{SAMPLER_VAR}: {otel:?}"),
            (None, None) => "parent-based, root ratio 1.0 (default)".into(),
        }
    }
}

/// A ratio in `0..=1` from the text of the variable `key`.
pub(crate) fn parse_ratio(key: &str, text: &str) -> Result<f64, ConfigError> {
    let ratio = text.trim().parse::<f64>().map_err(|_| {
        ConfigError::invalid_value(
            key.into(),
            format!("expected a number between 0 and 1, got {text:?}"),
        )
    })?;
    check_ratio(key, ratio)?;
    Ok(ratio)
}

pub(crate) fn check_ratio(key: &str, ratio: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&ratio) {
        Ok(())
    } else {
        Err(ConfigError::invalid_value(
            key.into(),
            format!("must be a number between 0 and 1, got {ratio}"),
        ))
    }
}
