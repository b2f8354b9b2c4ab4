//! Validators that candidates must pass. Mirrors `mcp_pii/validate.py`.
//!
//! Each validator takes the candidate value and returns the byte length of the value to keep (the
//! whole value, or a shorter prefix for an IBAN followed by more text), or `None` to drop it.

use crate::catalog::Tables;

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// The ASCII digits of `value`, in order. Read again where needed rather than collected: a list
/// per candidate was an allocation per SSN or card tried, a tenth of a labelled SSN's cost.
fn digits(value: &str) -> impl DoubleEndedIterator<Item = u8> + '_ {
    value.bytes().filter(u8::is_ascii_digit)
}

fn number(d: impl Iterator<Item = u8>) -> u64 {
    d.fold(0u64, |acc, c| acc.saturating_mul(10).saturating_add(u64::from(c - b'0')))
}

/// Keep a card number that passes Luhn and has its issuer's length.
///
/// # Example
/// ```
/// use _native::{catalog, validate};
/// let t = catalog::compile_config(&Default::default()).unwrap().tables;
/// assert!(validate::luhn("4111 1111 1111 1111", &t).is_some());
/// assert!(validate::luhn("4111 1111 1111 1112", &t).is_none());
/// ```
pub fn luhn(value: &str, t: &Tables) -> Option<usize> {
    let n = digits(value).count();
    let issuer_ok = t.issuers.iter().any(|(prefixes, lengths)| {
        lengths.contains(&n)
            && prefixes
                .iter()
                .any(|&(width, lo, hi)| width <= n && (lo..=hi).contains(&number(digits(value).take(width))))
    });
    if !issuer_ok {
        return None;
    }
    let total: u32 = digits(value)
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let v = u32::from(c - b'0');
            match (i % 2, v) {
                (1, v) if v > 4 => v * 2 - 9,
                (1, v) => v * 2,
                (_, v) => v,
            }
        })
        .sum();
    (total % 10 == 0).then_some(value.len())
}

/// Keep an IBAN of its country's length whose mod-97 check holds; trim what follows it.
pub fn iban(value: &str, t: &Tables) -> Option<usize> {
    let want = *t.iban_lengths.get(value.get(..2)?)?;
    let mut chars: Vec<u8> = Vec::with_capacity(want);
    let mut end = 0;
    for (i, c) in value.char_indices() {
        if c.is_ascii_alphanumeric() {
            chars.push(c as u8);
            if chars.len() == want {
                end = i + 1;
                break;
            }
        }
    }
    if chars.len() < want || value[end..].chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        rem = match c {
            b'0'..=b'9' => (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return None,
        };
    }
    (rem == 1).then_some(end)
}

/// Keep an SSN whose area, group and serial are all possible.
pub fn ssn(value: &str) -> Option<usize> {
    let mut d = [0u8; 9];
    let mut n = 0;
    for digit in digits(value) {
        *d.get_mut(n)? = digit;
        n += 1;
    }
    if n != 9 {
        return None;
    }
    let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
    if area == b"000" || area == b"666" || area[0] == b'9' || group == b"00" || serial == b"0000" {
        return None;
    }
    Some(value.len())
}

/// Four dot-separated numbers of 1-3 digits, each at most 255, none with a leading zero.
/// One pass over the bytes: this runs on every candidate address.
fn ipv4(value: &str) -> bool {
    let mut parts = 0;
    for p in value.as_bytes().split(|&b| b == b'.') {
        parts += 1;
        let number = (1..=3).contains(&p.len())
            && p.iter().all(u8::is_ascii_digit)
            && !(p.len() > 1 && p[0] == b'0')
            && p.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')) <= 255;
        if parts > 4 || !number {
            return false;
        }
    }
    parts == 4
}

