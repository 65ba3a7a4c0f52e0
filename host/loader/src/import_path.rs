//! `exporter_import_path` entries: `module:function`, or `/path/to/libfoo.so:function`.

use std::fmt;
use std::path::PathBuf;

use crate::error::{LoadError, Repr};

/// Where the plugin library comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleRef {
    /// Resolved to `lib<name>.so` or `<name>.so` on the plugin search path.
    Name(String),
    /// A file named explicitly in the config.
    File(PathBuf),
}

/// A parsed `exporter_import_path` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportPath {
    /// Where the library comes from.
    pub module: ModuleRef,
    /// The factory to call.
    pub function: String,
}

const EXPECTED_FORM: &str = "expected \"module:function\" (e.g. \"console_file:default_tracing_exporter\") or \"/path/to/libplugin.so:function\"";

/// Letters, digits and `_`, not starting with a digit: module and function names.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl ImportPath {
    /// Parses `module:function` or `/abs/path/lib.so:function`; the error shows the
    /// expected form.
    pub fn parse(text: &str) -> Result<Self, LoadError> {
        let invalid = |reason: &str| {
            LoadError::from(Repr::BadImportPath {
                import_path: text.to_string(),
                reason: format!("{reason}; {EXPECTED_FORM}"),
            })
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        let Some((module, function)) = trimmed.rsplit_once(':') else {
            return Err(invalid("there is no ':' between module and function"));
        };
        if !is_identifier(function) {
            return Err(invalid(&format!(
                "function {function:?} is not an identifier (letters, digits, '_')"
            )));
        }
        let module = if module.contains('/') {
            let path = PathBuf::from(module);
            if !path.is_absolute() {
                return Err(invalid(&format!(
                    "plugin file {module:?} is relative; explicit plugin files must be absolute paths"
                )));
            }
            ModuleRef::File(path)
        } else if is_identifier(module) {
            ModuleRef::Name(module.to_string())
        } else {
            return Err(invalid(&format!(
                "module {module:?} is neither a name (letters, digits, '_') nor a path to a file"
            )));
        };
        Ok(ImportPath {
            module,
            function: function.to_string(),
        })
    }
}

impl fmt::Display for ImportPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.module {
            ModuleRef::Name(name) => write!(f, "{name}:{}", self.function),
            ModuleRef::File(path) => write!(f, "{}:{}", path.display(), self.function),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_files() {
        let p = ImportPath::parse("otlp_http:honeycomb").unwrap();
        assert_eq!(p.module, ModuleRef::Name("otlp_http".into()));
        assert_eq!(p.function, "honeycomb");
        let p = ImportPath::parse("/opt/x/libfoo.so:make").unwrap();
        assert_eq!(p.module, ModuleRef::File("/opt/x/libfoo.so".into()));
        assert_eq!(p.function, "make");
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "",
            "console_file",
            "console_file:",
            ":f",
            "a.b:f",
            "../x:f",
            "m:f-g",
        ] {
            let error = ImportPath::parse(bad).unwrap_err().to_string();
            assert!(
                error.contains("expected \"module:function\""),
                "{bad}: {error}"
            );
        }
    }
}
