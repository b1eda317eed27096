"""The catalogue of bad input (docs/errors.md): each row's exit status, its one-line message,
and a store that comes out unchanged. The doc and these cases are checked against each other."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hpsearch.cli.main import main
from tests.conftest import REPO

BASE = 'name = "base"\nspace = "lstm_dropout"\nstorage = "sqlite:///store.db"\n'
TINY = (
    "[dataset]\nsamples = 60\nnum_words = 60\nmaxlen = 6\n"
    "[selection]\nfinalists = 0\n"
    "[budget]\nn_trials = 1\nmax_epochs = 1\n[ranges]\nbatch_size = [64]\n"
)

BAD_SUGGEST = """
from hpsearch.knobs import TRAINING_BASELINE
BASELINE = dict(TRAINING_BASELINE)
def suggest(trial):
    return {"x": 1 / 0}
def build_model(params, data):
    return None
"""
BAD_BUILD = """
from hpsearch.knobs import TRAINING_BASELINE
BASELINE = dict(TRAINING_BASELINE)
def suggest(trial):
    return {"w": trial.suggest_int("w", 1, 3), **TRAINING_BASELINE}
def build_model(params, data):
    return "a model"
"""

# (what is wrong, study file text or None, command line, exit status, message)
CASES: list[tuple[str, str | None, list[str], int, str]] = [
    ("malformed TOML", BASE + "[budget\n", ["run", "s.toml"], 2, "s.toml: not valid TOML"),
    (
        "a typo in a key",
        BASE + "[budget]\nn_trails = 3\n",
        ["run", "s.toml"],
        2,
        "s.toml: unknown key 'budget.n_trails'; allowed: max_epochs, n_trials, timeout",
    ),
    (
        "a value of the wrong type",
        BASE + '[budget]\nn_trials = "ten"\n',
        ["run", "s.toml"],
        2,
        "s.toml: budget.n_trials = 'ten' has the wrong type; allowed: int",
    ),
    (
        "an impossible number",
        BASE + "[budget]\nmax_epochs = 0\n",
        ["run", "s.toml"],
        2,
        "s.toml: budget.max_epochs = 0 is too small; allowed: >= 1",
    ),
    (
        "a number no store's integer column holds",
        BASE + "[budget]\nn_trials = 100000000000000000000000\n",
        ["run", "s.toml"],
        2,
        "s.toml: budget.n_trials = 100000000000000000000000 is out of range; allowed: at most "
        "2147483647",
    ),
    (
        "a seed NumPy cannot take",
        BASE + "seed = -3\n",
        ["run", "s.toml"],
        2,
        "s.toml: seed = -3 is out of range; allowed: 0 to 2147483647",
    ),
    (
        "a study name with a newline in it",
        BASE.replace('name = "base"', 'name = "base\\nline"'),
        ["run", "s.toml"],
        2,
        "s.toml: name = 'base\\nline' holds a control character",
    ),
    (
        "a threshold that is not a finite number",
        BASE + "[tradeoff]\nmax_gap = nan\n",
        ["run", "s.toml"],
        2,
        "s.toml: tradeoff.max_gap = nan is not a finite number; allowed: a float",
    ),
    (
        "an unknown space",
        BASE.replace("lstm_dropout", "lstm_dropuot"),
        ["run", "s.toml"],
        2,
        "space 'lstm_dropuot' is unknown; allowed: bag_of_words, cnn, cnn_lstm, lstm_dropout, "
        "lstm_l1l2, ngrams, pooled",
    ),
    (
        "a negative number of finalists to re-evaluate",
        BASE + "[selection]\nfinalists = -1\n",
        ["run", "s.toml"],
        2,
        "s.toml: selection.finalists = -1 is too small; allowed: >= 0",
    ),
    (
        "a data knob both fixed and narrowed",
        BASE.replace("lstm_dropout", "bag_of_words")
        + "[dataset]\nsamples = 60\nmaxlen = 8\n[ranges]\nmaxlen = [8, 16]\n",
        ["run", "s.toml"],
        2,
        "s.toml: dataset.maxlen = 8 fixes what ranges.maxlen narrows; allowed: one of them "
        "(space 'bag_of_words' searches maxlen)",
    ),
    (
        "an unknown sampler",
        BASE + '[sampler]\nname = "bayes"\n',
        ["run", "s.toml"],
        2,
        "s.toml: sampler.name = 'bayes' is unknown; allowed: tpe, random, cmaes, qmc, gp, nsga2",
    ),
    (
        "an unknown pruner",
        BASE + '[pruner]\nname = "asha"\n',
        ["run", "s.toml"],
        2,
        "s.toml: pruner.name = 'asha' is unknown; allowed: median, percentile, successive_halving",
    ),
    (
        "an option the sampler does not take",
        BASE + '[sampler]\nname = "tpe"\nn_startup = 3\n',
        ["run", "s.toml"],
        2,
        "s.toml: unknown key 'sampler.n_startup' for sampler 'tpe'",
    ),
    (
        "a pruner setting out of range",
        BASE + '[pruner]\nname = "percentile"\npercentile = 150\n',
        ["run", "s.toml"],
        2,
        "s.toml: [pruner] percentile = 150",
    ),
    (
        "a range with low > high",
        BASE + "[ranges]\ndropout = { low = 0.6, high = 0.2 }\n",
        ["run", "s.toml"],
        2,
        "s.toml: ranges.dropout has low = 0.6 > high = 0.2; allowed: low <= high",
    ),
    (
        "a range for a parameter the space lacks",
        BASE + "[ranges]\nunits = [3]\n",
        ["run", "s.toml"],
        2,
        "s.toml: ranges.units: space 'lstm_dropout' has no parameter 'units'",
    ),
    (
        "a validation split outside (0, 1)",
        BASE + "[dataset]\nvalidation_split = 1.5\n",
        ["run", "s.toml"],
        2,
        "s.toml: dataset.validation_split = 1.5 is out of range",
    ),
    (
        "an unknown objective metric",
        BASE + '[objective]\nmetric = "val_auc"\n',
        ["run", "s.toml"],
        2,
        "s.toml: objective.metric = 'val_auc' is unknown; allowed: val_loss, val_accuracy",
    ),
    (
        "two objectives with a pruner",
        BASE + '[objective]\nmulti = true\n[pruner]\nname = "median"\n',
        ["run", "s.toml"],
        2,
        "Optuna cannot prune multi-objective studies",
    ),
    (
        "two objectives and a gap penalty",
        BASE + '[objective]\nmulti = true\n[pruner]\nname = "none"\n[tradeoff]\npenalize = true\n',
        ["run", "s.toml"],
        2,
        "tradeoff.penalize = true with objective.multi = true: the gap is already",
    ),
    (
        "a missing data file",
        BASE + '[dataset]\nkind = "csv"\npath = "nope.csv"\n',
        ["run", "s.toml"],
        2,
        "nope.csv: no such data file",
    ),
    (
        "a data path naming a folder",
        BASE + '[dataset]\nkind = "csv"\npath = "runs"\n',
        ["run", "s.toml"],
        2,
        "runs is a folder; allowed: a CSV file, e.g. ",
    ),
    (
        "a folder dataset's path naming a file",
        BASE + '[dataset]\nkind = "directory"\npath = "s.toml"\n',
        ["run", "s.toml"],
        2,
        "s.toml is a file; allowed: a folder with one subfolder per class under train/",
    ),
    (
        "an empty data file",
        BASE + '[dataset]\nkind = "csv"\npath = "empty.csv"\n',
        ["run", "s.toml"],
        2,
        "empty.csv: no column 'text' (dataset.text_column); columns found: none (empty file)",
    ),
    (
        "a label column with one class",
        BASE + '[dataset]\nkind = "csv"\npath = "stars.csv"\n',
        ["run", "s.toml"],
        2,
        "stars.csv: label column 'label' holds one class only ('5'); allowed: at least two classes",
    ),
    (
        "a class with too few rows for the validation split",
        BASE + '[dataset]\nkind = "csv"\npath = "rare.csv"\n',
        ["run", "s.toml"],
        2,
        "class 'meh' has 2 labelled row(s), which validation_split = 0.2 cannot put on both "
        "sides of the split; allowed: at least 3 rows of each class",
    ),
    (
        "a test file with a label the training file does not have",
        BASE + '[dataset]\nkind = "csv"\npath = "rare.csv"\ntest_path = "stars.csv"\n',
        ["run", "s.toml"],
        2,
        "stars.csv: label column 'label' has value '5', which is not a class of the training "
        "data; allowed: bad, good, meh",
    ),
    (
        "a text column that is missing",
        BASE + '[dataset]\nkind = "csv"\npath = "notext.csv"\n',
        ["run", "s.toml"],
        2,
        "notext.csv: no column 'text' (dataset.text_column); columns found: 'review', 'label'",
    ),
    (
        "a CSV separated by semicolons",
        BASE + '[dataset]\nkind = "csv"\npath = "semicolons.csv"\n',
        ["run", "s.toml"],
        2,
        "semicolons.csv: no column 'text' (dataset.text_column); columns found: 'text;label'; "
        "the header is separated by semicolons: allowed: commas (save it as CSV)",
    ),
    (
        "an empty --storage",
        BASE + TINY,
        ["run", "s.toml", "--storage", ""],
        2,
        "s.toml: storage = '' is not a database URL; allowed: e.g. 'sqlite:///hpsearch.db' or "
        "'postgresql+psycopg://user@host/db'",
    ),
    (
        "a column named twice in the header",
        BASE + '[dataset]\nkind = "csv"\npath = "twice.csv"\n',
        ["run", "s.toml"],
        2,
        "twice.csv: the header names column 'text' (dataset.text_column) 2 times; allowed: each "
        "name once",
    ),
    (
        "the text column named as the label column",
        BASE + '[dataset]\nkind = "csv"\npath = "stars.csv"\nlabel_column = "text"\n',
        ["run", "s.toml"],
        2,
        "s.toml: dataset.label_column = 'text' is also the text column",
    ),
    (
        "a storage path in a folder that does not exist",
        BASE.replace("sqlite:///store.db", "sqlite:///nowhere/x.db"),
        ["run", "s.toml"],
        1,
        "storage 'sqlite:///nowhere/x.db': folder nowhere does not exist",
    ),
    (
        "a storage URL pointing at a file that is not a database",
        BASE,
        ["run", "s.toml", "--storage", "sqlite:///notes.txt"],
        1,
        "storage 'sqlite:///notes.txt': notes.txt is not an SQLite database",
    ),
    (
        "a storage URL pointing at a folder",
        BASE,
        ["run", "s.toml", "--storage", "sqlite:///runs"],
        1,
        "storage 'sqlite:///runs': runs is a folder; allowed: a database file in it, "
        "e.g. 'sqlite:///runs/hpsearch.db'",
    ),
    (
        "a storage that is not a URL",
        BASE.replace("sqlite:///store.db", "store.db"),
        ["run", "s.toml"],
        2,
        "s.toml: storage = 'store.db' is not a database URL",
    ),
    (
        "an in-memory SQLite storage",
        BASE.replace("sqlite:///store.db", "sqlite:///:memory:"),
        ["run", "s.toml"],
        1,
        "storage 'sqlite:///:memory:' is an in-memory SQLite database",
    ),
    (
        "an unreachable PostgreSQL server",
        None,
        ["studies", "--storage", "postgresql+psycopg://nobody@127.0.0.1:1/none"],
        1,
        "storage 'postgresql+psycopg://nobody@127.0.0.1:1/none' cannot be opened",
    ),
    (
        "an unknown study name",
        None,
        ["trials", "nope", "--storage", "sqlite:///store.db"],
        1,
        "no study 'nope' in sqlite:///store.db; studies there: base",
    ),
    (
        "a study name reused with a different space",
        BASE.replace("lstm_dropout", "lstm_l1l2") + TINY,
        ["run", "s.toml"],
        1,
        "study 'base' in sqlite:///store.db was created with space 'lstm_dropout', not 'lstm_l1l2'",
    ),
    (
        "--data pointing at an unsupported file",
        BASE,
        ["run", "s.toml", "--data", "x.parquet"],
        2,
        "--data 'x.parquet': not a directory, .csv or .npz file",
    ),
    (
        "a non-numeric flag",
        BASE,
        ["run", "s.toml", "--trials", "many"],
        2,
        "Invalid value for '--trials': 'many' is not a valid integer",
    ),
    (
        "a dashboard on a non-loopback host without --allow-remote",
        None,
        ["dashboard", "--storage", "sqlite:///store.db", "--host", "0.0.0.0"],
        2,
        "--host 0.0.0.0 would expose the dashboard beyond this machine",
    ),
    (
        "a space whose suggest() raises",
        BASE.replace('"lstm_dropout"', '"bad_suggest.py"'),
        ["run", "s.toml"],
        2,
        "space 'bad_suggest': suggest() raised ZeroDivisionError: division by zero; fix the "
        "space's code",
    ),
    (
        "a space module that calls sys.exit() while importing",
        BASE.replace('"lstm_dropout"', '"exits.py"'),
        ["run", "s.toml"],
        2,
        "exits.py: fails to import: SystemExit: 3",
    ),
    (
        "a space whose build_model() returns no model",
        BASE.replace('"lstm_dropout"', '"bad_build.py"') + TINY.split("[ranges]")[0],
        ["run", "s.toml"],
        2,
        "space 'bad_build': build_model() returned str; it must return a keras.Model",
    ),
    (
        "a range reaching outside the space's own bounds",
        BASE + TINY + "dropout = { low = 1.5, high = 2.0 }\n",
        ["run", "s.toml"],
        2,
        "s.toml: ranges.dropout = {low = 1.5, high = 2.0} reaches outside what space "
        "'lstm_dropout' declares; allowed: within [0, 0.6]",
    ),
    (
        "a choice the space does not offer",
        BASE + TINY.replace("batch_size = [64]", "batch_size = [0]"),
        ["run", "s.toml"],
        2,
        "s.toml: ranges.batch_size has choice 0 outside what space 'lstm_dropout' declares; "
        "allowed: {32, 64, 128, 256}",
    ),
    (
        "resuming a study with other settings",
        BASE + TINY.replace("max_epochs = 1", "max_epochs = 2"),
        ["run", "s.toml"],
        2,
        "study 'base' in sqlite:///store.db was created with other settings "
        "(budget.max_epochs: 1 -> 2); resume it with the same study file",
    ),
    (
        "a listing of a database that is not an Optuna store",
        None,
        ["studies", "--storage", "sqlite:///plain.db"],
        1,
        "storage 'sqlite:///plain.db': plain.db is not an hpsearch/Optuna store (no Optuna "
        "tables); allowed: a store written by `hpsearch run` or Optuna (nothing was changed)",
    ),
    (
        "an unknown database driver",
        None,
        ["studies", "--storage", "foo://host/db"],
        1,
        "storage 'foo://host/db' cannot be used: Can't load plugin: sqlalchemy.dialects:foo",
    ),
    (
        "an export into a folder that does not exist",
        None,
        ["export", "base", "--storage", "sqlite:///store.db", "-o", "missing/x.py"],
        2,
        "-o missing/x.py: folder missing does not exist; create it first",
    ),
    (
        "an export over an existing file",
        None,
        ["export", "base", "--storage", "sqlite:///store.db", "-o", "s.toml"],
        2,
        "s.toml exists; pass --force to overwrite it",
    ),
    (
        "an ensemble export of a study without raw text",
        None,
        ["export", "base", "--storage", "sqlite:///store.db", "-o", "e.py", "--ensemble", "2"],
        2,
        "--ensemble needs a text dataset (csv or directory); study 'base' has 'synthetic': "
        "the members meet at the raw review string",
    ),
    (
        "a pruner option that fails at its first decision",
        BASE + '[pruner]\nname = "hyperband"\nreduction_factor = 1\n',
        ["run", "s.toml"],
        2,
        "s.toml: [pruner] hyperband with reduction_factor = 1 fails when it first decides",
    ),
    (
        "texts that hold no word",
        BASE + '[dataset]\nkind = "csv"\npath = "nowords.csv"\n',
        ["run", "s.toml"],
        2,
        "nowords.csv, column 'text': 0 of 20 texts hold a word (the rest are empty or punctuation)",
    ),
    ("an empty --data", BASE, ["run", "s.toml", "--data", ""], 2, "--data '' is empty"),
    (
        "an empty -o",
        None,
        ["export", "base", "--storage", "sqlite:///store.db", "-o", ""],
        2,
        "-o '' is empty; allowed: a file path",
    ),
    (
        "a trial number out of range",
        None,
        ["export", "base", "--storage", "sqlite:///store.db", "--trial", "99"],
        2,
        "trial 99 is out of range; study 'base' has trials 0..0",
    ),
    (
        "a Slurm time limit Slurm would not read",
        BASE + TINY,
        ["submit", "s.toml", "--array", "2", "--time", "1h", "--dry-run"],
        2,
        "--time '1h': allowed: Slurm's formats, e.g. 90, 1:30:00, 2-00:00:00",
    ),
    (
        "a Slurm partition name with a space",
        BASE + TINY,
        ["submit", "s.toml", "--array", "2", "--partition", "gpu nodes"],
        2,
        "--partition 'gpu nodes': allowed: a partition name (letters, digits, '_', '.', '-')",
    ),
    (
        "a sampler switch that is not true or false",
        BASE + '[sampler]\nname = "tpe"\ngroup = "yes"\n',
        ["run", "s.toml"],
        2,
        "s.toml: sampler.group = 'yes' has the wrong type; allowed: true or false",
    ),
    (
        "validation splits per trial out of range",
        BASE + TINY + "[objective]\nsplits = 0\n",
        ["run", "s.toml"],
        2,
        "s.toml: objective.splits = 0 is out of range; allowed: 1 to 10",
    ),
]


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one finished study, made once through the CLI."""
    folder = tmp_path_factory.mktemp("base")
    (folder / "s.toml").write_text(BASE + TINY)
    cwd = Path.cwd()
    import os

    os.chdir(folder)
    try:
        assert main(["run", "s.toml"]) == 0
    finally:
        os.chdir(cwd)
    return folder / "store.db"


