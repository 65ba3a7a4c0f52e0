//! Finders for sensitive text inside values. Each returns byte ranges; none allocates
//! unless it finds something, and each is linear in the text.

use std::ops::Range;

/// A built-in detector, as `values` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detector {
    Email,
    Card,
    Bearer,
    Ipv4,
}

impl Detector {
    pub(crate) const NAMES: &'static str = "email, card, bearer, ipv4";

    pub(crate) fn parse(name: &str) -> Option<Detector> {
        Some(match name.to_ascii_lowercase().as_str() {
            "email" => Detector::Email,
            "card" => Detector::Card,
            "bearer" => Detector::Bearer,
            "ipv4" => Detector::Ipv4,
            _ => return None,
        })
    }

    /// Appends the ranges of `text` this detector flags.
    pub(crate) fn find(self, text: &str, found: &mut Vec<Range<usize>>) {
        match self {
            Detector::Email => emails(text, found),
            Detector::Card => cards(text, found),
            Detector::Bearer => bearer_tokens(text, found),
            Detector::Ipv4 => ipv4s(text, found),
        }
    }

    /// A cheap necessary condition for a match: scans the compiler turns into vector
    /// code (`contains` on bytes is `memchr`), so clean values cost a few instructions
    /// per 16 bytes.
    #[inline]
    pub(crate) fn may_match(self, text: &str) -> bool {
        let bytes = text.as_bytes();
        match self {
            Detector::Email => bytes.len() >= 6 && bytes.contains(&b'@'),
            Detector::Card => bytes.len() >= 13 && longest_digit_run(bytes) >= 13,
            Detector::Bearer => bytes.len() >= 8 && bytes.contains(&b' '),
            Detector::Ipv4 => {
                bytes.len() >= 7 && bytes.iter().fold(0u32, |n, b| n + u32::from(*b == b'.')) >= 3
            }
        }
    }
}

/// Digits in the longest run of digits, spaces and dashes (branch-free).
fn longest_digit_run(bytes: &[u8]) -> u32 {
    let (mut run, mut longest) = (0u32, 0u32);
    for byte in bytes {
        let digit = u32::from(byte.wrapping_sub(b'0') < 10);
        let keep = 0u32.wrapping_sub(digit | u32::from(*byte == b' ' || *byte == b'-'));
        run = (run + digit) & keep;
        longest = longest.max(run);
    }
    longest
}

fn is_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

fn emails(text: &str, found: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|b| *b == b'@') {
        let at = from + offset;
        from = at + 1;
        let start = bytes[..at]
            .iter()
            .rposition(|b| !is_local(*b))
            .map_or(0, |p| p + 1);
        let mut end = at
            + 1
            + bytes[at + 1..]
                .iter()
                .take_while(|b| is_domain(**b))
                .count();
        while end > at + 1 && bytes[end - 1] == b'.' {
            end -= 1;
        }
        let domain = &text[at + 1..end];
        let tld_ok = domain.rsplit_once('.').is_some_and(|(name, tld)| {
            !name.is_empty() && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
        });
        if start < at && tld_ok {
            found.push(start..end);
            from = end;
        }
    }
}

/// The most digits of one run looked at together; longer runs are taken in parts.
const MAX_RUN_DIGITS: usize = 64;

