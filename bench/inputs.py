"""Deterministic benchmark inputs: PII-dense prose, PII-free prose and nested JSON payloads.

Every input comes from a ``random.Random`` seeded from its name, so two runs (and two machines)
measure the same bytes. Each input records the PII it plants (``planted``), so a check can
confirm that the engine finds exactly those values and nothing else:

- ``pii-*``: prose with about one PII item per 200 bytes (emails, phones, SSNs, Luhn-valid cards,
  IPv4/IPv6, IBANs, labelled DOB/MRN/passport/licence/account numbers, AWS keys, API keys,
  GitHub tokens, JWTs), one sentence in five non-ASCII (accented names, CJK, emoji), and log
  lines dense with digits (timestamps, order numbers, versions, UUIDs) that no engine may mask;
- ``clean-*``: the same prose and log lines without any PII;
- ``pii-ascii-*`` and ``clean-ascii-*``: the same two without any non-ASCII character, because
  a regex engine may take a slower path on the first one it meets (cpex-pii-filter does: about
  200 times slower), and both speeds are worth seeing;
- ``chat-ascii-*``: everyday ASCII prose, as in a chat or an e-mail thread: short common words,
  no digits or symbols outside one PII sentence per ~500 bytes. Next to the bench's prose, whose
  log lines are dense with digits, a regex engine that skips text by its literals reads this far
  faster (cpex-pii-filter about 500 MB/s without the PII);
- ``blob-ascii-*``: a tool result that carries a file, as MCP image and resource contents do: a
  header line, then the file's bytes (random) in base64 on one line, and no PII. Its letters and
  digits are dense with short label keywords ("pw", "dl", "sk") and a regex engine that reads
  every byte meets far more distinct states than on prose;
- ``digits-ascii-*``: a CSV export whose fields are all numbers (ids, dates, times, amounts,
  references of 10 and 12 digits), one row in ten with a phone number, an SSN or a card number:
  digits everywhere, which is where a filter's number rules (lengths, checksums, separators) are
  tried most and must refuse nearly everything;
- ``nested-*``: a JSON payload of customer records, 3 to 6 containers deep, with an ``audit``
  field that holds JSON inside a string.

``python bench/inputs.py`` prints the inputs' sizes and checks them against our Python engine
and, when installed, ``cpex-pii-filter``.
"""

from __future__ import annotations

import base64
import json
import random
import string
import sys
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SIZES: dict[str, int] = {"1KB": 1_000, "10KB": 10_000, "100KB": 100_000, "1MB": 1_000_000}
NESTED_SIZES: dict[str, int] = {"10KB": 10_000, "1MB": 1_000_000}
# Short texts, the size of most tool arguments and results: reported beside the targets (which
# start at 1 KB), because a call's fixed costs weigh most there.
SHORT_SIZES: dict[str, int] = {"128B": 128, "512B": 512}
PII_EVERY_BYTES = 200
# Everyday prose has its PII sparser.
CHAT_PII_EVERY_BYTES = 500

__all__ = [
    "NESTED_SIZES",
    "SHORT_SIZES",
    "SIZES",
    "BenchInput",
    "Planted",
    "blob_text",
    "build_inputs",
    "chat_prose",
    "clean_prose",
    "log_text",
    "nested_payload",
    "pii_prose",
    "short_prose",
    "table_text",
]


@dataclass(frozen=True, slots=True)
class Planted:
    """A PII value the generator put in an input, under the type id our engine gives it."""

    type: str
    value: str


@dataclass(frozen=True)
class BenchInput:
    """One benchmark input: ``text`` always; ``data`` (the parsed payload) for nested inputs."""

    name: str
    kind: str  # "pii" | "clean" | "nested"
    size_label: str
    text: str
    planted: tuple[Planted, ...]
    data: Any = None
    nbytes: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nbytes", len(self.text.encode("utf-8")))


def _rng(name: str) -> random.Random:
    return random.Random(zlib.crc32(name.encode()))


# --- PII values -------------------------------------------------------------------------------

FIRST = ["Alice", "Bob", "Carmen", "David", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kofi", "Lena"]
LAST = ["Smith", "Johnson", "Garcia", "Chen", "Okafor", "Novak", "Tanaka", "Silva", "Berg", "Rossi", "Khan"]
ACCENTED = [
    "José García",
    "Zoë Müller",
    "François Lefèvre",
    "Łukasz Żółć",
    "Søren Ødegård",
    "Nguyễn Văn Anh",
    "Ana Łopez-Núñez",
    "İlkay Gündoğan",
    "Renée Dubois",
    "Björn Åström",
]
DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "example.co.uk", "uni-muenchen.example.de"]
ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits
MONTHS = ["January", "February", "March", "April", "June", "July", "August", "September", "October", "November"]


