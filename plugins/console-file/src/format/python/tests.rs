use super::*;

#[test]
fn floats_match_python_repr() {
    let cases = [
        (0.25, "0.25"),
        (1.0, "1.0"),
        (0.5, "0.5"),
        (-0.0, "-0.0"),
        (1e16, "1e+16"),
        (1.5e-7, "1.5e-07"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (123456789.125, "123456789.125"),
        (1e15, "1000000000000000.0"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Infinity"),
    ];
    for (value, expected) in cases {
        assert_eq!(python_float_repr(value), expected, "{value}");
    }
}

#[test]
fn the_word_at_a_time_check_agrees_with_the_byte_table() {
    let mut samples: Vec<Vec<u8>> = (0u8..=255)
        .map(|b| vec![b'a', b'b', b, b'c', b'd', b'e', b'f', b'g', b'h'])
        .collect();
    samples.extend((0u8..=255).map(|b| vec![b; 8]));
    samples.push(b"plain ascii text, longer than eight bytes".to_vec());
    for sample in samples {
        let exact = sample.iter().all(|&b| PLAIN[usize::from(b)]);
        assert_eq!(is_plain(&sample), exact, "{sample:?}");
    }
}

#[test]
fn integers_match_rusts_own_formatting() {
    for i in [0, 7, -7, 10, 200, i64::MAX, i64::MIN, -1_000_000_007] {
        let mut out = String::new();
        write_integer(&mut out, i);
        assert_eq!(out, i.to_string());
    }
}

#[test]
fn timestamps_match_python_datetime() {
    let mut out = String::new();
    write_iso_timestamp(&mut out, 1_795_446_583_593_615_123);
    assert_eq!(out, "2026-11-23T15:09:43.593615Z");
    out.clear();
    write_iso_timestamp(&mut out, 951_782_400_000_000_000);
    assert_eq!(out, "2000-02-29T00:00:00.000000Z");
}

#[test]
fn non_ascii_is_escaped_like_ensure_ascii() {
    let mut out = String::new();
    write_escaped(&mut out, "é\u{1F600}\u{1}\"");
    assert_eq!(out, r#""\u00e9\ud83d\ude00\u0001\"""#);
}
