"""Score saved sentiment models on IMDB reviews that the binary sample does not contain.

test.csv is read once per final model, and 1,000 reviews carry a standard error of about 1.1
points. This is a second check on reviews the binary study never read: the reviews of the
4-class ``imdb-ratings`` sample whose exact text is in neither ``imdb/train.csv`` nor
``imdb/test.csv`` (the two samples overlap: 2,286 of the ratings sample's 5,000 reviews are in
train.csv and 567 in test.csv), labelled as the Large Movie Review Dataset labels its binary
task: positive for 7 stars or more, negative for 4 or fewer (the ratings sample has no 5 or 6).

Give it the ``.keras`` files that ``hpsearch export`` scripts save (raw review strings in, one
sigmoid unit or a softmax over the classes out, class names in ``MODEL.classes.json``)::

    python benchmarks/unseen.py tutorial.keras pick.keras imdb-sample-best-trial49.keras
    python benchmarks/unseen.py --smoke                             # seconds: the harness works

It prints each model's accuracy and its standard error, and each later model's difference from
the first, review by review (the same reviews: a paired standard error), and writes
``benchmarks/results/unseen.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import platform
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
POSITIVE = {"1", "pos"}
NEGATIVE = {"0", "neg"}


@dataclass(frozen=True)
class Score:
    model: str
    reviews: int
    accuracy: float
    standard_error: float
    # Against the first model given, review by review (the same reviews, so paired): the
    # difference in accuracy and its standard error; None for the first model itself.
    minus_first: float | None = None
    minus_first_error: float | None = None


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def unseen_reviews(imdb: Path, ratings: Path) -> tuple[np.ndarray, np.ndarray]:
    """The ratings sample's reviews absent from the binary sample, once each, with 0/1 labels."""
    seen = {row["text"] for name in ("train.csv", "test.csv") for row in read(imdb / name)}
    labelled: dict[str, int] = {}
    for name in ("train.csv", "test.csv"):
        for row in read(ratings / name):
            stars = int(row["rating"])
            if row["text"] not in seen and (stars >= 7 or stars <= 4):
                labelled[row["text"]] = int(stars >= 7)
    texts = np.array(list(labelled), dtype=object)
    return texts, np.array(list(labelled.values()))


def check_binary(model_path: Path) -> None:
    """Refuse a model whose saved class names are not negative-then-positive."""
    names = [str(n) for n in json.loads(Path(f"{model_path}.classes.json").read_text())["classes"]]
    if len(names) != 2 or not (names[0] in NEGATIVE and names[1] in POSITIVE):
        raise SystemExit(f"{model_path}: classes {names}; allowed: a binary 0/1 or neg/pos model")


def correct(model_path: Path, texts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """1 where the saved model classifies a review right, else 0."""
    import keras

    check_binary(model_path)
    model = keras.models.load_model(model_path)
    out = model.predict(texts, batch_size=256, verbose=0)
    predicted = (out[:, 0] > 0.5) if out.shape[1] == 1 else (out.argmax(axis=1) == 1)
    return (predicted.astype(int) == labels).astype(float)


def scores(models: list[Path], texts: np.ndarray, labels: np.ndarray) -> list[Score]:
    """Each model's accuracy, and its paired difference from the first model's."""
    right = [correct(path, texts, labels) for path in models]
    out = []
    for path, hits in zip(models, right, strict=True):
        accuracy = float(hits.mean())
        error = math.sqrt(accuracy * (1 - accuracy) / len(hits))
        diff = hits - right[0]
        paired = (float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(len(diff))))
        first = path == models[0]
        out.append(
            Score(
                path.name,
                len(hits),
                round(accuracy, 4),
                round(error, 4),
                None if first else round(paired[0], 4),
                None if first else round(paired[1], 4),
            )
        )
    return out


def smoke_model(folder: Path, texts: np.ndarray, name: str) -> Path:
    """An untrained raw-text model saved as exports save theirs, to run the harness on."""
    import keras

    vectorize = keras.layers.TextVectorization(max_tokens=500, output_sequence_length=50)
    vectorize.adapt(texts[:200])
    inputs = keras.Input(shape=(), dtype="string")
    x = keras.layers.Embedding(500, 4)(vectorize(inputs))
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    path = folder / f"{name}.keras"
    model.save(path)
    Path(f"{path}.classes.json").write_text(json.dumps({"classes": ["0", "1"]}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, help="saved .keras models")
    parser.add_argument("--imdb", type=Path, default=SHARED / "imdb")
    parser.add_argument("--ratings", type=Path, default=SHARED / "imdb-ratings")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--smoke", action="store_true", help="an untrained model: seconds")
    args = parser.parse_args()
    from hpsearch.engine.quiet import quiet_tensorflow

    quiet_tensorflow()
    texts, labels = unseen_reviews(args.imdb, args.ratings)
    print(
        f"{len(texts)} reviews in neither imdb/train.csv nor imdb/test.csv "
        f"({labels.mean():.1%} positive)"
    )
    models = list(args.models)
    if args.smoke:
        folder = Path(tempfile.mkdtemp())
        models += [smoke_model(folder, texts, name) for name in ("smoke1", "smoke2")]
    if not models:
        parser.error("give at least one saved .keras model (or --smoke)")
    measured = scores(models, texts, labels)
    for s in measured:
        versus = ""
        if s.minus_first is not None:
            versus = f"; {s.minus_first:+.4f} ± {s.minus_first_error:.4f} against {models[0].name}"
        print(f"{s.model}: accuracy {s.accuracy:.4f} ± {s.standard_error:.4f}{versus}")
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"machine": platform.machine(), "scores": [asdict(s) for s in measured]}
    (args.out / "unseen.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
