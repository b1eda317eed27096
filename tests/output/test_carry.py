"""What the exported script carries of a space module: its helpers, classes, constants and
imports; what it cannot carry is refused in one line before any file is written."""

from __future__ import annotations

import ast
import importlib.util
import re
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from hpsearch.errors import SpaceError
from hpsearch.output.carry import carried, literal_of
from tests.output.test_export import assert_prints_the_stored_epochs, run_script


def load(path: Path, text: str) -> ModuleType:
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HELPERS = """
import math

def leaf(n):
    return leaf(n - 1) if n > 0 else math.pi  # recursive: visited once

def middle(x):
    return leaf(x)

def unused():
    return 0

def build_model(params, data):
    def inner():
        return middle(1)
    return inner() + len(params)
"""


def test_helpers_come_before_their_callers_each_once(tmp_path: Path) -> None:
    module = load(tmp_path / "helpers_space.py", HELPERS)
    out = carried(module.build_model, {})
    # Callees before callers, each once; functions build_model never reaches stay out.
    defs = [s.split("(")[0].removeprefix("def ") for s in out.sources]
    assert defs == ["leaf", "middle", "build_model"]
    assert out.imports == ["import math"] and out.constants == []


# Every way a space module hands names to build_model: module imports (aliased, dotted),
# imported classes, constants of several types, a class of its own, an alias of a helper,
# a default argument, and a name used only in an annotation (never evaluated, not carried).
RICH_SPACE = """
from __future__ import annotations

from typing import Any

import keras
import numpy as numeric
from keras import layers, regularizers
from keras.layers import Dense

from hpsearch.data import Dataset

from tests.spaces.tiny import BASELINE, suggest  # the search side is the tiny space's

UNITS = 8
SHAPES = {"head": ("sigmoid", 1), "scale": 0.5}


class Scale(layers.Layer):
    def call(self, x):
        return x * SHAPES["scale"]


def _pool():
    return layers.GlobalAveragePooling1D()


pool = _pool


def build_model(params: dict[str, Any], data: Dataset, width: int = UNITS) -> keras.Model:
    activation, units = SHAPES["head"]
    return keras.Sequential([
        keras.Input(shape=(data.maxlen,), dtype="int32"),
        layers.Embedding(data.vocab_size, params["width"] * width // 4),
        pool(),
        Scale(),
        Dense(units, activation=activation, kernel_regularizer=regularizers.L2(1e-4)),
        layers.Dense(units, activation=activation, bias_initializer=keras.initializers.Constant(
            float(numeric.float32(0.0)))),
    ])
"""

STUDY = """
name = "rich"
space = "rich_space.py"
seed = 5
[dataset]
kind = "synthetic"
samples = 200
num_words = 100
maxlen = 10
[sampler]
name = "random"
[selection]
finalists = 0
[budget]
n_trials = 1
max_epochs = 2
"""


