"""The module paths of hpsearch before its folders (``hpsearch.runner``, ``hpsearch.kt_bridge``,
``hpsearch.progress``, ...) keep importing, each as the module that now holds its code.

Users' notebooks and scripts written against the flat layout keep working: ``import
hpsearch.runner`` gives :mod:`hpsearch.engine.runner` itself (the same module object, so
``isinstance`` checks and monkeypatches agree). No module file stands at the old path; a finder
on ``sys.meta_path`` answers for the names in :data:`MOVED`, and for nothing else. (importlib
has no alias mechanism of its own: this is the finder-and-loader pair it documents.)
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

MOVED = {
    "hpsearch.budget": "hpsearch.store.budget",
    "hpsearch.carry": "hpsearch.output.carry",
    "hpsearch.cli_export": "hpsearch.cli.export",
    "hpsearch.cli_read": "hpsearch.cli.read",
    "hpsearch.cli_run": "hpsearch.cli.run",
    "hpsearch.cli_shared": "hpsearch.cli.shared",
    "hpsearch.dashboard": "hpsearch.output.dashboard",
    "hpsearch.evaluate": "hpsearch.pick.evaluate",
    "hpsearch.export": "hpsearch.output.export",
    "hpsearch.kt_bridge": "hpsearch.integrations.keras_tuner",
    "hpsearch.outputs": "hpsearch.output.files",
    "hpsearch.plots": "hpsearch.output.plots",
    "hpsearch.progress": "hpsearch.output.progress",
    "hpsearch.queries": "hpsearch.store.queries",
    "hpsearch.quiet": "hpsearch.engine.quiet",
    "hpsearch.reevaluate": "hpsearch.pick.reevaluate",
    "hpsearch.report": "hpsearch.output.report",
    "hpsearch.runner": "hpsearch.engine.runner",
    "hpsearch.selection": "hpsearch.pick.finalists",
    "hpsearch.setting": "hpsearch.engine.setting",
    "hpsearch.shipped": "hpsearch.config.shipped",
    "hpsearch.signals": "hpsearch.engine.signals",
    "hpsearch.spaces": "hpsearch.engine.spaces",
    "hpsearch.strategies": "hpsearch.engine.strategies",
    "hpsearch.studyfile": "hpsearch.config.studyfile",
    "hpsearch.tags": "hpsearch.store.tags",
    "hpsearch.threads": "hpsearch.engine.threads",
    "hpsearch.tradeoff": "hpsearch.pick.tradeoff",
    "hpsearch.trial": "hpsearch.engine.trial",
    "hpsearch.validate": "hpsearch.config.validate",
    "hpsearch.workers": "hpsearch.engine.workers",
}
"""Old module path -> the module that holds its code now."""


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        pass  # the module ran when it was imported under its own name


def install() -> None:
    """Answer for the old paths (once per process)."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
