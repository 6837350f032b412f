"""Download the Davidson et al. (2017) labelled tweets for benchmarks/bench_detectors.py --corpus.

    .venv/bin/python benchmarks/fetch_corpus.py                 # into the policykit cache directory
    .venv/bin/python benchmarks/fetch_corpus.py --out data.csv

"Automated Hate Speech Detection and the Problem of Offensive Language" (ICWSM 2017): 24,783 tweets,
each labelled by CrowdFlower workers as hate speech (class 0), offensive language (1) or neither (2);
https://github.com/t-davidson/hate-speech-and-offensive-language (MIT licence). Run by a person, never
by the tests; nothing of the corpus is committed. Prints where it went, its size and SHA-256, so a
benchmark run can say which file it measured.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import urllib.request
from pathlib import Path

URL = "https://raw.githubusercontent.com/t-davidson/hate-speech-and-offensive-language/master/data/labeled_data.csv"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def default_path() -> Path:
    from policykit.cache import cache_dir

    base = cache_dir() or Path.cwd()
    return base / "davidson2017.csv"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="where to write the CSV")
    ap.add_argument("--url", default=URL)
    args = ap.parse_args()
    out = args.out or default_path()
    with urllib.request.urlopen(args.url, timeout=60) as resp:  # noqa: S310 - a fixed https URL
        data = resp.read(64 << 20)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    if not rows or not {"class", "tweet"} <= set(rows[0]):
        print(f"fetch_corpus: {args.url} is not the expected CSV (columns class, tweet)", file=sys.stderr)
        return 1
    out.write_bytes(data)
    print(f"{out}: {len(rows)} tweets, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
