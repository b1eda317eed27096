"""What of a space module an exported script must carry beside ``build_model``.

``build_model`` may call the module's own functions and classes, read its constants and use
its imports (``from keras import layers``, ``UNITS = 64``). The script copies the functions
and classes with :func:`inspect.getsource`, writes the constants as checked literals and repeats
the imports; anything else is refused in one line before a file is written, since a script that
fails with ``NameError`` after export said "wrote" is worse than none.

Written by hand: neither :mod:`inspect` nor the standard library resolves the global names a
function's source uses to something that can be written into another file.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpsearch.errors import SpaceError

# Names the script's own code defines, which a space may use but not redefine.
Given = Mapping[str, object]


@dataclass(frozen=True)
class Carried:
    """The lines a script needs for ``build_model``: imports, constants, then the sources of
    the module's functions and classes (callees before callers, ``build_model`` last)."""

    imports: list[str] = field(default_factory=list)
    constants: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def text(self) -> str:
        heads = [self.imports, self.constants]
        blocks = ["\n".join(lines) for lines in heads if lines]
        return "\n\n\n".join([*blocks, *self.sources])


def source_of(obj: Callable[..., Any] | type) -> str:
    """The dedented source of a space's function or class, or one line saying why not."""
    try:
        return textwrap.dedent(inspect.getsource(obj)).rstrip()
    except (OSError, TypeError):
        raise SpaceError(
            f"cannot read the source of the space's {obj.__name__} ({obj!r}), which the "
            "script copies; define it in a .py file or a notebook cell"
        ) from None


def used_names(source: str) -> Iterator[str]:
    """Names a definition reads (not those it only assigns), each once; annotations are
    skipped (the script, like the spaces, has ``from __future__ import annotations``, so they
    never run)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign):
            node.annotation = None  # type: ignore[assignment]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
    seen: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in seen:
            seen.add(node.id)
            yield node.id


def carried(build_model: Callable[..., Any], given: Given) -> Carried:
    """Everything of ``build_model``'s module the script needs to run it."""
    module = build_model.__module__
    scope: dict[str, Any] = getattr(build_model, "__globals__", {})
    written = imports_of(build_model)
    out = Carried()
    done: set[str] = set()

    def visit(name: str, obj: Callable[..., Any] | type) -> None:
        done.add(name)
        source = source_of(obj)
        for used in used_names(source):
            if used not in done and used in scope:
                place(used, scope[used], name)
        out.sources.append(source)

    def place(name: str, obj: Any, user: str) -> None:
        if name in given:
            done.add(name)
            if given[name] is not obj:
                raise SpaceError(
                    f"the space's {user} uses its own {name!r}, a name the exported script "
                    "defines for itself; rename it in the space"
                )
            return
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module:
            if not obj.__name__.isidentifier():
                raise SpaceError(
                    f"the space's {user} uses {name!r} (a lambda), whose source cannot be "
                    "copied alone; define it with def"
                )
            if obj.__name__ not in done:
                visit(obj.__name__, obj)
            if name != obj.__name__:  # an alias: `helper = _helper`
                done.add(name)
                out.sources.append(f"{name} = {obj.__name__}")
            return
        done.add(name)
        if line := written.get(name) or import_line(name, obj):
            if is_hpsearch(obj):
                raise SpaceError(
                    f"the space's {user} uses hpsearch's {name!r}; the exported script runs "
                    "without hpsearch: copy what it needs into the space module"
                )
            out.imports.append(line)
        elif (literal := literal_of(obj)) is not None:
            out.constants.append(f"{name} = {literal}")
        else:
            raise SpaceError(
                f"the space's {user} uses {name!r} (a {type(obj).__name__}), which an exported "
                "script cannot carry; allowed: literal constants, imports, and the space "
                "module's own functions and classes"
            )

    name = build_model.__name__
    if not name.isidentifier():
        raise SpaceError(
            f"the space's build_model is {build_model!r}, whose source cannot be copied alone; "
            "define it with def"
        )
    visit(name, build_model)
    if name != "build_model":  # a space object may hand over any function as build_model
        out.sources.append(f"build_model = {name}")
    return out


def imports_of(fn: Callable[..., Any]) -> dict[str, str]:
    """The module's own top-level import statements, one per name they bind (``from keras
    import layers`` stays so, rather than the path where the object happens to live)."""
    try:
        tree = ast.parse(Path(inspect.getfile(fn)).read_text(encoding="utf-8"))
    except (OSError, TypeError, ValueError, SyntaxError):
        return {}
    lines: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__":
            for alias in node.names:
                lines[alias.asname or alias.name] = ast.unparse(
                    ast.ImportFrom(module=node.module, names=[alias], level=0)
                )
        elif isinstance(node, ast.Import):
            for alias in node.names:  # `import a.b` binds `a` and loads a.b: keep it whole
                bound = alias.asname or alias.name.split(".")[0]
                lines[bound] = ast.unparse(ast.Import(names=[alias]))
    return lines


def is_hpsearch(obj: Any) -> bool:
    name = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", "")
    return name == "hpsearch" or name.startswith("hpsearch.")


def import_line(name: str, obj: Any) -> str | None:
    """``import a.b as name`` for a module, ``from m import q as name`` for a function or class
    importable under its own module and name; None for anything else."""
    if inspect.ismodule(obj):
        alias = "" if name == obj.__name__ else f" as {name}"
        return f"import {obj.__name__}{alias}"
    home, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not home or not qualname.isidentifier():
        return None
    try:
        found = getattr(importlib.import_module(home), qualname, None)
    except ImportError:
        return None
    if found is not obj:
        return None
    return f"from {home} import {qualname}" + ("" if qualname == name else f" as {name}")


def literal_of(value: Any) -> str | None:
    """``repr(value)`` if it reads back as an equal value of the same type, else None."""
    text = repr(value)
    try:
        back = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return text if type(back) is type(value) and back == value else None
