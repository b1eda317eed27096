"""How listings show trials and numbers: the trial table's columns and cells, and the
number formats every command and the report share (no TensorFlow here)."""

from __future__ import annotations

from typing import Any

TRIAL_COLUMNS = (
    "#",
    "state",
    "value",
    "why stopped",
    "epochs",
    "best epoch",
    "loss gap",
    "accuracy gap",
    "where",
    "params",
)


def fmt(v: Any) -> str:
    """A number as the listings show it: 4 decimals for floats, '-' for missing."""
    if v is None:
        return "-"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def short(v: Any) -> str:
    """A parameter value, compactly."""
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def where(r: dict[str, Any]) -> str:
    """The host a trial ran on, and its GPU(s) when it had any: ``node1``, ``node2 gpu:0``."""
    host = r.get("host") or "-"
    devices = r.get("devices")
    return f"{host} {devices}" if devices and devices != "cpu" else host


def trial_cells(r: dict[str, Any]) -> list[str]:
    """One trial row (from :func:`trial_row`) as the text cells of TRIAL_COLUMNS."""
    return [
        f"{r['number']}{' (baseline)' if r['baseline'] else ''}",
        r["state"],
        fmt(r["value"]),
        r["stop_reason"] or "",
        fmt(r["epochs"]),
        fmt(r["best_epoch"]),
        fmt(r["gap_loss"]),
        fmt(r["gap_accuracy"]),
        where(r),
        ", ".join(f"{k}={short(v)}" for k, v in r["params"].items()),
    ]