/// 13 to 19 digits, optionally grouped by single spaces or dashes, starting with an
/// issuer digit (2 to 6) and passing Luhn. In a run of groups, every stretch of whole
/// groups is tried, so a card next to other numbers (`4111... 12/27`, a CVV) is still
/// found, while a long unbroken number is judged whole.
fn cards(text: &str, found: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // One run: digits, and single separators between digits.
        let mut digits = [0u8; MAX_RUN_DIGITS];
        let mut at = [0usize; MAX_RUN_DIGITS];
        // Whether digit k starts, or ends, a group of digits.
        let mut starts = [false; MAX_RUN_DIGITS];
        let mut ends = [false; MAX_RUN_DIGITS];
        let mut count = 0;
        let mut j = i;
        while j < bytes.len() && count < MAX_RUN_DIGITS {
            if bytes[j].is_ascii_digit() {
                digits[count] = bytes[j] - b'0';
                at[count] = j;
                starts[count] = count == 0 || !bytes[j - 1].is_ascii_digit();
                ends[count] = !bytes.get(j + 1).is_some_and(u8::is_ascii_digit);
                count += 1;
                j += 1;
            } else if matches!(bytes[j], b' ' | b'-')
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            } else {
                break;
            }
        }
        let mut first = 0;
        while first + 13 <= count {
            let window = (13..=19)
                .rev()
                .filter(|len| first + len <= count && starts[first] && ends[first + len - 1])
                .find(|len| (2..=6).contains(&digits[first]) && luhn(&digits[first..first + len]));
            match window {
                Some(len) => {
                    found.push(at[first]..at[first + len - 1] + 1);
                    first += len;
                }
                None => first += 1,
            }
        }
        i = j.max(i + 1);
    }
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// The token after `Bearer ` (any case); the word itself is kept. Walks the spaces
/// (`memchr`) and looks back for the word, rather than comparing at every byte.
fn bearer_tokens(text: &str, found: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|b| *b == b' ') {
        let space = from + offset;
        from = space + 1;
        let Some(word) = space.checked_sub(6) else {
            continue;
        };
        if !bytes[word..space].eq_ignore_ascii_case(b"bearer")
            || (word > 0 && bytes[word - 1].is_ascii_alphanumeric())
        {
            continue;
        }
        let start = from + bytes[from..].iter().take_while(|b| **b == b' ').count();
        let len = bytes[start..].iter().take_while(|b| is_token(**b)).count();
        if len > 0 {
            found.push(start..start + len);
            from = start + len;
        }
    }
}

fn ipv4s(text: &str, found: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b'.');
        if !boundary || !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut octets = 0;
        let mut ok = true;
        while octets < 4 {
            let digits = bytes[j..]
                .iter()
                .take(4)
                .take_while(|b| b.is_ascii_digit())
                .count();
            let value: u32 = text[j..j + digits].parse().unwrap_or(256);
            if digits == 0 || digits > 3 || value > 255 {
                ok = false;
                break;
            }
            j += digits;
            octets += 1;
            if octets < 4 {
                if bytes.get(j) != Some(&b'.') {
                    ok = false;
                    break;
                }
                j += 1;
            }
        }
        let bounded = !bytes.get(j).is_some_and(|b| {
            b.is_ascii_digit() || (*b == b'.' && bytes.get(j + 1).is_some_and(u8::is_ascii_digit))
        });
        if ok && bounded {
            found.push(i..j);
            i = j;
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(detector: Detector, text: &str) -> Vec<&str> {
        let mut found = Vec::new();
        detector.find(text, &mut found);
        found.into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn finds_emails_in_paths_and_prose() {
        assert_eq!(
            find(Detector::Email, "/users/bob.smith+x@example.co.uk/profile"),
            ["bob.smith+x@example.co.uk"]
        );
        assert_eq!(
            find(Detector::Email, "mail a@b.io, c@d.org."),
            ["a@b.io", "c@d.org"]
        );
        assert!(find(Detector::Email, "user@localhost and @handle and x@y.1").is_empty());
    }

    #[test]
    fn finds_card_numbers_that_pass_luhn() {
        assert_eq!(
            find(Detector::Card, "card 4111 1111 1111 1111 ok"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            find(Detector::Card, "5500-0000-0000-0004"),
            ["5500-0000-0000-0004"]
        );
        assert!(find(Detector::Card, "4111111111111112").is_empty());
        assert_eq!(
            find(Detector::Card, "4111111111111111 12/27"),
            ["4111111111111111"]
        );
        assert_eq!(
            find(Detector::Card, "4111 1111 1111 1111 123"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            find(Detector::Card, "qty 12 4111111111111111"),
            ["4111111111111111"]
        );
        // Luhn-valid but no issuer digit: a timestamp, not a card.
        assert!(find(Detector::Card, "1700000000000007").is_empty());
        assert!(find(Detector::Card, "id 12345678901234567890123").is_empty());
    }

    #[test]
    fn finds_bearer_tokens_and_ipv4() {
        assert_eq!(
            find(Detector::Bearer, "Authorization: Bearer abc.DEF-123"),
            ["abc.DEF-123"]
        );
        assert_eq!(find(Detector::Bearer, "bearer  x/y="), ["x/y="]);
        assert_eq!(
            find(
                Detector::Ipv4,
                "from 10.0.0.12:80 via 256.1.1.1 and 1.2.3.4.5"
            ),
            ["10.0.0.12"]
        );
    }
}