fn ipv6(value: &str, t: &Tables) -> bool {
    let (address, zone) = match value.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (value, None),
    };
    if zone.is_some_and(str::is_empty) {
        return false;
    }
    // Walked without collecting: this runs on every timestamp-like `12:30:45` of a text, which
    // most often stops at once: without `::` an address has eight groups, so seven colons (six
    // before an IPv4 tail).
    let bytes = address.as_bytes();
    let colons = bytes.iter().filter(|&&b| b == b':').count();
    if colons < 6 && !bytes.windows(2).any(|w| w == b"::") {
        return false;
    }
    let mut halves = address.split("::");
    let (head, tail) = (halves.next().unwrap_or(""), halves.next());
    if halves.next().is_some() {
        return false;
    }
    let groups =
        || [head, tail.unwrap_or("")].into_iter().filter(|h| !h.is_empty()).flat_map(|h| h.split(':'));
    let count = groups().count();
    let (mut width, mut hex) = (count, count);
    if let Some(last) = groups().last().filter(|g| g.contains('.')) {
        // An embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
        if !ipv4(last) {
            return false;
        }
        (width, hex) = (count + 1, count - 1);
    }
    if !groups().take(hex).all(|g| (1..=4).contains(&g.len()) && g.bytes().all(|c| c.is_ascii_hexdigit())) {
        return false;
    }
    let ok = if tail.is_some() { width <= 7 } else { width == 8 };
    ok && width >= t.min_ipv6_groups
}

/// Keep a well-formed IPv4 (octets 0-255) or IPv6 address (an IPv4 tail, a zone id, a CIDR
/// prefix allowed).
pub fn ip(value: &str, t: &Tables) -> Option<usize> {
    let (address, prefix) = match value.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (value, None),
    };
    let v6 = address.contains(':');
    if !(if v6 { ipv6(address, t) } else { ipv4(address) }) {
        return None;
    }
    // A prefix length out of range is not part of the address (the address alone is kept).
    let max = if v6 { 128 } else { 32 };
    Some(match prefix {
        Some(p) if p.parse::<u32>().is_ok_and(|n| n <= max) => value.len(),
        Some(_) => address.len(),
        None => value.len(),
    })
}

fn valid_day(y: u32, m: u32, d: u32) -> bool {
    if !(1..=12).contains(&m) || d < 1 {
        return false;
    }
    if m == 2 && d == 29 {
        return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    }
    d <= DAYS[(m - 1) as usize]
}

/// Split into runs of ASCII digits and runs of ASCII letters; everything else separates.
fn tokens(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<(usize, bool)> = None;
    for (i, c) in value.char_indices() {
        let kind = if c.is_ascii_digit() {
            Some(true)
        } else if c.is_ascii_alphabetic() {
            Some(false)
        } else {
            None
        };
        match (start, kind) {
            (Some((_, a)), Some(b)) if a == b => {}
            (Some((s, _)), k) => {
                out.push(&value[s..i]);
                start = k.map(|k| (i, k));
            }
            (None, k) => start = k.map(|k| (i, k)),
        }
    }
    if let Some((s, _)) = start {
        out.push(&value[s..]);
    }
    out
}

/// Keep a real calendar date (ISO, numeric day/month in either order, or with a month name).
pub fn date(value: &str, t: &Tables) -> Option<usize> {
    let toks = tokens(value);
    let nums: Vec<&str> = toks.iter().copied().filter(|x| x.as_bytes()[0].is_ascii_digit()).collect();
    let words: Vec<String> =
        toks.iter().filter(|x| !x.as_bytes()[0].is_ascii_digit()).map(|x| x.to_ascii_lowercase()).collect();
    let month = words
        .iter()
        .filter(|w| !["st", "nd", "rd", "th"].contains(&w.as_str()))
        .find_map(|w| MONTHS.iter().position(|m| w.get(..3) == Some(*m)));
    let year = |y: &str| -> Option<u32> {
        let v: u32 = y.parse().ok()?;
        match y.len() {
            4 => (t.years.0..=t.years.1).contains(&v).then_some(v),
            2 => Some(if v >= 30 { 1900 + v } else { 2000 + v }),
            _ => None,
        }
    };
    let num = |s: &str| s.parse::<u32>().unwrap_or(u32::MAX);
    let ok = if let Some(m) = month {
        nums.len() == 2 && year(nums[1]).is_some_and(|y| valid_day(y, m as u32 + 1, num(nums[0])))
    } else if nums.len() == 3 && nums[0].len() == 4 {
        year(nums[0]).is_some_and(|y| valid_day(y, num(nums[1]), num(nums[2])))
    } else if nums.len() == 3 {
        let (a, b) = (num(nums[0]), num(nums[1]));
        year(nums[2]).is_some_and(|y| valid_day(y, a, b) || valid_day(y, b, a))
    } else {
        false
    };
    ok.then_some(value.len())
}

