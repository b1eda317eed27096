"""Plotly figures of the tradeoff: the scatter of all trials and the front's learning curves.

Figures are built with plotly and written as self-contained HTML (plotly.js inlined), so
they open with no network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hpsearch.pick.tradeoff import Tradeoff

_STATE_COLOURS = {"complete": "#1f77b4", "pruned": "#aaaaaa"}


def scatter_figure(t: Tradeoff) -> go.Figure:
    """Validation metric against gap for every candidate, front highlighted, pick marked."""
    fig = go.Figure()
    for state, colour in _STATE_COLOURS.items():
        points = [c for c in t.candidates if c.state == state]
        if not points:
            continue
        fig.add_trace(
            go.Scatter(
                x=[c.gap for c in points],
                y=[c.value for c in points],
                mode="markers",
                name=f"{state} trials",
                marker={"color": colour, "size": 9},
                text=[_label(c.number, c.baseline) for c in points],
                hovertemplate="%{text}<br>gap %{x:.4f}<br>value %{y:.4f}<extra></extra>",
            )
        )
    if t.front:
        fig.add_trace(
            go.Scatter(
                x=[c.gap for c in t.front],
                y=[c.value for c in t.front],
                mode="lines+markers",
                name="Pareto front",
                line={"color": "#d62728", "width": 2},
                marker={"color": "#d62728", "size": 11, "symbol": "diamond"},
                text=[_label(c.number, c.baseline) for c in t.front],
                hovertemplate="%{text}<br>gap %{x:.4f}<br>value %{y:.4f}<extra></extra>",
            )
        )
    if t.pick is not None:
        fig.add_trace(
            go.Scatter(
                x=[t.pick.gap],
                y=[t.pick.value],
                mode="markers+text",
                name=f"pick: trial {t.pick.number}",
                marker={"color": "#2ca02c", "size": 20, "symbol": "star"},
                text=[f"pick #{t.pick.number}"],
                textposition="top center",
            )
        )
    fig.add_vline(x=t.max_gap, line_dash="dash", line_color="#888", annotation_text="max gap")
    fig.update_layout(
        title=f"{t.study}: validation {t.metric} against {t.gap_measure} gap",
        xaxis_title=f"{t.gap_measure} gap at best epoch (smaller generalizes better)",
        yaxis_title=f"{t.metric} at best epoch (validation)",
        template="plotly_white",
    )
    return fig


def curves_figure(t: Tradeoff, history: list[dict[str, Any]]) -> go.Figure:
    """Loss and val_loss per epoch for each trial on the front."""
    front = t.front or t.candidates[:1]
    rows = max(1, len(front))
    fig = make_subplots(
        rows=rows,
        cols=1,
        subplot_titles=[_label(c.number, c.baseline) for c in front] or ["no trials"],
        shared_xaxes=True,
    )
    for i, c in enumerate(front, start=1):
        epochs = [r for r in history if r["trial_number"] == c.number]
        for key, colour, dash in (("loss", "#1f77b4", "solid"), ("val_loss", "#ff7f0e", "dash")):
            fig.add_trace(
                go.Scatter(
                    x=[r["epoch"] for r in epochs],
                    y=[r[key] for r in epochs],
                    mode="lines+markers",
                    name=key,
                    legendgroup=key,
                    showlegend=i == 1,
                    line={"color": colour, "dash": dash},
                ),
                row=i,
                col=1,
            )
    fig.update_layout(
        title=f"{t.study}: learning curves of the front",
        height=260 * rows + 80,
        template="plotly_white",
    )
    fig.update_xaxes(title_text="epoch", row=rows, col=1)
    return fig


def write_html(fig: go.Figure, path: Path) -> Path:
    """A self-contained HTML file (plotly.js inlined, opens offline)."""
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path


def _label(number: int, baseline: bool) -> str:
    return f"trial {number}{' (baseline)' if baseline else ''}"
