"""Validators that candidates must pass. Mirrors ``native/validate.rs``.

Each validator takes the candidate value and returns the length of the value to keep (the whole
value, or a shorter prefix for an IBAN followed by more text), or ``None`` to drop the candidate.
"""

from __future__ import annotations

from itertools import pairwise

from mcp_pii.catalog import Tables

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def ascii_lower(value: str) -> str:
    """Lower-case the ASCII letters of ``value`` only (as Rust's ``to_ascii_lowercase``)."""
    return value.translate(_ASCII_LOWER)


def _digits(value: str) -> str:
    return "".join(c for c in value if "0" <= c <= "9")


def luhn(value: str, t: Tables) -> int | None:
    """Keep a card number that passes Luhn and has its issuer's length."""
    digits = _digits(value)
    n = len(digits)
    issuer_ok = any(
        n in lengths and any(lo <= int(digits[:width]) <= hi for width, lo, hi in prefixes)
        for prefixes, lengths in t.issuers
    )
    if not issuer_ok:
        return None
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return len(value) if total % 10 == 0 else None


def iban(value: str, t: Tables) -> int | None:
    """Keep an IBAN of its country's length whose mod-97 check holds; trim what follows it."""
    want = t.iban_lengths.get(value[:2])
    if want is None:
        return None
    chars: list[str] = []
    end = 0
    for i, c in enumerate(value):
        if c.isascii() and c.isalnum():
            chars.append(c)
            if len(chars) == want:
                end = i + 1
                break
    if len(chars) < want or (end < len(value) and value[end].isascii() and value[end].isalnum()):
        return None
    rearranged = chars[4:] + chars[:4]
    rem = 0
    for c in rearranged:
        if "0" <= c <= "9":
            rem = (rem * 10 + ord(c) - 48) % 97
        elif "A" <= c <= "Z":
            rem = (rem * 100 + ord(c) - 55) % 97
        else:
            return None
    return end if rem == 1 else None


