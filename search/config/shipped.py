"""What ships inside the hpsearch package besides the engine: the built-in spaces and the
example study files.

Both are found through the package itself (``hpsearch.builtin_spaces`` and
``hpsearch.studies``, mapped from the repository's ``spaces/`` and ``studies/`` folders in
``pyproject.toml``), so an installed hpsearch works from any folder, and nothing is ever read
from a top-level ``spaces`` on ``sys.path``, where an unrelated distribution of that name lives.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SPACES_PACKAGE = "hpsearch.builtin_spaces"
STUDIES_PACKAGE = "hpsearch.studies"


def package_dir(package: str) -> Path:
    """The folder of one of hpsearch's own packages (installed, or the repository's)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"hpsearch is installed without {package}; reinstall it")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


BUILTIN_SPACES = package_dir(SPACES_PACKAGE)
EXAMPLE_STUDIES = package_dir(STUDIES_PACKAGE)


def example_studies() -> list[str]:
    """Names of the example study files shipped with hpsearch (``quickstart``, ...)."""
    return sorted(p.stem for p in EXAMPLE_STUDIES.glob("*.toml"))


def example_study(name: str) -> Path | None:
    """The shipped study file ``name`` (with or without ``.toml``), or None."""
    stem = name.removesuffix(".toml")
    path = EXAMPLE_STUDIES / f"{stem}.toml"
    return path if "/" not in stem and path.is_file() else None