def _copy_store(src: Path, dst: Path) -> None:
    """Copy an SQLite store with its write-ahead log (the backup API, not a file copy)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def _inputs(folder: Path) -> None:
    """The bad files the cases point at."""
    (folder / "empty.csv").write_text("")
    (folder / "stars.csv").write_text("text,label\n" + "fine,5\n" * 20)
    (folder / "rare.csv").write_text("text,label\n" + "a,good\nb,bad\n" * 10 + "c,meh\n" * 2)
    (folder / "notext.csv").write_text("review,label\n" + "good,1\nbad,0\n" * 10)
    (folder / "semicolons.csv").write_text("text;label\n" + "good;1\nbad;0\n" * 10)
    (folder / "twice.csv").write_text("text,text,label\n" + "good,x,1\nbad,x,0\n" * 10)
    (folder / "nowords.csv").write_text("text,label\n" + "!!!,1\n...,0\n" * 10)
    (folder / "notes.txt").write_text("not a database")
    (folder / "runs").mkdir(exist_ok=True)
    (folder / "bad_suggest.py").write_text(BAD_SUGGEST)
    (folder / "bad_build.py").write_text(BAD_BUILD)
    (folder / "exits.py").write_text("import sys\nsys.exit(3)\n")
    with sqlite3.connect(folder / "plain.db") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (x TEXT)")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(
    case, base_store: Path, tmp_path: Path, capsys
) -> None:
    _, text, args, status, message = case
    _copy_store(base_store, tmp_path / "store.db")
    _inputs(tmp_path)
    plain = (tmp_path / "plain.db").read_bytes()
    if text is not None:
        (tmp_path / "s.toml").write_text(text)
    else:
        (tmp_path / "s.toml").write_text("")
    before = _dump(tmp_path / "store.db")
    capsys.readouterr()
    code = main(args)
    err = capsys.readouterr().err
    assert code == status, err
    assert err.startswith("hpsearch: error: ") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in err
    assert _dump(tmp_path / "store.db") == before
    assert (tmp_path / "plain.db").read_bytes() == plain
    assert not (tmp_path / "nowhere").exists() and not (tmp_path / "hpsearch.db").exists()


def test_the_docs_catalogue_matches_these_cases() -> None:
    doc = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == len(CASES) >= 20
    for (what, _, _, status, message), row in zip(CASES, rows, strict=True):
        assert what in row and f"| {status} |" in row
        assert message.replace("|", "\\|") in row, (what, message)


def write_catalogue() -> None:
    """Run every case and write docs/errors.md with the messages it really prints.

    python -m tests.test_errors
    """
    import contextlib
    import io
    import os
    import tempfile

    cwd = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "s.toml").write_text(BASE + TINY)
        os.chdir(folder)
        try:
            main(["run", "s.toml"])
            _copy_store(folder / "store.db", folder / "base.db")
            lines = [
                "# What hpsearch says about bad input",
                "",
                "Every row is run by `tests/test_errors.py`, which also checks that the store is",
                "unchanged afterwards. Regenerate this page with `python -m tests.test_errors`.",
                "",
                "| # | what is wrong | command | exit | message (stderr, one line) |",
                "|---|---|---|---|---|",
            ]
            for i, (what, text, args, status, _) in enumerate(CASES, start=1):
                for suffix in ("", "-wal", "-shm"):
                    (folder / f"store.db{suffix}").unlink(missing_ok=True)
                _copy_store(folder / "base.db", folder / "store.db")
                _inputs(folder)
                (folder / "s.toml").write_text(text or "")
                err = io.StringIO()
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    code = main(args)
                assert code == status, (what, err.getvalue())
                shown = err.getvalue().strip().replace(f"{folder}/", "").replace("|", "\\|")
                command = "hpsearch " + " ".join(a if a else "''" for a in args)
                lines.append(f"| {i} | {what} | `{command}` | {code} | `{shown}` |")
        finally:
            os.chdir(cwd)
    (REPO / "docs" / "errors.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_catalogue()
