//! The host's version rule and the layout check with the older side as the interface.
//!
//! abi_stable's own `init_root_module` checks layouts with the host's view as the
//! interface, which refuses any plugin built against an older minor once a prefix type
//! or vtable grew ("too many fields"; upstream abi_stable_crates#118). Here the older
//! of the two sides (by version; same major) is the interface, so each side may lack
//! what the other's later minor appended: prefix fields read `None` and vtable methods
//! run their default body. Everything else abi_stable checks stays checked.

use std::cmp::Ordering;
use std::path::Path;

use abi_stable::abi_stability::abi_checking::check_layout_compatibility;
use abi_stable::library::LibHeader;
use abi_stable::StableAbi;
use spanplug_api::PluginModRef;

use crate::error::{LoadError, Repr};

/// A `major.minor.patch` version read as cargo does: in `0.y.z`, `y` is the major and
/// `z` the minor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ApiVersion {
    major: (u64, u64),
    minor: u64,
}

impl ApiVersion {
    /// Reads exactly `x.y.z` (ASCII digits, no sign, no suffix). A `const fn` so that
    /// the host's own version is checked when the loader is compiled ([`HOST`]).
    const fn parse(version: &str) -> Option<ApiVersion> {
        let bytes = version.as_bytes();
        let mut parts = [0u64; 3];
        let (mut part, mut digits, mut i) = (0, 0, 0);
        while i < bytes.len() {
            let byte = bytes[i];
            if byte == b'.' {
                if digits == 0 || part == 2 {
                    return None;
                }
                part += 1;
                digits = 0;
            } else if byte.is_ascii_digit() {
                let Some(shifted) = parts[part].checked_mul(10) else {
                    return None;
                };
                let Some(value) = shifted.checked_add((byte - b'0') as u64) else {
                    return None;
                };
                parts[part] = value;
                digits += 1;
            } else {
                return None;
            }
            i += 1;
        }
        if part != 2 || digits == 0 {
            return None;
        }
        let [x, y, z] = parts;
        Some(if x == 0 {
            ApiVersion {
                major: (0, y),
                minor: z,
            }
        } else {
            ApiVersion {
                major: (x, 0),
                minor: y,
            }
        })
    }

    /// How the major is written: `0.3.x`, `1.x`.
    fn major_pattern(&self) -> String {
        match self.major {
            (0, y) => format!("0.{y}.x"),
            (x, _) => format!("{x}.x"),
        }
    }

    fn major_name(&self) -> String {
        match self.major {
            (0, y) => format!("0.{y}"),
            (x, _) => x.to_string(),
        }
    }
}

/// This host's version, parsed at compile time: a `spanplug_api::API_VERSION` that is
/// not `x.y.z` fails the build here rather than a load at run time.
const HOST: ApiVersion = match ApiVersion::parse(spanplug_api::API_VERSION) {
    Some(version) => version,
    None => panic!("spanplug_api::API_VERSION is not major.minor.patch"),
};

/// One plugin's version against this host's.
pub(crate) struct VersionCheck<'p> {
    path: &'p Path,
    plugin_version: String,
    /// The plugin's minor against the host's, within the one major.
    plugin_is: Ordering,
}

impl<'p> VersionCheck<'p> {
    /// Refuses another major (or an unreadable version); otherwise says which side is
    /// older.
    pub(crate) fn new(path: &'p Path, plugin_version: &str) -> Result<Self, LoadError> {
        let refuse = |reason: String| refusal(path, plugin_version, reason);
        let host = HOST;
        let Some(plugin) = ApiVersion::parse(plugin_version) else {
            return Err(refuse("its version is not major.minor.patch".into()));
        };
        if plugin.major != host.major {
            return Err(refuse(format!(
                "another major version ({} plugins do not load into a {} host); rebuild the plugin against spanplug-api {}",
                plugin.major_pattern(),
                host.major_pattern(),
                host.major_name()
            )));
        }
        Ok(VersionCheck {
            path,
            plugin_version: plugin_version.to_string(),
            plugin_is: plugin.minor.cmp(&host.minor),
        })
    }

    /// abi_stable's layout check of the whole root module, with the older side's
    /// layout as the interface (the host's when both are of the same minor).
    pub(crate) fn check_layout(&self, header: &LibHeader) -> Result<(), LoadError> {
        let host = <PluginModRef as StableAbi>::LAYOUT;
        let Some(plugin) = header.layout() else {
            return Err(refusal(
                self.path,
                &self.plugin_version,
                "its library header carries no layout to check".into(),
            ));
        };
        let (interface, implementation) = match self.plugin_is {
            Ordering::Less => (plugin, host),
            Ordering::Equal | Ordering::Greater => (host, plugin),
        };
        check_layout_compatibility(interface, implementation).map_err(|errors| {
            log::debug!("ABI layout report for {}:\n{errors}", self.path.display());
            LoadError::from(Repr::IncompatibleLayout {
                path: self.path.to_path_buf(),
                host_version: spanplug_api::API_VERSION.to_string(),
                plugin_version: self.plugin_version.clone(),
                summary: crate::layout_report::summarize(&errors),
            })
        })
    }

    /// Refuses a plugin whose root module requires a newer host than this one.
    pub(crate) fn check_required_host(&self, required: &str) -> Result<(), LoadError> {
        let refuse = |reason: String| Err(refusal(self.path, &self.plugin_version, reason));
        match ApiVersion::parse(required) {
            Some(needed) if needed <= HOST => Ok(()),
            Some(_) => refuse(format!(
                "it requires a host of spanplug-api {required} or newer; upgrade the host"
            )),
            None => refuse(format!(
                "the host version it requires ({required:?}) is not major.minor.patch; rebuild the plugin with a valid `requires_host`"
            )),
        }
    }
}

fn refusal(path: &Path, plugin_version: &str, reason: String) -> LoadError {
    LoadError::from(Repr::IncompatibleVersion {
        path: path.to_path_buf(),
        host_version: spanplug_api::API_VERSION.to_string(),
        plugin_version: plugin_version.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_as_cargo_reads_them() {
        let v = ApiVersion::parse("0.3.2").unwrap();
        assert_eq!((v.major, v.minor), ((0, 3), 2));
        assert_eq!(v.major_pattern(), "0.3.x");
        let v = ApiVersion::parse("1.4.0").unwrap();
        assert_eq!((v.major, v.minor), ((1, 0), 4));
        assert!(ApiVersion::parse("0.3").is_none());
        for bad in [
            "",
            "0.3.",
            ".3.0",
            "0.3.0.1",
            "0.3.0-rc1",
            "+0.3.0",
            "0..3",
            "0.3.99999999999999999999",
        ] {
            assert!(ApiVersion::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(Some(HOST), ApiVersion::parse(spanplug_api::API_VERSION));
        assert!(ApiVersion::parse("0.3.1").unwrap() > ApiVersion::parse("0.3.0").unwrap());
    }

    #[test]
    fn a_plugin_requiring_a_newer_minor_is_refused_by_name() {
        let check = VersionCheck::new(Path::new("p.so"), spanplug_api::API_VERSION).unwrap();
        assert!(check.check_required_host(spanplug_api::API_VERSION).is_ok());
        let error = check
            .check_required_host("0.3.999")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("requires a host of spanplug-api 0.3.999"),
            "{error}"
        );
        let error = check.check_required_host("0.3").unwrap_err().to_string();
        assert!(
            error.contains(r#"requires ("0.3") is not major.minor.patch"#),
            "{error}"
        );
    }
}
