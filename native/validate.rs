//! Validators that candidates must pass. Mirrors `mcp_pii/validate.py`.
//!
//! Each validator takes the candidate value and returns the byte length of the value to keep (the
//! whole value, or a shorter prefix for an IBAN followed by more text), or `None` to drop it.

use crate::catalog::Tables;

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

fn digits(value: &str) -> Vec<u8> {
    value.bytes().filter(u8::is_ascii_digit).collect()
}

fn number(d: &[u8]) -> u64 {
    d.iter().fold(0u64, |acc, c| acc.saturating_mul(10).saturating_add(u64::from(c - b'0')))
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
    let d = digits(value);
    let n = d.len();
    let issuer_ok = t.issuers.iter().any(|(prefixes, lengths)| {
        lengths.contains(&n)
            && prefixes.iter().any(|&(width, lo, hi)| width <= n && (lo..=hi).contains(&number(&d[..width])))
    });
    if !issuer_ok {
        return None;
    }
    let total: u32 = d
        .iter()
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
    let d = digits(value);
    if d.len() != 9 {
        return None;
    }
    let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
    if area == b"000" || area == b"666" || area[0] == b'9' || group == b"00" || serial == b"0000" {
        return None;
    }
    Some(value.len())
}

fn ipv4(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            (1..=3).contains(&p.len())
                && p.bytes().all(|c| c.is_ascii_digit())
                && !(p.len() > 1 && p.starts_with('0'))
                && p.parse::<u32>().is_ok_and(|v| v <= 255)
        })
}

fn ipv6(value: &str, t: &Tables) -> bool {
    let halves: Vec<&str> = value.split("::").collect();
    if halves.len() > 2 {
        return false;
    }
    let groups: Vec<&str> = halves.iter().filter(|h| !h.is_empty()).flat_map(|h| h.split(':')).collect();
    if !groups.iter().all(|g| (1..=4).contains(&g.len()) && g.bytes().all(|c| c.is_ascii_hexdigit())) {
        return false;
    }
    let ok = if halves.len() == 2 { groups.len() <= 7 } else { groups.len() == 8 };
    ok && groups.len() >= t.min_ipv6_groups
}

/// Keep a well-formed IPv4 (octets 0-255) or IPv6 address.
pub fn ip(value: &str, t: &Tables) -> Option<usize> {
    let ok = if value.contains(':') { ipv6(value, t) } else { ipv4(value) };
    ok.then_some(value.len())
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

/// Keep a phone number with a plausible count of digits.
pub fn phone(value: &str, t: &Tables) -> Option<usize> {
    let n = digits(value).len();
    let (lo, hi) = if value.starts_with('+') { t.phone_international } else { t.phone_national };
    (lo..=hi).contains(&n).then_some(value.len())
}

/// Run the validator `name` on `value`; see the module documentation.
pub fn run(name: &str, value: &str, t: &Tables) -> Option<usize> {
    match name {
        "luhn" => luhn(value, t),
        "iban" => iban(value, t),
        "ssn" => ssn(value),
        "ip" => ip(value, t),
        "date" => date(value, t),
        "phone" => phone(value, t),
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
    }

    #[test]
    fn ips() {
        let t = tables();
        assert!(ip("192.168.1.20", &t).is_some());
        assert!(ip("2001:db8::8a2e:370:7334", &t).is_some());
        for bad in ["256.1.1.1", "01.2.3.4", "1.2.3.4.5", "::1", "10:30:45", "a:::b:c:d"] {
            assert!(ip(bad, &t).is_none(), "{bad}");
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
