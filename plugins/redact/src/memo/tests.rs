use super::CleanValues;

#[test]
fn a_remembered_address_with_new_text_is_scanned_again() {
    let mut clean = CleanValues::default();
    let mut buffer = String::from("user bob here");
    clean.remember(&buffer);
    assert!(clean.is_clean(&buffer));
    // Same address and length, other text: not a hit.
    buffer.replace_range(.., "bob@x.io here");
    assert!(!clean.is_clean(&buffer));
    // Too long to remember: never a hit.
    let long = "x".repeat(100);
    clean.remember(&long);
    assert!(!clean.is_clean(&long));
}