/// Keep a phone number with a plausible count of digits, not all of them the same.
pub fn phone(value: &str, t: &Tables) -> Option<usize> {
    let mut d = value.bytes().filter(u8::is_ascii_digit);
    let first = d.next()?;
    let (count, varied) = d.fold((1, false), |(n, varied), c| (n + 1, varied || c != first));
    let (lo, hi) = if value.starts_with('+') { t.phone_international } else { t.phone_national };
    ((lo..=hi).contains(&count) && varied).then_some(value.len())
}

fn mrz_value(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A'..=b'Z' => u32::from(c - b'A') + 10,
        _ => 0,
    }
}

fn mrz_check(field: &[u8], digit: u8) -> bool {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let total: u32 = field.iter().enumerate().map(|(i, &c)| mrz_value(c) * WEIGHTS[i % 3]).sum();
    (digit == b'<' && total % 10 == 0) || u32::from(digit) == u32::from(b'0') + total % 10
}

/// Keep a passport's machine-readable zone whose second line's check digits all hold (ICAO 9303).
pub fn mrz(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    let line = b.get(b.len().checked_sub(44)?..)?;
    let composite: Vec<u8> = [&line[0..10], &line[13..20], &line[21..43]].concat();
    let ok = mrz_check(&line[0..9], line[9])
        && mrz_check(&line[13..19], line[19])
        && mrz_check(&line[21..27], line[27])
        && mrz_check(&composite, line[43]);
    ok.then_some(value.len())
}

/// True if a secret's value is a placeholder, a reference or a masked value, not a secret.
pub fn placeholder(value: &str, t: &Tables) -> bool {
    if t.markers.is_match(value)
        || t.starts
            .iter()
            .any(|s| value.as_bytes().get(..s.len()).is_some_and(|b| b.eq_ignore_ascii_case(s.as_bytes())))
        || squeezed(value, t.placeholder_len).is_some_and(|v| t.placeholders.contains(&v))
    {
        return true;
    }
    let mut run = 1;
    let mut prev: Option<char> = None;
    for c in value.chars() {
        run = if prev == Some(c) { run + 1 } else { 1 };
        if run >= t.max_run {
            return true;
        }
        prev = Some(c);
    }
    false
}

/// `value` lower-cased without `-_.` and blanks, if that is at most `most` bytes long.
fn squeezed(value: &str, most: usize) -> Option<String> {
    let mut out = String::new();
    for c in value.chars().filter(|c| !"-_. \t".contains(*c)) {
        if out.len() + c.len_utf8() > most {
            return None;
        }
        out.push(c.to_ascii_lowercase());
    }
    Some(out)
}

/// True if a value reads as code: a call (`getpass(`) or a dotted name (`self.password`).
fn code(value: &str) -> bool {
    if value.ends_with('(') {
        return true;
    }
    let names: Vec<&str> = value.split('.').collect();
    names.len() > 1
        && names.iter().all(|n| {
            n.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !n.chars().any(|c| c.is_ascii_digit())
        })
}

/// Where a value ends that runs into the next query parameter (`secret&next=/`): before that `&`.
fn query_end(value: &str) -> usize {
    let b = value.as_bytes();
    let mut from = 0;
    while let Some(off) = value[from..].find('&') {
        let at = from + off;
        let mut i = at + 1;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b"_.-".contains(&b[i])) {
            i += 1;
        }
        if i > at + 1 && i < b.len() && b[i] == b'=' {
            return at;
        }
        from = at + 1;
    }
    value.len()
}

/// Keep a secret that is not a placeholder.
pub fn secret(value: &str, t: &Tables) -> Option<usize> {
    (!placeholder(value, t)).then_some(value.len())
}

/// Keep a password that is not a placeholder or code and mixes kinds of characters.
pub fn password(value: &str, t: &Tables) -> Option<usize> {
    let value = &value[..query_end(value)];
    if value.is_empty() || placeholder(value, t) || code(value) {
        return None;
    }
    let mut kinds = [false; 4];
    for c in value.chars() {
        let k = match c {
            'a'..='z' => 0,
            'A'..='Z' => 1,
            '0'..='9' => 2,
            _ => 3,
        };
        kinds[k] = true;
    }
    (kinds.iter().filter(|k| **k).count() >= t.password_kinds).then_some(value.len())
}

