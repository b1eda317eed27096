"""Packaging: the import name, ``python -m hpsearch``, optional extras that say which one is
missing, and spaces found through the package only (never a top-level ``spaces``)."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hpsearch.config.shipped import BUILTIN_SPACES, example_studies
from hpsearch.errors import ConfigError, MissingExtraError, StorageError

SHIPPED = sorted(p.stem for p in BUILTIN_SPACES.glob("*.py") if not p.stem.startswith("_"))


def test_python_m_hpsearch_runs_the_cli(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "hpsearch", "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "Usage: hpsearch" in r.stdout and "worker" in r.stdout


def test_the_shipped_spaces_and_studies_are_part_of_the_package() -> None:
    import hpsearch.builtin_spaces

    assert Path(hpsearch.builtin_spaces.__file__).resolve().parent == BUILTIN_SPACES
    assert {"bag_of_words", "cnn_lstm", "lstm_dropout", "lstm_l1l2", "pooled"} <= set(SHIPPED)
    assert "quickstart" in example_studies()


def test_a_missing_kt_extra_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keras_tuner", None)  # makes `import keras_tuner` fail
    monkeypatch.delitem(sys.modules, "hpsearch.integrations.keras_tuner", raising=False)
    with pytest.raises(MissingExtraError) as info:
        importlib.import_module("hpsearch.integrations.keras_tuner")
    message = str(info.value)
    assert 'pip install "hpsearch[kt]"' in message and "\n" not in message
    assert info.value.exit_code == 1


def test_a_missing_postgres_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    from hpsearch.store.database import check_storage

    monkeypatch.setitem(sys.modules, "psycopg", None)
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    with pytest.raises(StorageError, match=r'pip install "hpsearch\[postgres\]"'):
        check_storage(url, create=True)
    r = cli("studies", "--storage", url)
    assert r.code == 1 and r.err.count("\n") == 1 and 'hpsearch[postgres]"' in r.err


def test_a_missing_gp_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from hpsearch.config import StrategyConfig
    from hpsearch.engine.strategies import make_sampler

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    with pytest.raises(ConfigError) as info:
        make_sampler(StrategyConfig("gp"), 0, "s.toml")
    assert 'install the gp extra: pip install "hpsearch[gp]"' in str(info.value)


def _fake_spaces(root: Path, marker: Path) -> Path:
    """A top-level ``spaces`` package, as an unrelated distribution installs, that leaves a
    marker file if anything imports it or any module in it."""
    pkg = root / "spaces"
    pkg.mkdir(parents=True)
    touch = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (pkg / "__init__.py").write_text(touch)
    for name in SHIPPED:
        (pkg / f"{name}.py").write_text(touch + "raise SystemExit('fake space read')\n")
    return root


def test_a_spaces_package_from_elsewhere_is_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    marker = tmp_path / "read.txt"
    monkeypatch.syspath_prepend(str(_fake_spaces(tmp_path / "site", marker)))
    monkeypatch.delitem(sys.modules, "spaces", raising=False)
    from hpsearch.engine.spaces import available_spaces, load_space

    assert set(SHIPPED) <= set(available_spaces())
    space = load_space("lstm_dropout")
    assert Path(space.module.__file__ or "").resolve().parent == BUILTIN_SPACES
    r = cli("spaces")
    assert r.code == 0, r.err
    assert all(name in r.out for name in SHIPPED)
    assert not marker.exists(), marker.read_text()
    assert "spaces" not in sys.modules


def test_example_studies_run_by_name_from_any_folder(tmp_path: Path) -> None:
    from hpsearch.config.shipped import EXAMPLE_STUDIES
    from hpsearch.config.studyfile import load_study_file

    for spelling in ("quickstart", "quickstart.toml", "studies/quickstart.toml"):
        cfg = load_study_file(spelling)  # the working directory is an empty temp folder
        assert cfg.name == "quickstart" and cfg.source == str(EXAMPLE_STUDIES / "quickstart.toml")
    (tmp_path / "studies").mkdir()
    (tmp_path / "studies" / "quickstart.toml").write_text('name = "mine"\nspace = "pooled"\n')
    assert load_study_file("studies/quickstart.toml").name == "mine"  # a file here wins
    with pytest.raises(ConfigError, match="no such study file; examples shipped with hpsearch: "):
        load_study_file("quickstrat")
