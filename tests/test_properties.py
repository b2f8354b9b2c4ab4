"""Properties (hypothesis): the engines agree, masking is idempotent, nothing detected survives,
and nothing but the documented errors escapes.

MCP_PII_HYPOTHESIS_EXAMPLES sets the number of examples of the differential test (default 2000);
the other properties run a tenth of that (at least 50).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import string
from typing import Any

import pytest
from conftest import load_corpus, make_both, require_impl
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mcp_pii import Config, CustomPattern, Engine, PIIError
from mcp_pii.catalog import STRATEGIES, builtin_type_ids, catalog_data
from mcp_pii.pointer import resolve
from mcp_pii.traverse import is_json

EXAMPLES = int(os.environ.get("MCP_PII_HYPOTHESIS_EXAMPLES", "2000"))
SMALL = max(50, EXAMPLES // 10)

DIFFERENTIAL = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PROPERTY = settings(max_examples=SMALL, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

TYPE_IDS = list(builtin_type_ids())
CORPUS = load_corpus()


def _catalog_examples() -> list[str | dict[str, str]]:
    """Every example of every type, rule and value format in the catalog."""
    types = catalog_data()["types"]
    rules = [r for t in types for r in t.get("rules", [])] + list(catalog_data()["rules"])
    out: list[str | dict[str, str]] = [e for entry in [*types, *rules] for e in entry.get("examples", [])]
    return out + [f["example"] for t in types for f in t.get("formats", [])]


EXAMPLES_ = _catalog_examples()
VALUES = sorted(
    {c["value"] for s in CORPUS.values() for c in s["positives"]}
    | {e if isinstance(e, str) else e["value"] for e in EXAMPLES_}
)
SENTENCES = sorted(
    {c["text"] for s in CORPUS.values() for c in s["positives"]} | {e["text"] for e in EXAMPLES_ if isinstance(e, dict)}
)
NEAR_MISSES = sorted({n if isinstance(n, str) else n["text"] for s in CORPUS.values() for n in s["negatives"]})
LABELS = [
    "SSN ", "ssn: ", "DOB: ", "born on ", "Passport No: ", "DL# ", "Account: ", "acct#", "MRN: ",
    "Patient ID: ", "Phone: ", "tel ", "token=", "api_key: ", "Bearer ", "IBAN ", '"dob": "', "secret=",
    "-----BEGIN RSA PRIVATE KEY-----\n", "\n-----END RSA PRIVATE KEY-----",
    "passport_number: ", "patientMrn=", "OPENAI_API_KEY=", "x-api-key: ", "my social security number is ",
    "dl=", "password = ", "db_pass: ", "'dob': '", "<genericToken>\n  ", 'AwsSecretAccessKey: "', "BSN: ",
    "drivers_license: ", "Birthday - ", "passport # ", "MRN is ", "publicToken=", "LLM_SECRET_NAME=",
]  # fmt: skip
# Keys of objects, some of them labels (keys are labels of their values in scans).
KEYS = [
    "mrn", "passport_number", "dob", "password", "api_key", "ssn", "phone", "patient", "passport", "number",
    "id", "bsn", "drivers_license", "account_number", "token", "secret_name", "phones", "date_of_birth",
]  # fmt: skip
GLUE = [" ", "  ", "\t", "\n", ",", ".", ":", "-", "/", "_", "@", "#", "(", ")", '"', "'", "=", "é", "😀", "\u200d"]

# Config variations under which the engines must agree as well.
CONFIGS = {
    "default": Config(),
    "keyed": Config(
        hash_key="k3y",
        default_strategy="redact",
        strategies={"ssn": "partial", "email": "hash", "phone": "tokenize"},
        redaction_text="$1 ░",
        allow_values=["jane.doe@example.com", "4111 1111 1111 1111"],
        allow_patterns=[r"[0-9]{3}-[0-9]{2}-6789", "AKIA[A-Z0-9]+"],
        custom_patterns=[
            CustomPattern(id="ticket", pattern=r"\b(?i:ticket)[ #-]?(?P<value>[0-9]{4,8})\b", partial="digits"),
            CustomPattern(id="hexish", pattern=r"\b[a-f0-9]{8}\b"),
        ],
    ),
    "subset": Config(enabled_types=["ssn", "phone", "credit_card", "api_key", "jwt"], default_strategy="partial"),
}


def _mutate(value: str, data: st.DataObject) -> str:
    """A near miss of ``value``: one character changed, dropped or added."""
    if not value:
        return value
    i = data.draw(st.integers(0, len(value) - 1))
    kind = data.draw(st.sampled_from(["change", "drop", "add"]))
    char = data.draw(st.sampled_from(string.digits + string.ascii_letters + "-. @:"))
    if kind == "change":
        return value[:i] + char + value[i + 1 :]
    if kind == "drop":
        return value[:i] + value[i + 1 :]
    return value[:i] + char + value[i:]


@st.composite
def near_miss(draw: st.DrawFn) -> str:
    return _mutate(draw(st.sampled_from(VALUES)), draw(st.data()))


FRAGMENT = st.one_of(
    st.sampled_from(VALUES),
    st.sampled_from(SENTENCES),
    st.sampled_from(NEAR_MISSES),
    near_miss(),
    st.sampled_from(LABELS),
    st.sampled_from(GLUE),
    st.text(max_size=6),
    st.text(alphabet=string.digits + " -.()+", max_size=12),
    st.text(alphabet=string.ascii_letters + string.digits + "_-", max_size=12),
)
TEXT = st.lists(FRAGMENT, max_size=10).map("".join)
# Prose: the same fragments, with words or blank lines between them, as values sit in real text.
PROSE = st.lists(st.tuples(FRAGMENT, st.sampled_from(["; ", " and ", ". Then ", "\n\n", " | "])), max_size=8).map(
    lambda parts: "".join(f + sep for f, sep in parts)
)
STRATEGY = st.sampled_from(STRATEGIES)
TYPES = st.one_of(st.none(), st.lists(st.sampled_from(TYPE_IDS), max_size=4, unique=True))


@st.composite
def embedded(draw: st.DrawFn, inner: st.SearchStrategy[Any]) -> str:
    """A JSON text holding ``inner`` as an object or array, compact or spaced."""
    value = draw(st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)))
    indent = draw(st.sampled_from([None, 0, 2]))
    return draw(st.sampled_from(["", " ", "\n"])) + json.dumps(value, indent=indent, ensure_ascii=draw(st.booleans()))


LEAF = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.sampled_from([191365, 123456789, 4155550132, 180774955, -12345678, 2**63, 2**64 - 1, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
)
JSON = st.recursive(
    LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=5), st.sampled_from(["a/b", "~", "~1", ""]), st.sampled_from(KEYS)),
            children,
            max_size=4,
        ),
        embedded(children),
    ),
    max_leaves=12,
)


_ENGINES: dict[tuple[str, str], Engine] = {}


def engine_for(impl: str, config: str = "default") -> Engine:
    """A cached engine (building one per example would dominate the run time)."""
    key = (impl, config)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(CONFIGS[config], implementation=impl)  # type: ignore[arg-type]
    return _ENGINES[key]


def rebuild(text: str, detections: list[Any], render: Any) -> str:
    out, pos = [], 0
    for d in detections:
        out.append(text[pos : d.start])
        out.append(render(d))
        pos = d.end
    out.append(text[pos:])
    return "".join(out)


def token_spans(text: str, detections: list[Any], render: Any) -> list[tuple[int, int]]:
    """Where each detection's replacement lies in ``rebuild(text, detections, render)``."""
    spans, shift = [], 0
    for d in detections:
        size = len(render(d))
        spans.append((d.start + shift, d.start + shift + size))
        shift += size - (d.end - d.start)
    return spans


