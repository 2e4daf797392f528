//! Checks that confirm a regex candidate before it is redacted: checksums (Luhn, IBAN
//! mod 97), number ranges (SSN) and context (IPv4 next to more dotted numbers, a
//! `Basic` credential that is not base64). Each takes the whole string and the
//! candidate's byte range, and returns the end of the confirmed finding (`None`: not
//! a finding); only [`iban`] ever shortens a candidate.

/// Payment card: 13-19 digits passing the Luhn check.
pub fn card(text: &str, start: usize, end: usize) -> Option<usize> {
    let mut count = 0;
    let mut sum = 0;
    // Luhn from the right: double every second digit.
    for b in text.as_bytes()[start..end].iter().rev() {
        if !b.is_ascii_digit() {
            continue;
        }
        let d = u32::from(b - b'0');
        sum += if count % 2 == 1 {
            if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
        } else {
            d
        };
        count += 1;
    }
    ((13..=19).contains(&count) && sum % 10 == 0).then_some(end)
}

/// US SSN `AAA-GG-SSSS`: area not 000, 666 or 900-999; group not 00; serial not 0000.
pub fn ssn(text: &str, start: usize, end: usize) -> Option<usize> {
    let s = &text.as_bytes()[start..end];
    let area = &s[0..3];
    let group = &s[4..6];
    let serial = &s[7..11];
    let valid =
        area != b"000" && area != b"666" && area[0] != b'9' && group != b"00" && serial != b"0000";
    valid.then_some(end)
}

/// IBAN: 15-34 characters without spaces whose mod-97 check (ISO 13616) gives 1. The
/// pattern may have taken a following upper-case word for a last group ("... 00 THE"):
/// while the check fails, the last space-separated group is dropped and tried again.
pub fn iban(text: &str, start: usize, end: usize) -> Option<usize> {
    let mut end = end;
    loop {
        if iban_checksum(&text.as_bytes()[start..end]) {
            return Some(end);
        }
        end = start + text[start..end].trim_end().rfind(' ')?;
    }
}

fn iban_checksum(candidate: &[u8]) -> bool {
    let chars = candidate.iter().copied().filter(|b| *b != b' ');
    if !(15..=34).contains(&chars.clone().count()) {
        return false;
    }
    // Move the country code and check digits to the end; letters count as 10..35.
    let rotated = chars.clone().skip(4).chain(chars.take(4));
    let mut remainder: u32 = 0;
    for b in rotated {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// IPv4: not part of a longer dotted number (`1.2.3.4.5`), since `\b` alone allows that.
pub fn ipv4(text: &str, start: usize, end: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let dotted_before = start >= 2 && bytes[start - 1] == b'.' && bytes[start - 2].is_ascii_digit();
    let dotted_after =
        end + 1 < bytes.len() && bytes[end] == b'.' && bytes[end + 1].is_ascii_digit();
    (!dotted_before && !dotted_after).then_some(end)
}

/// IPv6: parses as an address, with at least one hex digit (`::` alone is not one), and
/// is not glued to more hex digits or colons.
pub fn ipv6(text: &str, start: usize, end: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let glued = |b: u8| b.is_ascii_hexdigit() || b == b':';
    if (start > 0 && glued(bytes[start - 1])) || (end < bytes.len() && glued(bytes[end])) {
        return None;
    }
    let candidate = &text[start..end];
    let valid = candidate.bytes().any(|b| b.is_ascii_hexdigit())
        && candidate.parse::<std::net::Ipv6Addr>().is_ok();
    valid.then_some(end)
}

/// The credential after `Bearer`/`Basic`: a Basic credential must be base64 of
/// `user:password`; a bearer token must hold a digit or a symbol, so that prose
/// ("bearer authentication") is not taken for a token.
pub fn auth(text: &str, start: usize, end: usize) -> Option<usize> {
    let token = &text[start..end];
    let scheme_is_basic = text[..start]
        .trim_end()
        .to_ascii_lowercase()
        .ends_with("basic");
    let valid = if scheme_is_basic {
        base64_decodes_to_pair(token)
    } else {
        token.bytes().any(|b| !b.is_ascii_alphabetic())
    };
    valid.then_some(end)
}

/// An AWS secret key candidate: not followed by more base64 characters.
pub fn aws_secret(text: &str, _start: usize, end: usize) -> Option<usize> {
    text.as_bytes()
        .get(end)
        .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'/' || *b == b'+'))
        .then_some(end)
}

/// Whether `token` is standard base64 whose decoded bytes contain a `:`.
fn base64_decodes_to_pair(token: &str) -> bool {
    let bytes = token.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    let body = token.trim_end_matches('=');
    if bytes.len() - body.len() > 2 {
        return false;
    }
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in body.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return false,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if (acc >> bits) & 0xff == u32::from(b':') {
                return true;
            }
            acc &= (1 << bits) - 1;
        }
    }
    false
}
