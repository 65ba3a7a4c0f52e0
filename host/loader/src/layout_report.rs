//! A short, actionable summary of abi_stable's layout errors.
//!
//! abi_stable's report runs to tens of kilobytes of type dumps. A user needs, for each
//! error, where it is (the path of fields from the root module to the type that
//! differs) and what differs (abi_stable's `Error:` line with its expected and found
//! values). The full report goes to the debug log.

use std::collections::BTreeSet;

use abi_stable::abi_stability::abi_checking::{AbiInstabilityError, AbiInstabilityErrors};
use abi_stable::type_layout::{TLFieldOrFunction, TypeLayout};

/// At most this many places are summarised; the debug log has the rest.
const MAX_PLACES: usize = 3;
/// Expected and found values are cut to this many characters.
const MAX_VALUE_CHARS: usize = 80;

/// `at <Type>.<field> › <Type>: <error> (expected <x>, found <y>), ...` for the
/// first few places, deepest first (a grown inner type also changes the size of every
/// type holding it: the innermost is the cause), joined by `; `.
pub(crate) fn summarize(errors: &AbiInstabilityErrors) -> String {
    let root = errors.interface;
    let mut places: Vec<(usize, String, Vec<String>)> = errors
        .errors
        .iter()
        .map(|error| {
            let whats = error_lines(&error.to_string());
            (error.stack_trace.len(), type_path(root, error), whats)
        })
        .filter(|(_, _, whats)| !whats.is_empty())
        .collect();
    places.sort_by_key(|place| std::cmp::Reverse(place.0));
    let mut seen = BTreeSet::new();
    let lines: Vec<String> = places
        .into_iter()
        .map(|(_, path, whats)| format!("at {path}: {}", whats.join(", ")))
        .filter(|line| seen.insert(line.clone()))
        .take(MAX_PLACES)
        .collect();
    if lines.is_empty() {
        // Never expected: abi_stable returned errors without an `Error:` line.
        format!("at {}: incompatible layout", root.name())
    } else {
        lines.join("; ")
    }
}

/// Where the error is, through the interface's own types: the fields and methods
/// followed from the root module down to the type that differs, e.g.
/// `PluginMod.factories › Factory.create() › Processor › ProcessorAbi vtable.on_start()
/// › StartingSpan.sink › AttributeSink vtable`. Steps through abi_stable's and std's
/// types (slices, pointers, trait-object plumbing) are left out.
fn type_path(root: &'static TypeLayout, error: &AbiInstabilityError) -> String {
    let mut path = String::new();
    let mut parent_is_ours = is_ours(root);
    if parent_is_ours {
        path.push_str(root.name());
    }
    for step in error.stack_trace.iter() {
        match &step.found {
            TLFieldOrFunction::Field(field) => {
                let name = field.name();
                // Tuple fields (`0`, `field_0`) add nothing a reader can use.
                let positional = name.starts_with(|c: char| c.is_ascii_digit())
                    || name
                        .strip_prefix("field_")
                        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
                let named = !name.is_empty() && !positional;
                if parent_is_ours && named {
                    path.push('.');
                    path.push_str(name);
                }
                let layout = field.layout();
                parent_is_ours = is_ours(layout);
                if parent_is_ours && !path.ends_with(layout.name()) {
                    if !path.is_empty() {
                        path.push_str(" › ");
                    }
                    path.push_str(layout.name());
                }
            }
            TLFieldOrFunction::Function(function) => {
                if !path.ends_with(function.name.as_str()) {
                    path.push('.');
                    path.push_str(function.name.as_str());
                }
                path.push_str("()");
            }
        }
    }
    // A `#[sabi_trait]` object's vtable: `Trait_TO.obj › VTable` reads `Trait vtable`.
    path.replace("_TO.obj › VTable", " vtable")
}

/// Whether a type is the interface's own rather than abi_stable's or the standard
/// library's.
fn is_ours(layout: &TypeLayout) -> bool {
    !matches!(
        layout.item_info().package(),
        "abi_stable" | "std" | "core" | "alloc"
    )
}

/// abi_stable's `Error:<what>` lines of one error, each with its `Expected:` and
/// `Found:` values on one line.
fn error_lines(report: &str) -> Vec<String> {
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(what) = line.strip_prefix("Error:") else {
            continue;
        };
        let value_after = |label: &str| {
            lines[i + 1..]
                .iter()
                .take(8)
                .position(|l| *l == label)
                .and_then(|at| lines.get(i + 2 + at))
                .map(|v| v.chars().take(MAX_VALUE_CHARS).collect::<String>())
        };
        match (value_after("Expected:"), value_after("Found:")) {
            (Some(expected), Some(found)) => {
                out.push(format!("{what} (expected {expected}, found {found})"))
            }
            _ => out.push(what.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use abi_stable::abi_stability::abi_checking::check_layout_compatibility;
    use abi_stable::StableAbi;

    /// Two versions of a small interface whose plain struct `View` grew.
    mod v1 {
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        pub(super) struct View {
            pub a: u32,
        }
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        pub(super) struct Root {
            pub name: u8,
            pub view: View,
        }
    }
    mod v2 {
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        pub(super) struct View {
            pub a: u32,
            pub b: u64,
        }
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        pub(super) struct Root {
            pub name: u8,
            pub view: View,
        }
    }

    #[test]
    fn a_grown_plain_struct_is_named_by_its_path_with_both_sizes() {
        let errors = check_layout_compatibility(
            <v1::Root as StableAbi>::LAYOUT,
            <v2::Root as StableAbi>::LAYOUT,
        )
        .unwrap_err();
        let summary = super::summarize(&errors);
        assert!(
            summary.starts_with(
                "at Root.view › View: incompatible type size (expected 4, found 16), \
                 incompatible type alignment (expected 4, found 8), \
                 too many fields (expected 1, found 2); at Root: "
            ),
            "{summary}"
        );
        assert!(
            summary.len() < 600,
            "{} characters: {summary}",
            summary.len()
        );
    }

    #[test]
    fn values_are_read_from_the_lines_after_the_error() {
        let report = "x\nError:too many fields\nExpected:\n    2\nFound:\n    3\n\nError:other\n";
        assert_eq!(
            super::error_lines(report),
            ["too many fields (expected 2, found 3)", "other"]
        );
    }
}