/// Run the validator `name` on `value`; see the module documentation.
///
/// # Example
/// ```
/// use _native::catalog::{compile_config, EngineConfig};
/// use _native::validate::run;
/// let t = compile_config(&EngineConfig::default()).unwrap().tables;
/// assert!(run("luhn", "4111 1111 1111 1111", &t).is_some());
/// assert!(run("luhn", "4111 1111 1111 1112", &t).is_none());
/// assert!(run("iban", "DE89 3704 0044 0532 0130 00", &t).is_some());
/// assert!(run("ssn", "666-45-6789", &t).is_none(), "area 666 is never issued");
/// assert!(run("date", "1952-02-30", &t).is_none());
/// // A prefix length out of range is left out: the address alone is kept.
/// assert_eq!(run("ip", "10.0.0.1/33", &t), Some("10.0.0.1".len()));
/// assert_eq!(run("ip", "2001:db8::1/64", &t), Some("2001:db8::1/64".len()));
/// ```
pub fn run(name: &str, value: &str, t: &Tables) -> Option<usize> {
    match name {
        "luhn" => luhn(value, t),
        "iban" => iban(value, t),
        "ssn" => ssn(value),
        "ip" => ip(value, t),
        "date" => date(value, t),
        "phone" => phone(value, t),
        "mrz" => mrz(value),
        "secret" => secret(value, t),
        "password" => password(value, t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{compile_config, EngineConfig};

    fn tables() -> Tables {
        compile_config(&EngineConfig::default()).unwrap().tables
    }

    #[test]
    fn cards() {
        let t = tables();
        assert!(luhn("4111111111111111", &t).is_some());
        assert!(luhn("378282246310005", &t).is_some());
        assert!(luhn("4111111111111112", &t).is_none());
        assert!(luhn("1234567812345670", &t).is_none(), "Luhn-valid but no issuer");
    }

    #[test]
    fn ibans() {
        let t = tables();
        assert_eq!(iban("GB82 WEST 1234 5698 7654 32", &t), Some(27));
        assert_eq!(iban("BE68 5390 0754 7034 CASH", &t), Some(19));
        assert_eq!(iban("GB82 WEST 1234 5698 7654 33", &t), None);
        assert_eq!(iban("ZZ82 WEST 1234 5698 7654 32", &t), None);
    }

    #[test]
    fn ssns() {
        assert!(ssn("123-45-6789").is_some());
        for bad in ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"] {
            assert!(ssn(bad).is_none(), "{bad}");
        }
        // Nine digits exactly, wherever the separators are.
        assert_eq!(ssn("123 45 6789"), Some(11));
        for wrong in ["123-45-678", "123-45-67890", "1234-56-78901", ""] {
            assert!(ssn(wrong).is_none(), "{wrong}");
        }
    }

    #[test]
    fn ips() {
        let t = tables();
        assert!(ip("192.168.1.20", &t).is_some());
        assert!(ip("2001:db8::8a2e:370:7334", &t).is_some());
        for bad in ["256.1.1.1", "01.2.3.4", "1.2.3.4.5", "::1", "10:30:45", "a:::b:c:d"] {
            assert!(ip(bad, &t).is_none(), "{bad}");
        }
        for good in ["0.0.0.0", "255.255.255.255", "10.0.0.1"] {
            assert!(ipv4(good), "{good}");
        }
        for bad in
            ["", "1.2.3", "1.2.3.4.", ".1.2.3", "1..2.3", "1.2.3.1000", "1.2.3.-1", "1.2.3.٤", "1.2.3.4 "]
        {
            assert!(!ipv4(bad), "{bad}");
        }
    }

    #[test]
    fn dates() {
        let t = tables();
        for good in
            ["1985-03-14", "03/14/1985", "14.03.1985", "March 14, 1985", "14th Mar 1985", "29/02/2000"]
        {
            assert!(date(good, &t).is_some(), "{good}");
        }
        for bad in ["1985-02-30", "13/13/1985", "29/02/1900", "1850-01-01"] {
            assert!(date(bad, &t).is_none(), "{bad}");
        }
    }
}