def test_a_script_of_a_space_using_its_module_runs_standalone(cli, tmp_path: Path) -> None:
    (tmp_path / "rich_space.py").write_text(RICH_SPACE)
    (tmp_path / "rich.toml").write_text(STUDY)
    assert cli("run", "rich.toml").code == 0
    r = cli("export", "rich", "-o", "rich_best.py")
    assert r.code == 0, r.err
    source = (tmp_path / "rich_best.py").read_text()
    for line in (
        "import numpy as numeric",
        "UNITS = 8",
        "pool = _pool",
        "class Scale(layers.Layer):",
    ):
        assert f"\n{line}\n" in source, line
    # `Dataset` is only an annotation: never evaluated, so not imported from hpsearch.
    assert not re.search(r"^\s*(import|from)\s+(search|hpsearch)", source, re.M)
    # hpsearch is unimportable in the script's process; it reproduces the stored epochs.
    done = run_script(tmp_path / "rich_best.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_prints_the_stored_epochs(done.stdout, "rich", 0)


REFUSED = {
    "an object": ("RNG = numpy.random.default_rng(0)\n", "RNG.random()", "'RNG' (a Generator)"),
    "hpsearch": ("from hpsearch.knobs import suggest_data\n", "suggest_data", "hpsearch's"),
    "a clash": ("PARAMS = {'w': 1}\n", "PARAMS", "'PARAMS', a name the exported script"),
    "a float": ("SCALE = float('nan')\n", "SCALE", "'SCALE' (a float)"),
    "a lambda": ("HALF = lambda x: x / 2\n", "HALF(1)", "'HALF' (a lambda)"),
}


def refused_space(case: str) -> str:
    """RICH_SPACE with one more module-level name that build_model uses."""
    header, use, _ = REFUSED[case]
    body = RICH_SPACE.replace("UNITS = 8\n", "import numpy\n" + header + "UNITS = 8\n")
    return body.replace("    activation, units = ", f"    {use}\n    activation, units = ")


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_a_script_cannot_carry_is_refused_naming_it(tmp_path: Path, case: str) -> None:
    from hpsearch import portable
    from hpsearch.output.export import script_names

    given = script_names("PARAMS = {}\nimport numpy as np\n", portable.carried())
    module = load(tmp_path / "refused_space.py", refused_space(case))
    with pytest.raises(SpaceError) as refused:
        carried(module.build_model, given)
    assert REFUSED[case][2] in str(refused.value) and "build_model" in str(refused.value)


def test_a_refused_export_is_one_line_and_writes_nothing(cli, tmp_path: Path) -> None:
    (tmp_path / "rich_space.py").write_text(refused_space("an object"))
    (tmp_path / "rich.toml").write_text(STUDY.replace("max_epochs = 2", "max_epochs = 1"))
    assert cli("run", "rich.toml").code == 0  # the space runs; only its export is refused
    before = Path("hpsearch.db").read_bytes()
    r = cli("export", "rich", "--trial", "0", "-o", "out.py")
    assert r.code != 0 and r.err.strip().splitlines() == [
        "hpsearch: error: the space's build_model uses 'RNG' (a Generator), which an exported "
        "script cannot carry; allowed: literal constants, imports, and the space module's own "
        "functions and classes"
    ]
    assert not (tmp_path / "out.py").exists()
    assert Path("hpsearch.db").read_bytes() == before


@pytest.mark.parametrize(
    ("value", "text"),
    [(3, "3"), (0.25, "0.25"), ("a'b", '"a\'b"'), ((1, [None]), "(1, [None])"), (True, "True")],
)
def test_literals_read_back_as_the_same_value(value: object, text: str) -> None:
    assert literal_of(value) == text


@pytest.mark.parametrize("value", [float("inf"), object(), {1, frozenset()}, range(3)])
def test_values_that_do_not_read_back_are_not_literals(value: object) -> None:
    assert literal_of(value) is None


def test_carried_refuses_a_given_name_bound_to_something_else(tmp_path: Path) -> None:
    module = load(tmp_path / "clash_space.py", "np = 3\ndef build_model(p, d):\n    return np\n")
    with pytest.raises(SpaceError, match="'np', a name the exported script defines"):
        carried(module.build_model, {"np": object()})


def test_a_build_model_by_another_name_is_bound_as_build_model(tmp_path: Path) -> None:
    module = load(tmp_path / "named_space.py", "def make(p, d):\n    return 1\n")
    sources = carried(module.make, {}).sources
    assert sources == ["def make(p, d):\n    return 1", "build_model = make"]
    with pytest.raises(SpaceError, match="define it with def"):
        carried(lambda p, d: 1, {})


def test_every_name_the_carried_engine_uses_is_defined_in_the_script() -> None:
    """A carried function that calls a helper the script does not carry would fail with a
    NameError only in the exported script, and only on the path that calls it (an error
    message, say), so no run of the script finds it."""
    import inspect

    from hpsearch import portable
    from hpsearch.output.export import render_script, script_names

    engine = portable.carried()
    sources = [textwrap.dedent(inspect.getsource(fn)) for fn in engine]
    defined = script_names(render_script({"params": {}}, _build_nothing), engine)
    for fn, source in zip(engine, sources, strict=True):
        module = vars(inspect.getmodule(fn))
        used = {n.id for n in _loaded_names(ast.parse(source))} & set(module)
        missing = sorted(used - set(defined))
        assert not missing, f"{fn.__name__} uses {missing}, which the script does not define"


def _build_nothing(params: dict, data: object) -> None:
    """A build_model for a script whose own part is under test."""


def _loaded_names(node: ast.AST) -> list[ast.Name]:
    """The names ``node`` reads, leaving out annotations (the script does not evaluate them)."""
    skip: set[int] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.arg | ast.AnnAssign) and n.annotation is not None:
            skip |= {id(a) for a in ast.walk(n.annotation)}
        elif isinstance(n, ast.FunctionDef) and n.returns is not None:
            skip |= {id(a) for a in ast.walk(n.returns)}
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in skip
    ]