def digits(r: random.Random, k: int) -> str:
    """``k`` random decimal digits."""
    return "".join(r.choices(string.digits, k=k))


def _luhn_complete(body: str) -> str:
    """Append the Luhn check digit to ``body``."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def card(r: random.Random) -> str:
    """A Luhn-valid card number of a real issuer length, in one of the usual layouts."""
    issuer = r.choice(["visa", "mc", "amex", "discover"])
    if issuer == "amex":
        n = _luhn_complete(r.choice(["34", "37"]) + digits(r, 12))
        return r.choice([n, f"{n[:4]} {n[4:10]} {n[10:]}", f"{n[:4]}-{n[4:10]}-{n[10:]}"])
    prefix = {"visa": "4", "mc": str(r.randint(51, 55)), "discover": "6011"}[issuer]
    n = _luhn_complete(prefix + digits(r, 15 - len(prefix)))
    groups = [n[i : i + 4] for i in range(0, 16, 4)]
    return r.choice([n, " ".join(groups), "-".join(groups)])


def ssn(r: random.Random) -> str:
    area = r.choice([r.randint(1, 665), r.randint(667, 899)])
    return f"{area:03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"


def phone(r: random.Random) -> str:
    a, e, n = r.randint(201, 989), r.randint(200, 989), r.randint(0, 9999)
    return r.choice(
        [
            f"({a}) {e}-{n:04d}",
            f"{a}-{e}-{n:04d}",
            f"+1 {a} {e} {n:04d}",
            f"{a}.{e}.{n:04d}",
            f"+44 20 {r.randint(7000, 8999)} {n:04d}",
            f"+33 1 {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)}",
            f"+49 30 {r.randint(1000, 9999)} {n:04d}",
        ]
    )


def ipv4(r: random.Random) -> str:
    return ".".join(str(r.randint(1, 254)) for _ in range(4))


def ipv6(r: random.Random) -> str:
    return "2001:0db8:" + ":".join(f"{r.randint(0, 0xFFFF):04x}" for _ in range(6))


def iban(r: random.Random) -> str:
    """A mod-97-valid German or British IBAN, compact or in groups of four."""
    if r.random() < 0.5:
        country, bban = "DE", digits(r, 18)
    else:
        country, bban = "GB", "".join(r.choices(string.ascii_uppercase, k=4)) + digits(r, 14)
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    value = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    return value if r.random() < 0.5 else " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def email(r: random.Random) -> str:
    local = f"{r.choice(FIRST).lower()}.{r.choice(LAST).lower()}{r.randint(1, 99) if r.random() < 0.4 else ''}"
    return f"{local}@{r.choice(DOMAINS)}"


def dob(r: random.Random) -> str:
    y, m, d = r.randint(1940, 2005), r.randint(1, 12), r.randint(1, 28)
    return r.choice([f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d} {MONTHS[m % 10]} {y}"])


def aws_key(r: random.Random) -> str:
    return "AKIA" + "".join(r.choices(UPPER_NUM, k=16))


def api_key(r: random.Random) -> str:
    return digits(r, 3) + "".join(r.choices(ALNUM, k=29))


def github_token(r: random.Random) -> str:
    return "ghp_" + "".join(r.choices(ALNUM, k=36))


def jwt(r: random.Random) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    sig = "".join(r.choices(ALNUM + "-_", k=43))
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': str(r.randint(1, 10**9)), 'iat': 1700000000})}.{sig}"


def name(r: random.Random, ascii_only: bool = False) -> str:
    accented = r.random() < 0.3
    return r.choice(ACCENTED) if accented and not ascii_only else f"{r.choice(FIRST)} {r.choice(LAST)}"


# Each entry: (type id, value maker, sentence templates with {v} for the value and {n} for a name).
PII_SENTENCES: list[tuple[str, Callable[[random.Random], str], list[str]]] = [
    ("email", email, ["Please forward the signed form to {v} before Friday.", "{n} can be reached at {v} today."]),
    ("phone", phone, ["Call {n} on {v} if the delivery is late.", "The front desk number is {v} from 9 to 5."]),
    ("ssn", ssn, ["Applicant {n} listed SSN {v} on the intake sheet.", "The record shows {v} as the SSN."]),
    ("credit_card", card, ["{n} paid with card {v} at the kiosk.", "Charge the deposit to {v} once it clears."]),
    ("ip_address", ipv4, ["The login came from {v} shortly after midnight.", "Traffic spiked from host {v} again."]),
    ("ip_address", ipv6, ["The session was opened from {v} over the office VPN."]),
    ("iban", iban, ["Refunds go to IBAN {v} within five days.", "{n} asked us to pay {v} instead."]),
    ("date_of_birth", dob, ["{n}, DOB: {v}, checked in at the clinic.", "Date of birth: {v}, as stated on the form."]),
    ("medical_record", lambda r: str(r.randint(10**6, 10**9)), ["Lab results for MRN: {v} are ready."]),
    ("passport", lambda r: r.choice("XKLM") + str(r.randint(10**7, 10**8 - 1)), ["Passport No: {v} expires soon."]),
    ("driver_license", lambda r: "D" + str(r.randint(10**6, 10**7 - 1)), ["{n} showed DL# {v} at the counter."]),
    ("bank_account", lambda r: str(r.randint(10**9, 10**11)), ["Wire the balance to Account: {v} today."]),
    ("aws_access_key", aws_key, ["The leaked key id was {v} in the build output."]),
    ("api_key", api_key, ["The config still contained api_key={v} in plain text."]),
    ("github_token", github_token, ["Revoke {v} before the repository goes public."]),
    ("jwt", jwt, ["The request carried the session {v} in a cookie."]),
]

# --- filler: ordinary prose and log lines, free of PII for every engine --------------------------

FILLER = [
    "The quarterly report covers {a} regions and {b} product lines.",
    "Shipment {a} of {b} left the warehouse at {hh}:{mm} and arrived on time.",
    "Release v{a}.{b}.{c} fixes {d} bugs reported since the last sprint.",
    "We processed {big} requests with a median latency of {a}.{b} ms.",
    "The meeting moved to room {a}{c}, on the {b}th floor of building {d}.",
    "Revenue grew by {a}.{b} percent to {big} dollars in {year}.",
    "About {a} of the {big} survey answers mentioned the new dashboard.",
    "The cache hit ratio stayed near {a}.{b} percent for {d} days in a row.",
    "Order #{ord} was packed in {a} boxes weighing {b}.{c} kg in total.",
    "Between {year} and {year2} the team shipped {a} major releases.",
    "Please review the draft by {hh}:{mm} so we can send it to the printer.",
    "The backlog has {a} open items, {b} of them marked as urgent.",
    "Invoice {inv} totals {big}.{c}{d} EUR including {a} percent tax.",
    "Room temperature was {a}.{c} degrees at {hh}:{mm} on {iso}.",
    "The library now has {big} books and {a} reading desks.",
]
FILLER_NON_ASCII = [
    "{n} presented the roadmap in München and everyone cheered 🎉.",
    "東京のチームは午後{a}時に会議を開きます。資料は{b}ページです。",
    "我们明天在上海开会，预计有{a}位客户参加。",  # noqa: RUF001
    "서울 사무소에서 {a}건의 보고서를 보냈습니다.",
    "Café crème for {n}, the croissants were délicieux 🥐 and cost {a},{c}{d} €.",
    "{n} wrote: « Le déploiement {a} est terminé » 👍🏽 at {hh}:{mm}.",
    "Ελληνικά: η ομάδα ολοκλήρωσε {a} εργασίες σήμερα.",
    "Привет из Москвы: {a} заказов отправлено 🚀.",
]
LOG_LEVELS = ["INFO", "DEBUG", "WARN", "ERROR"]
SERVICES = ["api", "worker", "billing", "search", "gateway"]


def _slots(r: random.Random, ascii_only: bool = False) -> dict[str, Any]:
    return {
        "a": r.randint(2, 97),
        "b": r.randint(1, 60),
        "c": r.randint(0, 9),
        "d": r.randint(1, 9),
        "big": f"{r.randint(1_000, 9_999_999):,}",
        "year": r.randint(1990, 2024),
        "year2": r.randint(2025, 2030),
        "hh": f"{r.randint(0, 23):02d}",
        "mm": f"{r.randint(0, 59):02d}",
        "ord": f"A-{r.randint(2019, 2025)}-{r.randint(0, 999_999):06d}",
        "inv": f"INV-{r.randint(0, 99_999_999):08d}",
        "iso": f"{r.randint(2019, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
        "n": name(r, ascii_only),
    }


def _uuid(r: random.Random) -> str:
    h = f"{r.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def log_line(r: random.Random) -> str:
    """A log line dense with digits that are not PII: timestamps, ids, versions, sizes, UUIDs."""
    ts = (
        f"{r.randint(2023, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T"
        f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z"
    )
    return (
        f"{ts} {r.choice(LOG_LEVELS):<5} [{r.choice(SERVICES)}-{r.randint(1, 16)}] "
        f"order=ORD-{r.randint(2023, 2025)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}-{r.randint(0, 999_999):06d} "
        f"items={r.randint(1, 40)} total={r.randint(1, 9_999)}.{r.randint(0, 99):02d} "
        f"latency={r.randint(1, 2_000)}ms bytes={r.randint(100, 50_000_000)} "
        f"build=v{r.randint(1, 9)}.{r.randint(0, 40)}.{r.randint(0, 200)} pid={r.randint(100, 65_000)} "
        f"req={_uuid(r)}"
    )


def filler(r: random.Random, ascii_only: bool = False) -> str:
    """One PII-free chunk: a log line (30%), a non-ASCII sentence (20%) or an ASCII sentence."""
    x = r.random()
    if x < 0.3:
        return "\n" + log_line(r) + "\n"
    pool = FILLER_NON_ASCII if x < 0.5 and not ascii_only else FILLER
    return r.choice(pool).format(**_slots(r, ascii_only))


def pii_sentence(r: random.Random, ascii_only: bool = False) -> tuple[str, Planted]:
    """One sentence holding one PII value, and what was planted."""
    type_id, make, templates = r.choice(PII_SENTENCES)
    value = make(r)
    return r.choice(templates).format(v=value, n=name(r, ascii_only)), Planted(type_id, value)


def _prose(
    name_: str,
    nbytes: int,
    with_pii: bool,
    ascii_only: bool,
    *,
    kind: str | None = None,
    first_pii: int | None = None,
    every: int = PII_EVERY_BYTES,
    fill: Callable[[random.Random, bool], str] = filler,
) -> BenchInput:
    """Sentences up to ``nbytes`` (``fill``'s); with PII, one PII sentence per ``every`` bytes, the
    first after ``first_pii`` bytes (random within the first half of that stretch when None)."""
    r = _rng(name_)
    parts: list[str] = []
    planted: list[Planted] = []
    size = 0
    next_pii = r.randint(0, every // 2) if first_pii is None else first_pii
    while True:
        if with_pii and size >= next_pii:
            chunk, p = pii_sentence(r, ascii_only)
            next_pii += every
        else:
            chunk, p = fill(r, ascii_only), None
        chunk_bytes = len(chunk.encode()) + 1
        if size + chunk_bytes > nbytes and size > 0:
            break
        parts.append(chunk)
        if p is not None:
            planted.append(p)
        size += chunk_bytes
    text = " ".join(parts).replace(" \n", "\n").replace("\n ", "\n")
    kind = kind or ("pii" if with_pii else "clean") + ("-ascii" if ascii_only else "")
    return BenchInput(name_, kind, name_.rsplit("-", 1)[1], text, tuple(planted))


def pii_prose(size_label: str, ascii_only: bool = False) -> BenchInput:
    """Prose and log lines of about ``SIZES[size_label]`` UTF-8 bytes with one PII item per ~200 bytes."""
    prefix = "pii-ascii" if ascii_only else "pii"
    return _prose(f"{prefix}-{size_label}", SIZES[size_label], with_pii=True, ascii_only=ascii_only)


def short_prose(size_label: str) -> BenchInput:
    """ASCII prose of about ``SHORT_SIZES[size_label]`` bytes that starts with a PII sentence (so
    that even the shortest holds one), then one PII item per ~200 bytes."""
    name_ = f"short-pii-ascii-{size_label}"
    return _prose(name_, SHORT_SIZES[size_label], True, True, kind="short-pii-ascii", first_pii=0)


# One log line in this many names its client, by IP address or e-mail address.
LOG_CLIENT_EVERY = 5


def _lines(
    name_: str,
    kind: str,
    size_label: str,
    line: Callable[[random.Random], tuple[str, Planted | None]],
    header: str | None = None,
) -> BenchInput:
    """Lines from ``line`` (each with the value it plants, if any) after ``header``, up to about
    ``SIZES[size_label]`` bytes."""
    r = _rng(name_)
    lines = [] if header is None else [header]
    planted: list[Planted] = []
    size = len(header or "")
    while True:
        text, plant = line(r)
        if size + len(text) + 1 > SIZES[size_label] and lines:
            break
        lines.append(text)
        if plant is not None:
            planted.append(plant)
        size += len(text) + 1
    return BenchInput(name_, kind, size_label, "\n".join(lines), tuple(planted))


def _log_line_with_client(r: random.Random) -> tuple[str, Planted | None]:
    line = log_line(r)
    if r.randrange(LOG_CLIENT_EVERY) != 0:
        return line, None
    client = Planted("ip_address", ipv4(r)) if r.random() < 0.5 else Planted("email", email(r))
    return f"{line} client={client.value}", client


def log_text(size_label: str) -> BenchInput:
    """ASCII log lines of about ``SIZES[size_label]`` bytes, one in five naming its client by IP
    address or e-mail address; the rest of their digits (timestamps, ids, sizes) are no PII."""
    return _lines(f"log-ascii-{size_label}", "log-ascii", size_label, _log_line_with_client)


CHAT_WORDS = (
    "about", "after", "again", "all", "also", "and", "any", "are", "back", "be", "because", "been", "before", "but",
    "by", "can", "come", "could", "day", "did", "do", "does", "done", "down", "even", "first", "for", "from", "get",
    "give", "go", "going", "good", "got", "great", "had", "has", "have", "he", "her", "here", "him", "his", "how",
    "if", "in", "into", "it", "its", "just", "know", "last", "let", "like", "little", "long", "look", "made",
    "make", "many", "may", "me", "more", "most", "much", "my", "need", "new", "next", "no", "not", "now", "of",
    "off", "old", "on", "one", "only", "or", "other", "our", "out", "over", "people", "plan", "please", "put",
    "quite", "really", "right", "said", "same", "see", "she", "should", "so", "some", "soon", "still", "sure",
    "take", "than", "thanks", "that", "the", "their", "them", "then", "there", "these", "they", "thing", "think",
    "this", "those", "though", "time", "to", "today", "too", "try", "up", "us", "very", "want", "was", "way", "we",
    "week", "well", "went", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "work",
    "would", "yes", "yet", "you", "your",
)  # fmt: skip


def chat_sentence(r: random.Random, ascii_only: bool = True) -> str:
    """A sentence of 5 to 16 common words, capitalised, sometimes with a comma (always ASCII)."""
    words = [r.choice(CHAT_WORDS) for _ in range(r.randint(5, 16))]
    if len(words) > 8 and r.random() < 0.4:
        words[r.randint(3, len(words) - 3)] += ","
    return " ".join(words).capitalize() + r.choice(".....?!")


def chat_prose(size_label: str) -> BenchInput:
    """Everyday ASCII prose of about ``SIZES[size_label]`` bytes with one PII sentence per ~500 bytes."""
    return _prose(
        f"chat-ascii-{size_label}",
        SIZES[size_label],
        True,
        True,
        kind="chat-ascii",
        every=CHAT_PII_EVERY_BYTES,
        fill=chat_sentence,
    )


def blob_text(size_label: str) -> BenchInput:
    """A header line and about ``SIZES[size_label]`` bytes of base64 (of random bytes) on one line."""
    name_ = f"blob-ascii-{size_label}"
    r = _rng(name_)
    header = "attachment scan-0042.png (image/png, base64):\n"
    data = base64.b64encode(r.randbytes((SIZES[size_label] - len(header)) * 3 // 4)).decode()
    return BenchInput(name_, "blob-ascii", size_label, header + data, ())


# One row of the table in this many holds a contact: a phone number, an SSN or a card number.
TABLE_CONTACT_EVERY = 10
TABLE_HEADER = "order,date,time,amount,qty,sku,store,ref,contact"


def table_row(r: random.Random) -> str:
    """A row of an orders export: every field a number (ids, a date and time, an amount, counts, a
    reference of 10 or 12 digits), and no contact."""
    return ",".join(
        [
            digits(r, 8),
            f"20{r.randint(10, 29)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}",
            f"{r.randint(0, 99999)}.{r.randint(0, 99):02d}",
            str(r.randint(1, 250)),
            digits(r, 6),
            digits(r, 4),
            digits(r, r.choice([10, 12])),
        ]
    )


def _table_row_with_contact(r: random.Random) -> tuple[str, Planted | None]:
    row, contact = table_row(r), None
    if r.randrange(TABLE_CONTACT_EVERY) == 0:
        kind, make = r.choice([("phone", phone), ("ssn", ssn), ("credit_card", card)])
        contact = Planted(kind, make(r))
    return row + "," + (contact.value if contact else ""), contact


def table_text(size_label: str) -> BenchInput:
    """A CSV table of about ``SIZES[size_label]`` bytes whose fields are all digits: one row in ten
    names a contact by phone number, SSN or card number, and none of its other numbers is PII."""
    name_ = f"digits-ascii-{size_label}"
    return _lines(name_, "digits-ascii", size_label, _table_row_with_contact, header=TABLE_HEADER)


def clean_prose(size_label: str, ascii_only: bool = False) -> BenchInput:
    """Prose and log lines of about ``SIZES[size_label]`` UTF-8 bytes with no PII at all."""
    prefix = "clean-ascii" if ascii_only else "clean"
    return _prose(f"{prefix}-{size_label}", SIZES[size_label], with_pii=False, ascii_only=ascii_only)


# --- nested payloads --------------------------------------------------------------------------

CITIES = ["München", "Lisboa", "東京", "Zürich", "São Paulo", "Kraków", "Reykjavík", "Toronto", "Nairobi"]


def _record(r: random.Random, i: int, planted: list[Planted], ascii_only: bool = False) -> dict[str, Any]:
    """One customer record, 3 to 6 containers deep counting the payload root and its array."""

    def plant(type_id: str, value: str) -> str:
        planted.append(Planted(type_id, value))
        return value

    rec: dict[str, Any] = {
        "id": f"rec-{i:07d}",
        "created": f"{r.randint(2019, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:00Z",
        "version": f"{r.randint(1, 5)}.{r.randint(0, 30)}.{r.randint(0, 99)}",
        "active": r.random() < 0.8,
        "score": round(r.random() * 100, 3),
        "customer": {
            "name": name(r, ascii_only),
            "contact": {
                "email": plant("email", email(r)),
                "phone": plant("phone", phone(r)) if r.random() < 0.6 else None,
                "address": {"city": r.choice(CITIES), "zip": f"{r.randint(1000, 99999)}", "floor": r.randint(0, 30)},
            },
        },
        "orders": [
            {
                "order_no": f"ORD-{r.randint(2023, 2025)}-{r.randint(0, 999_999):06d}",
                "amount": round(r.random() * 500, 2),
                "items": [f"SKU-{r.randint(10_000, 99_999)}" for _ in range(r.randint(1, 3))],
                "payment": {"card": plant("credit_card", card(r))} if r.random() < 0.4 else {"method": "invoice"},
            }
            for _ in range(r.randint(1, 2))
        ],
        "tags": r.sample(["vip", "new", "churn-risk", "b2b", "newsletter", "beta"], k=r.randint(0, 3)),
    }
    if r.random() < 0.5:
        text, p = pii_sentence(r, ascii_only)
        planted.append(p)
        rec["notes"] = text + " " + filler(r, ascii_only).strip()
    else:
        rec["notes"] = filler(r, ascii_only).strip()
    audit: dict[str, Any] = {
        "actor": f"svc-{r.choice(SERVICES)}",
        "event": {
            "kind": r.choice(["create", "update", "export"]),
            "build": f"v{r.randint(1, 9)}.{r.randint(0, 40)}.0",
        },
    }
    if r.random() < 0.5:
        audit["ip"] = plant("ip_address", ipv4(r))
    rec["audit"] = json.dumps(audit, ensure_ascii=False)
    return rec


def nested_payload(size_label: str, ascii_only: bool = False) -> BenchInput:
    """A JSON payload of about ``NESTED_SIZES[size_label]`` bytes (serialised), with JSON in strings."""
    kind = "nested-ascii" if ascii_only else "nested"
    name_ = f"{kind}-{size_label}"
    nbytes = NESTED_SIZES[size_label]
    r = _rng(name_)
    planted: list[Planted] = []
    records: list[dict[str, Any]] = []
    data: dict[str, Any] = {
        "batch": {"id": f"batch-{r.randint(0, 10**6)}", "source": "crm-export", "schema": "2.3.1"},
        "records": records,
    }
    size = len(json.dumps(data, ensure_ascii=False).encode())
    i = 0
    while True:
        mark = len(planted)
        rec = _record(r, i, planted, ascii_only)
        rec_bytes = len(json.dumps(rec, ensure_ascii=False).encode()) + 2
        if size + rec_bytes > nbytes and records:
            del planted[mark:]
            break
        records.append(rec)
        size += rec_bytes
        i += 1
    text = json.dumps(data, ensure_ascii=False)
    return BenchInput(name_, kind, size_label, text, tuple(planted), data=data)


def build_inputs(
    sizes: Iterable[str] = SIZES,
    nested_sizes: Iterable[str] = NESTED_SIZES,
    ascii_variants: bool = True,
    short_sizes: Iterable[str] = SHORT_SIZES,
) -> list[BenchInput]:
    """All inputs: PII prose, clean prose (and their ASCII-only variants), log lines, everyday
    prose and base64 blobs at each size, short ASCII texts with PII, then nested."""
    sizes = list(sizes)
    out = [pii_prose(s) for s in sizes] + [clean_prose(s) for s in sizes]
    nested = list(nested_sizes)
    if ascii_variants:
        out += [pii_prose(s, ascii_only=True) for s in sizes] + [clean_prose(s, ascii_only=True) for s in sizes]
        out += [log_text(s) for s in sizes]
        out += [chat_prose(s) for s in sizes]
        out += [blob_text(s) for s in sizes]
        out += [table_text(s) for s in sizes]
    out += [short_prose(s) for s in short_sizes]
    out += [nested_payload(s) for s in nested]
    if ascii_variants:
        out += [nested_payload(s, ascii_only=True) for s in nested]
    return out


# --- checks -----------------------------------------------------------------------------------


def max_depth(value: Any) -> int:
    """Containers on the deepest path (a scalar is 0), following JSON held in strings too."""
    if isinstance(value, dict):
        return 1 + max((max_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((max_depth(v) for v in value), default=0)
    if isinstance(value, str) and value[:1] in "{[" and value:
        try:
            return max_depth(json.loads(value))
        except ValueError:
            return 0
    return 0


def check_ours(inp: BenchInput) -> list[str]:
    """Problems found when our Python engine (full catalog) scans ``inp``; empty when it is exact."""
    from mcp_pii import Engine

    engine = Engine(implementation="python")
    if inp.data is not None:
        found = Counter((d.type, d.value) for d in engine.scan(inp.data, mask=False).detections)
    else:
        found = Counter((d.type, d.value) for d in engine.detect(inp.text))
    want = Counter((p.type, p.value) for p in inp.planted)
    problems = [f"missed {t} {v!r}" for (t, v), k in (want - found).items() for _ in range(k)]
    problems += [f"unexpected {t} {v!r}" for (t, v), k in (found - want).items() for _ in range(k)]
    return problems


def cpex_findings(inp: BenchInput) -> Counter[str] | None:
    """Detections per type by cpex-pii-filter (default config) on ``inp``, or None if not installed."""
    try:
        from cpex_pii_filter.pii_filter_rust import PIIDetectorRust
    except ImportError:
        return None
    det = PIIDetectorRust({})
    if inp.data is not None:
        _, _, found = det.process_nested(inp.data, "")
    else:
        found = det.detect(inp.text)
    return Counter({t: len(v) for t, v in found.items()})


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sizes = sys.argv[1:] or list(SIZES)
    bad = 0
    for inp in build_inputs(sizes, [s for s in sizes if s in NESTED_SIZES]):
        non_ascii = sum(1 for c in inp.text if ord(c) > 127)
        problems = check_ours(inp)
        cpex = cpex_findings(inp)
        depth = f" depth={max_depth(inp.data)}" if inp.data is not None else ""
        print(
            f"{inp.name:<14} {inp.nbytes:>9} B  planted={len(inp.planted):<5} non-ascii chars={non_ascii:<6}{depth}"
            f"  ours: {'exact' if not problems else f'{len(problems)} problems'}"
            f"  cpex: {dict(cpex) if cpex is not None else 'not installed'}"
        )
        for p in problems[:10]:
            print("    ", p)
        bad += bool(problems) or (inp.kind.startswith("clean") and bool(cpex))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
