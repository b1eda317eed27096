"""``hpsearch report``: one self-contained HTML page about a study.

Summary, the tradeoff scatter and learning curves, Optuna's own visualizations
(optimization history, parameter importances, intermediate values, parallel coordinates)
and the trial table. plotly.js is inlined once, so the page opens with no network.
Test-split numbers, where measured, appear only in their own marked column.
"""

from __future__ import annotations

import html
import json
import warnings
from pathlib import Path
from typing import Any

import optuna
import plotly.graph_objects as go

from hpsearch.output.plots import curves_figure, scatter_figure
from hpsearch.output.tables import TRIAL_COLUMNS, fmt, trial_cells
from hpsearch.pick.tradeoff import Tradeoff, analyse
from hpsearch.store.database import EpochLog
from hpsearch.store.queries import load, trial_row
from hpsearch.store.tags import StudyTags

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
.warning { color: #a00; font-weight: bold; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border: 1px solid #ddd; padding: 3px 6px; text-align: left; }
th { background: #f4f4f4; }
.test { background: #fff4e0; }
.note { color: #555; }
"""


def optuna_figures(study: optuna.Study) -> list[tuple[str, go.Figure | str]]:
    """Optuna's own plots; one that cannot be drawn (too few trials) says why instead."""
    from optuna import visualization as vis

    target = None if len(study.directions) == 1 else (lambda t: t.values[0])
    plots: list[tuple[str, Any]] = [
        ("Optimization history", lambda: vis.plot_optimization_history(study, target=target)),
        ("Parameter importances", lambda: vis.plot_param_importances(study, target=target)),
        ("Intermediate values", lambda: vis.plot_intermediate_values(study)),
        ("Parallel coordinates", lambda: vis.plot_parallel_coordinate(study, target=target)),
    ]
    out: list[tuple[str, go.Figure | str]] = []
    for title, make in plots:
        try:
            # Optuna warns about small studies while drawing ("Some regimes for parameter
            # ... have less than 2 trials"): the plot is still drawn, and the command's
            # output stays the one line it promises.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                out.append((title, make()))
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:
            out.append((title, f"not available: {exc}"))
    return out


def build_report(url: str, name: str) -> str:
    """The HTML text of the report for study ``name`` in ``url``."""
    study = load(url, name)
    log = EpochLog(url)
    tradeoff = analyse(study, log)
    history = log.history(name)
    tests = log.test_results(name)
    reads = log.test_reads(name)
    log.dispose()
    sections: list[tuple[str, go.Figure | str]] = [
        ("Tradeoff: validation metric against overfitting gap", scatter_figure(tradeoff)),
        ("Learning curves of the front", curves_figure(tradeoff, history)),
        *optuna_figures(study),
    ]
    parts = [f"<h1>hpsearch study {html.escape(name)}</h1>", _summary(study, tradeoff, tests)]
    if len(reads) > 1:
        parts.append(
            f"<p class='warning'>The test split of this study was read {len(reads)} times "
            f"({', '.join(html.escape(str(r['command'])) for r in reads)}): its test numbers are "
            "no longer an unbiased estimate.</p>"
        )
    if tradeoff.pick is not None and tests.get(tradeoff.pick.number, {}).get("test_confusion"):
        parts.append(
            f"<h2>Confusion matrix of trial {tradeoff.pick.number} on the TEST split (once)</h2>"
        )
        parts.append(confusion_html(tests[tradeoff.pick.number]["test_confusion"]))
    first = True
    for title, fig in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if isinstance(fig, str):
            parts.append(f"<p class='note'>{html.escape(fig)}</p>")
            continue
        parts.append(fig.to_html(include_plotlyjs="inline" if first else False, full_html=False))
        first = False
    parts.append("<h2>Trials</h2>" + _trial_table(study, tests))
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>hpsearch: {html.escape(name)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>"
    )


def write_report(url: str, name: str, path: Path) -> Path:
    from hpsearch.output.files import check_output

    check_output(path)
    path.write_text(build_report(url, name), encoding="utf-8")
    return path


def _summary(study: optuna.Study, t: Tradeoff, tests: dict[int, dict[str, Any]]) -> str:
    tags = StudyTags.of(study)
    cfg, data = tags.config, tags.dataset
    counts: dict[str, int] = {}
    for tr in study.get_trials(deepcopy=False):
        counts[tr.state.name.lower()] = counts.get(tr.state.name.lower(), 0) + 1
    baseline = next((c for c in t.candidates if c.baseline), None)
    items = [
        ("space", tags.space),
        (
            "dataset",
            f"{data.get('description')} — {data.get('train')} train / "
            f"{data.get('validation')} validation / {data.get('test')} test",
        ),
        (
            "sampler / pruner",
            f"{cfg.get('sampler', {}).get('name')} / {cfg.get('pruner', {}).get('name')}",
        ),
        ("budget", json.dumps(cfg.get("budget", {}))),
        ("trials", ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))),
        ("objective", f"{t.metric} ({'maximize' if t.maximize else 'minimize'}), validation split"),
        (
            "baseline (tutorial)",
            "-"
            if baseline is None
            else f"trial {baseline.number}: {t.metric} {baseline.value:.4f}, "
            f"gap {baseline.gap:.4f}",
        ),
        (
            "pick",
            "none"
            if t.pick is None
            else f"trial {t.pick.number}: {t.metric} {t.pick.value:.4f}, {t.gap_measure} gap "
            f"{t.pick.gap:.4f} (max {t.max_gap:g}) — {t.reason}",
        ),
    ]
    for f in t.finalists:
        mark = " (the pick)" if t.pick is not None and f.number == t.pick.number else ""
        items.append(
            (
                f"finalist {f.number}{mark}",
                f"re-evaluated {t.metric} {f.text} on other validation splits and seeds "
                f"(search value {f.search_value:.4f}); mean {t.gap_measure} gap "
                f"{'-' if f.gap is None else f'{f.gap:.4f}'}; "
                f"{sum(r.epochs for r in f.runs)} extra epochs",
            )
        )
    if t.pick is not None and t.pick.number in tests:
        r = tests[t.pick.number]
        items.append(
            (
                "TEST split (measured once)",
                f"trial {t.pick.number}: test accuracy {r['test_accuracy']:.4f}, "
                f"macro F1 {fmt(r.get('test_macro_f1'))}, "
                f"test loss {r['test_loss']:.4f} on {r['test_size']} reviews",
            )
        )
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in items
    )
    return f"<table>{rows}</table>"


def confusion_html(confusion: dict[str, Any]) -> str:
    """A stored confusion matrix (``{"classes", "matrix"}``) as an HTML table; rows: true.
    Up to 50 classes; beyond, a note (a 1,000-class table is a million cells)."""
    if len(confusion["classes"]) > 50:
        return f"<p class='note'>{len(confusion['classes'])} classes: too many to tabulate.</p>"
    names = [html.escape(str(c)) for c in confusion["classes"]]
    head = "<tr><th>true \\ predicted</th>" + "".join(f"<th>{n}</th>" for n in names) + "</tr>"
    body = "".join(
        f"<tr><th>{names[i]}</th>" + "".join(f"<td>{int(v)}</td>" for v in row) + "</tr>"
        for i, row in enumerate(confusion["matrix"])
    )
    return f"<table class='confusion'>{head}{body}</table>"


def _trial_table(study: optuna.Study, tests: dict[int, dict[str, Any]]) -> str:
    head = (*TRIAL_COLUMNS, "TEST accuracy (once)")
    rows = []
    for t in study.get_trials(deepcopy=False):
        test = tests.get(t.number)
        tds = "".join(f"<td>{html.escape(c)}</td>" for c in trial_cells(trial_row(t)))
        tds += f"<td class='test'>{fmt(test['test_accuracy']) if test else ''}</td>"
        rows.append(f"<tr>{tds}</tr>")
    ths = "".join(f"<th>{h}</th>" for h in head)
    return f"<table><tr>{ths}</tr>{''.join(rows)}</table>"