# --- differential: the two engines agree ---------------------------------------------------------


@pytest.fixture
def engines() -> dict[str, tuple[Engine, Engine]]:
    require_impl("rust")
    return {name: (engine_for("rust", name), engine_for("python", name)) for name in CONFIGS}


@DIFFERENTIAL
@given(text=TEXT, types=TYPES, config=st.sampled_from(sorted(CONFIGS)))
def test_engines_agree_on_text(engines: dict[str, tuple[Engine, Engine]], text: str, types: Any, config: str) -> None:
    rust, python = engines[config]
    if types is not None:
        types = [t for t in types if t in python.types]
    assert _rules(rust.detect(text, types)) == _rules(python.detect(text, types))
    for strategy in (None, *STRATEGIES):
        assert rust.mask(text, strategy, types) == python.mask(text, strategy, types), strategy


@settings(DIFFERENTIAL, max_examples=max(50, EXAMPLES // 4))
@given(data=JSON, strategy=st.one_of(st.none(), STRATEGY), mask=st.booleans(), config=st.sampled_from(sorted(CONFIGS)))
def test_engines_agree_on_nested(
    engines: dict[str, tuple[Engine, Engine]], data: Any, strategy: str | None, mask: bool, config: str
) -> None:
    rust, python = engines[config]
    got, want = rust.scan(data, strategy, None, mask), python.scan(data, strategy, None, mask)
    assert got == want
    assert _rules(got.detections) == _rules(want.detections)


# Texts that start like JSON and are nested past max_depth: JSON at any depth (the depth error) or
# not quite (scanned as text), from mutating deep JSON.
DEEP_INNER = st.sampled_from(['"a@example.com"', "1", '{"k": "SSN 123-45-6789"}', "[]", "{}", 'true, "x"', "null"])


@st.composite
def deep_text(draw: st.DrawFn) -> str:
    n = draw(st.integers(60, 140))
    text = "[" * n + draw(DEEP_INNER) + "]" * draw(st.sampled_from([n, n - 1, n + 1]))
    if draw(st.booleans()):
        text = _mutate(text, draw(st.data()))
    return text + draw(st.sampled_from(["", " ", " mail b@example.com", "\n"]))


@settings(DIFFERENTIAL, max_examples=max(50, EXAMPLES // 4))
@given(text=deep_text(), wrap=st.booleans())
def test_engines_agree_on_deep_texts(engines: dict[str, tuple[Engine, Engine]], text: str, wrap: bool) -> None:
    # Both decide alike whether a string nested past max_depth is JSON (the depth error) or text.
    rust, python = engines["default"]
    data: Any = {"s": text} if wrap else text
    outcomes = []
    for engine in (rust, python):
        try:
            outcomes.append(engine.scan(data))
        except PIIError as exc:
            outcomes.append(type(exc).__name__ + str(exc))  # type: ignore[arg-type]
    assert outcomes[0] == outcomes[1]


@PROPERTY
@given(data=JSON, spaced=st.booleans(), cut=st.integers(0, 40), glue=st.sampled_from(["", "x", ",", "]", "}", '"']))
def test_json_syntax_check_agrees_with_the_parser(data: Any, spaced: bool, cut: int, glue: str) -> None:
    # traverse.is_json (which decides for texts too deep to parse) against json.loads, on shallow
    # texts: whole JSON documents, and the same cut short or with a character inserted.
    text = json.dumps(data, indent=1 if spaced else None)
    for candidate in (text, text[:-cut] if cut else text, text[: len(text) // 2] + glue + text[len(text) // 2 :]):
        try:
            parsed = json.loads(candidate, parse_constant=lambda name: 1 / 0)
            expected = isinstance(parsed, (dict, list))
        except (ValueError, ZeroDivisionError):
            expected = False
        assert is_json(candidate) == expected, candidate


def _rules(detections: list[Any]) -> list[tuple[str, int, str]]:
    """What equality of detections leaves out: the rule of each (with its type and start)."""
    return [(d.type, d.start, d.rule) for d in detections]


def test_both_engines_fixture(both_engines: Any) -> None:
    rust, python = both_engines(Config(default_strategy="tokenize"))
    assert (rust.implementation, python.implementation) == ("rust", "python")
    text = "a@example.com b@example.com a@example.com"
    assert rust.mask(text) == python.mask(text)
    assert make_both()[0].types == TYPE_IDS


# --- properties of each engine -------------------------------------------------------------------


@PROPERTY
@given(text=TEXT)
def test_detections_are_sorted_disjoint_and_exact(engine_impl: str, text: str) -> None:
    engine = engine_for(engine_impl)
    found = engine.detect(text)
    end = 0
    for d in found:
        assert text[d.start : d.end] == d.value
        assert end <= d.start < d.end
        end = d.end
    assert engine.mask(text).detections == found


@PROPERTY
@given(text=PROSE, strategy=st.sampled_from([s for s in STRATEGIES if s != "remove"]))
def test_masking_twice_changes_nothing_more(engine_impl: str, text: str, strategy: str) -> None:
    # Holds for every strategy but remove, partial included, on prose. Where values touch each
    # other (see GLUED below) it does not always hold; remove joins what stood around a value, so
    # a label can meet a value that was not its own (GLUED "remove-splices-a-label-onto-a-value").
    # Nor where partial keeps the IPv4 tail of an IPv6 address (GLUED "partial-keeps-an-ipv4-tail").
    assume(strategy != "partial" or not IPV4_AFTER_COLON.search(text))
    engine = engine_for(engine_impl)
    once = engine.mask(text, strategy).text
    assert engine.mask(once, strategy).text == once


# An IPv6 address written with an IPv4 tail (::ffff:192.0.2.1).
IPV4_AFTER_COLON = re.compile(r":[0-9]{1,3}(?:\.[0-9]{1,3}){3}")

# Texts where masking twice still finds more, each with the reason. The neighbour rule (DESIGN
# rule 3b) covers a value held back by a character of a detection next to it; these are the cases
# it does not cover.
GLUED = [
    pytest.param(
        "Zentrale +49 (0)30 1234567 665-43-2109",
        "label",
        id="phone-runs-into-the-next-number",
        # The phone pattern's groups run on into the SSN; the whole has too many digits and is
        # dropped. Once the SSN is masked, the phone stands alone and is found.
    ),
    pytest.param(
        "+33 1 23 45 67 89 665-43-2109",
        "partial",
        id="partial-frees-an-overlapped-phone",
        # "+33 1 23 45 67 89 665" overlaps the SSN and loses; after masking, the phone is found.
    ),
    pytest.param(
        "DL# D1234567 0222222222222",
        "remove",
        id="remove-splices-a-label-onto-a-value",
        # Removing the licence number leaves "DL#  0222222222222", a licence number of its own.
    ),
    pytest.param(
        "::ffff:0:192.0.2.1; ",
        "partial",
        id="partial-keeps-an-ipv4-tail",
        # The tail rule keeps the last 4 of 11 significant characters, "2.0.2.1": an IPv4
        # address of its own once "19" is masked, found and masked again.
    ),
]


# Texts where masking twice once found more, now fixed, with the masked text and the fix.
UNGLUED = [
    pytest.param(
        "-----BEGIN DSA PRIVATE KEY-----\tMIIBuwIBAAKBgQFAKE\t-----END DSA PRIVATE KEY-----x@example.io",
        "[PRIVATE_KEY][EMAIL]",
        id="email-glued-to-a-key-block",
        # The email pattern's leftmost match "KEY-----x@example.io" overlapped the key and was
        # dropped, and the email inside it was found only once the key was masked. An email's
        # local part now never holds two dashes or dots in a row.
    ),
    pytest.param(
        "-----BEGIN RSA PRIVATE KEY-----\n\n\n+1 (212) 555-0147; ",
        "[PRIVATE_KEY]\n\n\n[PHONE]; ",
        id="phone-after-a-cut-key-block",
        # Found by the property above: a key block without its END line read the phone's "+1" on
        # the next line as a body line, the phone overlapped the key and lost, and "(212)
        # 555-0147" was found once the key was masked. A cut block now keeps only lines that
        # cannot be anything else (base64 of 16 characters or more, encryption headers).
    ),
]


@pytest.mark.parametrize(("text", "masked"), UNGLUED)
def test_masking_twice_where_values_once_touched(engine_impl: str, text: str, masked: str) -> None:
    engine = engine_for(engine_impl)
    once = engine.mask(text).text
    assert once == masked
    assert engine.mask(once).text == once


@pytest.mark.xfail(strict=True, reason="open problem: masking is not idempotent where values touch")
@pytest.mark.parametrize(("text", "strategy"), GLUED)
def test_masking_twice_where_values_touch(engine_impl: str, text: str, strategy: str) -> None:
    engine = engine_for(engine_impl)
    once = engine.mask(text, strategy).text
    assert engine.mask(once, strategy).text == once


@PROPERTY
@given(text=TEXT)
def test_no_detected_value_survives_label_masking(engine_impl: str, text: str) -> None:
    engine = engine_for(engine_impl)
    result = engine.mask(text, "label")
    # Every span is replaced by its label and the rest is copied verbatim ...
    assert result.text == rebuild(text, result.detections, lambda d: f"[{d.type.upper()}]")
    # ... and the masked text gives none of the detected values back, except where a value glued
    # to a detected one becomes one once its neighbour is a token (the open problem of
    # test_masking_twice_where_values_touch: "(415) 555-0132" glued to a Slack URL).
    values = {d.value for d in result.detections}
    tokens = token_spans(text, result.detections, lambda d: f"[{d.type.upper()}]")
    back = [d for d in engine.detect(result.text) if d.value in values]
    assert all(any(d.start == end or d.end == start for start, end in tokens) for d in back), back


@PROPERTY
@given(text=TEXT, strategy=STRATEGY)
def test_scan_of_a_plain_string_is_mask(engine_impl: str, text: str, strategy: str) -> None:
    engine = engine_for(engine_impl)
    if text.lstrip(" \t\n\r")[:1] in ("{", "["):
        return
    scanned = engine.scan(text, strategy)
    masked = engine.mask(text, strategy)
    assert scanned.data == masked.text
    assert [(d.type, d.start, d.end, d.value) for d in scanned.detections] == [
        (d.type, d.start, d.end, d.value) for d in masked.detections
    ]
    assert {d.path for d in scanned.detections} <= {""}


@PROPERTY
@given(data=JSON, mask=st.booleans())
def test_scan_reports_the_same_with_or_without_masking(engine_impl: str, data: Any, mask: bool) -> None:
    engine = engine_for(engine_impl)
    masked, reported = engine.scan(data), engine.scan(data, mask=False)
    assert masked.detections == reported.detections
    assert reported.data is data
    for d in reported.detections:
        assert d.path == "" or d.path.startswith("/")
        assert d.start < d.end
        # The pointers resolve, in the input and (to the masked string) in the output.
        found = resolve(data, d.path, d.embedded)
        assert str(found)[d.start : d.end] == d.value
        assert isinstance(resolve(masked.data, d.path, d.embedded), str)


# --- nothing but the documented errors -----------------------------------------------------------

ANY_TEXT = st.one_of(TEXT, st.text(alphabet=st.characters(codec=None, categories=None), max_size=30))
ODD_VALUES = st.one_of(
    st.binary(max_size=5),
    st.sets(st.integers(), max_size=2),
    st.just(math.nan),
    st.just(-math.inf),
    st.complex_numbers(max_magnitude=2),
    st.builds(object),
    st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=2),
)
ANY_JSON = st.recursive(
    st.one_of(LEAF, ODD_VALUES),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(), st.none()), children, max_size=3),
        embedded(st.one_of(TEXT, st.integers(), st.none())),
    ),
    max_leaves=8,
)
ANY_STRATEGY = st.one_of(st.none(), STRATEGY, st.text(max_size=8), st.integers())
ANY_TYPES = st.one_of(
    TYPES, st.lists(st.one_of(st.sampled_from(TYPE_IDS), st.text(max_size=8), st.integers()), max_size=3), st.text()
)


def _only_documented(call: Any) -> None:
    with contextlib.suppress(PIIError):
        call()


@PROPERTY
@given(
    text=st.one_of(ANY_TEXT, ODD_VALUES, st.integers(), st.none()),
    strategy=ANY_STRATEGY,
    types=ANY_TYPES,
)
def test_text_calls_raise_only_documented_errors(engine_impl: str, text: Any, strategy: Any, types: Any) -> None:
    engine = engine_for(engine_impl)
    _only_documented(lambda: engine.detect(text, types))
    _only_documented(lambda: engine.mask(text, strategy, types))


@PROPERTY
@given(data=ANY_JSON, strategy=ANY_STRATEGY, types=ANY_TYPES, mask=st.booleans())
def test_scan_raises_only_documented_errors(engine_impl: str, data: Any, strategy: Any, types: Any, mask: bool) -> None:
    engine = engine_for(engine_impl)
    _only_documented(lambda: engine.scan(data, strategy, types, mask))


@PROPERTY
@given(text=ANY_TEXT, limit=st.integers(1, 64))
def test_limits_raise_only_documented_errors(engine_impl: str, text: str, limit: int) -> None:
    key = (engine_impl, f"limit-{limit}")
    if key not in _ENGINES:
        config = Config(max_text_bytes=limit, max_depth=2, max_nodes=8)
        _ENGINES[key] = Engine(config, implementation=engine_impl)  # type: ignore[arg-type]
    engine = _ENGINES[key]
    _only_documented(lambda: engine.mask(text))
    _only_documented(lambda: engine.scan([text, {"a": [text, json.dumps([[text]])]}]))
