//! Property tests of the span-file reader, which parses what strangers send to
//! `spanplug tree`/`view` (trace-context headers: spanplug-http's tests). Bounded
//! case counts.

use proptest::prelude::*;
use spanplug_cli::spans_file::{parse_into, SpanSet};

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Span files of any shape: the reader never panics, and every record (a line
    /// starting with `{`) is either read or reported, none silently skipped.
    #[test]
    fn the_span_file_reader_accounts_for_every_record(text in "(\\{?[ -~\\n]{0,200}\\n?){0,20}") {
        let mut set = SpanSet::default();
        parse_into(&text, std::path::Path::new("fuzz.json"), &mut set);
        let records = text.lines().filter(|line| line.starts_with('{')).count();
        prop_assert!(set.spans.len() as u64 + set.problem_count >= records as u64);
    }
}
