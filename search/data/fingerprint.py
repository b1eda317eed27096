"""What binds a study to its data: a fingerprint of every data file, taken when the study is
created and compared before anything trains or tests on the data again.

A study mixes nothing: its trials, re-evaluation runs and test number all come from one set of
texts. Each file is recorded with its size, modification time and sha256; a later check reads
a file again only when its size or time differ (a copy or a touch), and reports a change only
when its content does. An aclImdb folder is fingerprinted as the sorted list of its review
files with their bytes. Synthetic data has no files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpsearch.config import DatasetConfig
from hpsearch.errors import DataError
from hpsearch.portable.data import data_digest

Fingerprint = dict[str, dict[str, Any]]
"""Absolute path -> {"size", "mtime_ns", "sha256"} (a folder: also "files")."""


def sources(cfg: DatasetConfig) -> list[Path]:
    """The files and folders a dataset reads."""
    if cfg.kind == "synthetic" or not cfg.path:
        return []
    if cfg.kind == "csv":
        return [Path(p).resolve() for p in (cfg.path, cfg.test_path) if p]
    if cfg.kind == "directory":
        root = Path(cfg.path).resolve()
        return [root / part for part in ("train", "test") if (root / part).is_dir()]
    return [Path(cfg.path).expanduser().resolve()]


def _files(source: Path) -> list[Path]:
    return sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]


def _entry(source: Path) -> dict[str, Any]:
    files = _files(source)
    size = sum(f.stat().st_size for f in files)
    mtime = max((f.stat().st_mtime_ns for f in files), default=0)
    # The digest exported scripts compute too (hpsearch.portable.data.data_digest).
    entry: dict[str, Any] = {"size": size, "mtime_ns": mtime, "sha256": data_digest(source)}
    if source.is_dir():
        entry["files"] = len(files)
    return entry


def fingerprint(cfg: DatasetConfig) -> Fingerprint:
    """The fingerprint of every file the dataset reads (missing ones are left out: reading
    the dataset reports them)."""
    return {str(p): _entry(p) for p in sources(cfg) if p.exists()}


def changed(stored: Fingerprint, cfg: DatasetConfig) -> tuple[str, str] | None:
    """The first data file that differs from the stored fingerprint, with how; None when all
    are the same. A file whose size and time are unchanged is not read again."""
    now = {str(p): p for p in sources(cfg)}
    for path, before in stored.items():
        if path not in now:
            return path, "the study reads another file now"
        p = now[path]
        if not p.exists():
            return path, "it is gone"
        files = _files(p)
        size = sum(f.stat().st_size for f in files)
        mtime = max((f.stat().st_mtime_ns for f in files), default=0)
        if size == before.get("size") and mtime == before.get("mtime_ns"):
            continue
        if _entry(p)["sha256"] != before.get("sha256"):
            return path, f"its content differs ({before.get('size')} bytes then, {size} now)"
    added = sorted(set(now) - set(stored))
    if stored and added:
        return added[0], "the study did not read it when it was created"
    return None


def refuse_changed(stored: Fingerprint, cfg: DatasetConfig, study: str) -> None:
    """One DataError line when the data differs from what study ``study`` was created on."""
    found = changed(stored, cfg)
    if found is not None:
        path, how = found
        raise DataError(
            f"{path}: changed since study {study!r} was created ({how}); its trials would mix "
            "two datasets; allowed: a new study name for the new data, or "
            "--accept-changed-data (recorded on the study)"
        )
