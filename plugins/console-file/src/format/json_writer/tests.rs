use super::*;
use crate::format::Layout;

#[test]
fn indentation_past_the_prepared_depth_is_still_four_spaces_a_level() {
    let mut out = String::new();
    let mut json = JsonWriter::new(&mut out, Layout::Pretty);
    for depth in [0, 3, 16, 17, 40] {
        json.newline(depth);
    }
    let expected: String = [0, 3, 16, 17, 40]
        .iter()
        .map(|d| format!("\n{}", " ".repeat(4 * d)))
        .collect();
    assert_eq!(out, expected);
}
