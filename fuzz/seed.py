"""Write seed corpora for the fuzz targets from tests/corpus/cases.toml into fuzz/corpus/<target>/.

    python fuzz/seed.py            # (re)creates fuzz/corpus/{detect,mask,traverse}/

detect: each corpus text as is. mask: the same texts behind a 4-byte header (strategy index, then
a type bitmask with every type on). traverse: the texts inside JSON payloads (an object, an array,
a string holding JSON) and a few hostile shapes. Files are named by their SHA-1, as libFuzzer does.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CASES = ROOT.parent / "tests" / "corpus" / "cases.toml"
STRATEGIES = 6


def texts() -> list[str]:
    """Every positive and negative text of the detection corpus."""
    data = tomllib.loads(CASES.read_text(encoding="utf-8"))
    out: list[str] = []
    for table in data.values():
        if not isinstance(table, dict):
            continue
        for case in [*table.get("positives", []), *table.get("negatives", [])]:
            out.append(case if isinstance(case, str) else case["text"])
    return out


def write(target: str, seeds: list[bytes]) -> int:
    folder = ROOT / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        (folder / hashlib.sha1(seed).hexdigest()).write_bytes(seed)  # noqa: S324 - a file name, not security
    return len(seeds)


def main() -> None:
    corpus = texts()
    joined = " ".join(corpus)
    detect = [t.encode() for t in corpus] + [joined.encode(), "Zoë 😀 naïve ".encode() + corpus[0].encode()]
    mask = [bytes([i % STRATEGIES, 0xFF, 0xFF, 0xFF]) + t for i, t in enumerate(detect)]
    payloads: list[object] = [
        {"text": joined},
        list(corpus[:40]),
        {"user": {"notes": corpus[:5], "body": json.dumps({"a": corpus[5], "b": [corpus[6]]})}},
        json.dumps({"x": corpus[7], "y": json.dumps([corpus[8]])}),
        {"a/b~c": corpus[9], "": [None, True, 1.5e300, -0, 12345678901234567890123]},
        "[" * 60 + json.dumps(corpus[10]) + "]" * 60,
    ]
    traverse = [json.dumps(p, ensure_ascii=False).encode() for p in payloads]
    traverse += [json.dumps({"t": t}, ensure_ascii=False).encode() for t in corpus]
    counts = {name: write(name, seeds) for name, seeds in (("detect", detect), ("mask", mask), ("traverse", traverse))}
    print("seeded " + ", ".join(f"fuzz/corpus/{k}: {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
