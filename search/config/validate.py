"""Small field validators shared by the config dataclasses' ``check()`` methods.

Each raises one :class:`~hpsearch.errors.ConfigError` line naming the file (``where``), the
key, the value and what is allowed.
"""

from __future__ import annotations

from typing import Any

from hpsearch.errors import ConfigError


def one_of(where: str, key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{where}: {key} = {value!r} is unknown; allowed: {', '.join(allowed)}")


def at_least(where: str, key: str, value: float, low: float) -> None:
    if value < low:
        raise ConfigError(f"{where}: {key} = {value!r} is too small; allowed: >= {low}")


def between(where: str, key: str, value: float, low: float, high: float) -> None:
    if not low < value < high:
        raise ConfigError(
            f"{where}: {key} = {value!r} is out of range; allowed: {low} < value < {high}"
        )


def from_to(where: str, key: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{where}: {key} = {value!r} is out of range; allowed: {low} to {high}")