def ssn(value: str) -> int | None:
    """Keep an SSN whose area, group and serial are all possible."""
    d = _digits(value)
    if len(d) != 9:
        return None
    area, group, serial = d[:3], d[3:5], d[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    return len(value)


def _ipv4(value: str) -> bool:
    parts = value.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not 1 <= len(p) <= 3 or not p.isdigit() or (len(p) > 1 and p[0] == "0") or int(p) > 255:
            return False
    return True


def _hex_group(g: str) -> bool:
    return 1 <= len(g) <= 4 and all(c in "0123456789abcdefABCDEF" for c in g)


def _ipv6(value: str, t: Tables) -> bool:
    address, percent, zone = value.partition("%")
    if percent and not zone:
        return False
    halves = address.split("::")
    if len(halves) > 2:
        return False
    groups = [g for half in halves if half for g in half.split(":")]
    width = len(groups)
    if groups and "." in groups[-1]:
        # An embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
        if not _ipv4(groups.pop()):
            return False
        width = len(groups) + 2
    if not all(_hex_group(g) for g in groups):
        return False
    ok = width <= 7 if len(halves) == 2 else width == 8
    return ok and width >= t.min_ipv6_groups


def ip(value: str, t: Tables) -> int | None:
    """Keep a well-formed IPv4 (octets 0-255) or IPv6 address (an IPv4 tail, a zone id, a CIDR prefix allowed)."""
    address, slash, prefix = value.partition("/")
    v6 = ":" in address
    ok = _ipv6(address, t) if v6 else _ipv4(address)
    if not ok:
        return None
    # A prefix length out of range is not part of the address (the address alone is kept).
    return len(value) if not slash or int(prefix) <= (128 if v6 else 32) else len(address)


def _valid_day(y: int, m: int, d: int) -> bool:
    if not 1 <= m <= 12 or d < 1:
        return False
    if m == 2 and d == 29:
        return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return d <= _DAYS[m - 1]


def _tokens(value: str) -> list[str]:
    out: list[str] = []
    cur = ""
    for c in value:
        kind = "9" if "0" <= c <= "9" else "a" if c.isascii() and c.isalpha() else ""
        if cur and kind and (("0" <= cur[0] <= "9") == (kind == "9")):
            cur += c
            continue
        if cur:
            out.append(cur)
        cur = c if kind else ""
    if cur:
        out.append(cur)
    return out


def date(value: str, t: Tables) -> int | None:
    """Keep a real calendar date (ISO, numeric day/month in either order, or with a month name)."""
    lo, hi = t.years
    toks = _tokens(value)
    nums = [x for x in toks if x[0].isdigit()]
    words = [x.lower() for x in toks if not x[0].isdigit()]
    months = [w for w in words if w[:3] in _MONTHS and w not in ("st", "nd", "rd", "th")]

    def year(y: str) -> int | None:
        if len(y) == 4:
            v = int(y)
            return v if lo <= v <= hi else None
        if len(y) == 2:
            v = int(y)
            return 1900 + v if v >= 30 else 2000 + v
        return None

    if months:
        if len(nums) != 2:
            return None
        y = year(nums[1])
        ok = y is not None and _valid_day(y, _MONTHS.index(months[0][:3]) + 1, int(nums[0]))
    elif len(nums) == 3 and len(nums[0]) == 4:
        y = year(nums[0])
        ok = y is not None and _valid_day(y, int(nums[1]), int(nums[2]))
    elif len(nums) == 3:
        y = year(nums[2])
        a, b = int(nums[0]), int(nums[1])
        ok = y is not None and (_valid_day(y, a, b) or _valid_day(y, b, a))
    else:
        ok = False
    return len(value) if ok else None


def phone(value: str, t: Tables) -> int | None:
    """Keep a phone number with a plausible count of digits, not all of them the same."""
    digits = _digits(value)
    lo, hi = t.phone_international if value.startswith("+") else t.phone_national
    return len(value) if lo <= len(digits) <= hi and len(set(digits)) > 1 else None


def _mrz_value(ch: str) -> int:
    if "0" <= ch <= "9":
        return ord(ch) - 48
    if "A" <= ch <= "Z":
        return ord(ch) - 55
    return 0


def _mrz_check(field: str, digit: str) -> bool:
    weights = (7, 3, 1)
    total = sum(_mrz_value(ch) * weights[i % 3] for i, ch in enumerate(field))
    return (digit == "<" and total % 10 == 0) or digit == str(total % 10)


def mrz(value: str) -> int | None:
    """Keep a passport's machine-readable zone whose second line's check digits all hold (ICAO 9303)."""
    line = value[-44:]
    if len(line) != 44:
        return None
    ok = (
        _mrz_check(line[0:9], line[9])
        and _mrz_check(line[13:19], line[19])
        and _mrz_check(line[21:27], line[27])
        and _mrz_check(line[0:10] + line[13:20] + line[21:43], line[43])
    )
    return len(value) if ok else None


def placeholder(value: str, t: Tables) -> bool:
    """Return True if a secret's value is a placeholder, a reference or a masked value, not a secret."""
    lower = ascii_lower(value)
    squeezed = "".join(ch for ch in lower if ch not in "-_. \t")
    if squeezed in t.placeholders or any(m in lower for m in t.markers) or lower.startswith(t.starts):
        return True
    run = 1
    for a, b in pairwise(value):
        run = run + 1 if a == b else 1
        if run >= t.max_run:
            return True
    return False


def _code(value: str) -> bool:
    """Return True if a value reads as code: a call (``getpass(``) or a dotted name (``self.password``)."""
    if value.endswith("("):
        return True
    names = value.split(".")
    return len(names) > 1 and all(
        n
        and (n[0].isascii() and (n[0].isalpha() or n[0] == "_"))
        and all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in n)
        and not any("0" <= ch <= "9" for ch in n)
        for n in names
    )


def secret(value: str, t: Tables) -> int | None:
    """Keep a secret that is not a placeholder."""
    return None if placeholder(value, t) else len(value)


def _query_end(value: str) -> int:
    """Where a value ends that runs into the next query parameter (``secret&next=/``): before that ``&``."""
    at = value.find("&")
    while at >= 0:
        i = at + 1
        while i < len(value) and value[i].isascii() and (value[i].isalnum() or value[i] in "_.-"):
            i += 1
        if i > at + 1 and i < len(value) and value[i] == "=":
            return at
        at = value.find("&", at + 1)
    return len(value)


def password(value: str, t: Tables) -> int | None:
    """Keep a password that is not a placeholder or code and mixes kinds of characters (see the catalog)."""
    value = value[: _query_end(value)]
    if not value or placeholder(value, t) or _code(value):
        return None
    kinds = {"l" if "a" <= ch <= "z" else "u" if "A" <= ch <= "Z" else "d" if "0" <= ch <= "9" else "o" for ch in value}
    return len(value) if len(kinds) >= t.password_kinds else None


def run(name: str, value: str, t: Tables) -> int | None:
    """Run the validator ``name`` on ``value``; see the module docstring."""
    if name == "luhn":
        return luhn(value, t)
    if name == "iban":
        return iban(value, t)
    if name == "ssn":
        return ssn(value)
    if name == "ip":
        return ip(value, t)
    if name == "date":
        return date(value, t)
    if name == "phone":
        return phone(value, t)
    if name == "mrz":
        return mrz(value)
    if name == "secret":
        return secret(value, t)
    if name == "password":
        return password(value, t)
    raise AssertionError(f"unknown validator {name}")
