"""optuna-dashboard for hpsearch stores: launch it safely, and fill it with what Optuna lacks.

:func:`serve` runs optuna-dashboard's own server (its Python API) on the store after
checking the host, the port and the storage, so a mistake is one line, not a traceback
or an empty database created by accident.

:func:`publish` writes into the store what the dashboard shows beside Optuna's own data:
objective names, a Markdown study note (dataset, space, strategies, budget, baseline, best,
tradeoff pick) and the tradeoff scatter as a plotly figure; :func:`save_trial_note` writes a
note per trial (why it stopped, gap, epochs). Workers keep them current through a
:class:`Publisher`, whose cost per trial does not grow with the trials stored.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import sys
import time

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpsearch.errors import ConfigError, StorageError
from hpsearch.pick.tradeoff import Tradeoff, analyse
from hpsearch.store.database import Store
from hpsearch.store.tags import StudyTags

TRADEOFF_FIGURE_ID = "hpsearch-tradeoff"
_logger = logging.getLogger("hpsearch")
REMOTE_WARNING = (
    "hpsearch: warning: the dashboard has no authentication, and anyone who can reach "
    "{host}:{port} can read and change the store"
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Fail with one line if ``host:port`` cannot be listened on (in use, bad address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            reason = "is already in use" if exc.errno == 98 else f"cannot be used ({exc.strerror})"
            raise StorageError(
                f"port {port} on {host} {reason}; pick another with --port"
            ) from None


def serve(url: str, host: str, port: int, allow_remote: bool) -> None:
    """Run optuna-dashboard on ``url`` until interrupted."""
    if not is_loopback(host) and not allow_remote:
        raise ConfigError(
            f"--host {host} would expose the dashboard beyond this machine; it has no "
            "authentication and can change the store. Allowed: a loopback address, or add "
            "--allow-remote"
        )
    if not 0 < port < 65536:
        raise ConfigError(f"--port {port} is out of range; allowed: 1..65535")
    # Writable: notes typed into the dashboard are saved in the store.
    storage = Store.open(url, write=True).storage
    try:
        optuna.get_all_study_summaries(storage, include_best_trial=False)
    except Exception as exc:  # a locked, damaged or foreign database
        raise StorageError(
            f"storage {url!r} cannot be read: {' '.join(str(exc).split())[:200]}"
        ) from None
    check_port(host, port)
    if not is_loopback(host):
        print(REMOTE_WARNING.format(host=host, port=port), file=sys.stderr)
    from optuna_dashboard import run_server

    print(f"optuna-dashboard on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    run_server(storage, host=host, port=port)


REFRESH_SHARE = 0.1
"""A :class:`Publisher` redraws the study's note and figure once the trials finished in its
process since the last redraw reach this share of the study's finished trials then (at least
one): a redraw reads every trial, so spread over that many trials its cost per trial stays
the same however many trials the store holds."""


class Publisher:
    """Keeps what optuna-dashboard shows of a study current, at a cost per trial that does not
    grow with the trials stored (an Optuna callback; best effort, never stops a study).

    Each finished trial's note is written at once (:func:`save_trial_note`). The objective
    names, the study's note and the tradeoff figure read every trial, so they are redrawn by
    :meth:`refresh` on the schedule of :data:`REFRESH_SHARE`, and when a worker ends.
    """

    def __init__(self, store: Store, finished: int = 0, share: float = REFRESH_SHARE) -> None:
        self.store = store
        self.share = share
        self.finished = finished  # the study's finished trials at the last redraw
        self.since = 0  # trials finished in this process since then
        self.redraws: list[float] = []  # seconds each redraw took (the benchmark reads them)
        self._study_ids: dict[str, int] = {}

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        try:
            save_trial_note(self.store, self._study_id(study), trial, trial_note(trial))
        except Exception as exc:  # reported, never fatal
            _logger.debug(f"dashboard note of trial {trial.number} not written: {exc}")
        self.since += 1
        if self.since >= max(1, int(self.share * self.finished)):
            self.refresh(study)

    def refresh(self, study: optuna.Study) -> None:
        """Redraw the names, the study's note and the figure from every trial now."""
        started = time.perf_counter()
        try:
            self.finished = publish(study, self.store)
        except Exception as exc:  # reported, never fatal
            _logger.debug(f"dashboard notes not updated: {exc}")
        self.since = 0
        self.redraws.append(time.perf_counter() - started)

    def _study_id(self, study: optuna.Study) -> int:
        if study.study_name not in self._study_ids:
            storage = self.store.storage
            self._study_ids[study.study_name] = storage.get_study_id_from_name(study.study_name)
        return self._study_ids[study.study_name]


def save_trial_note(store: Store, study_id: int, trial: FrozenTrial, body: str) -> None:
    """Save a trial's note where and how optuna-dashboard's ``save_note`` does, at a cost
    that does not grow with the study.

    Written by hand because ``save_note`` reads every system attribute of the study, twice
    (to find the note's next version and to blank the chunks of a longer earlier note), and
    optuna-dashboard keeps every trial's note and every figure among them, so that read grows
    with the trials stored. A trial's note is written once, by the worker that ran it, as
    the trial finishes: version 1, no earlier chunks to blank. The keys and the chunking are
    optuna-dashboard's own helpers, so the dashboard reads the note as one of its own
    (tests/engine/test_runner.py reads it back with ``optuna_dashboard.get_note``).
    """
    from optuna_dashboard._note import note_ver_key, split_body

    storage = store.storage
    storage.set_study_system_attr(study_id, note_ver_key(trial._trial_id), 1)
    for key, chunk in split_body(body, trial._trial_id).items():
        storage.set_study_system_attr(study_id, key, chunk)


def publish(study: optuna.Study, store: Store) -> int:
    """Write the objective names, the study's note and the tradeoff figure of a study for the
    dashboard (this reads every trial); returns how many trials have finished."""
    from optuna_dashboard import save_note, save_plotly_graph_object

    from hpsearch.output.plots import scatter_figure

    tags = StudyTags.of(study)
    metric, gap = tags.score, tags.gap_measure
    names = [metric] if len(study.directions) == 1 else [metric, f"{gap} gap"]
    if study.metric_names != names:
        study.set_metric_names(names)
    tradeoff: Tradeoff | None = analyse(study, store.epochs)
    trials = study.get_trials(deepcopy=False)
    save_note(study, study_note(study, tradeoff, trials))
    if tradeoff is not None and tradeoff.candidates:
        save_plotly_graph_object(
            study, scatter_figure(tradeoff), graph_object_id=TRADEOFF_FIGURE_ID
        )
    return sum(1 for t in trials if t.state.is_finished())


def study_note(
    study: optuna.Study, t: Tradeoff | None, trials: list[FrozenTrial] | None = None
) -> str:
    """The study's Markdown note: data, space, strategies, budget, baseline, best, pick."""
    tags = StudyTags.of(study)
    cfg, data = tags.config, tags.dataset
    trials = study.get_trials(deepcopy=False) if trials is None else trials
    counts: dict[str, int] = {}
    for tr in trials:
        counts[tr.state.name.lower()] = counts.get(tr.state.name.lower(), 0) + 1
    metric = tags.objective
    lines = [
        f"## hpsearch study `{study.study_name}`",
        "",
        f"- **Space:** `{tags.space}`",
        f"- **Dataset:** {data.get('description')} — {data.get('train')} train / "
        f"{data.get('validation')} validation / {data.get('test')} test "
        f"(vocabulary {data.get('vocab_size')}, length {data.get('maxlen')}, "
        f"classes {', '.join(map(str, data.get('classes') or ['0', '1']))})",
        f"- **Sampler / pruner:** {cfg.get('sampler', {}).get('name')} / "
        f"{cfg.get('pruner', {}).get('name')}",
        f"- **Budget:** {json.dumps(cfg.get('budget', {}))}",
        f"- **Trials:** {', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'none yet'}",
    ]
    done = [tr for tr in trials if tr.state == TrialState.COMPLETE]
    baseline = next((tr for tr in done if tr.user_attrs.get("baseline")), None)
    if baseline is not None:
        lines.append(
            f"- **Baseline (the tutorial's settings):** trial {baseline.number}, "
            f"{metric} {baseline.values[0]:.4f}"
        )
    if done:
        sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
        best = min(done, key=lambda tr: sign * tr.values[0])
        lines.append(f"- **Best so far:** trial {best.number}, {metric} {best.values[0]:.4f}")
    if t is not None and t.chosen is not None:
        f = t.chosen
        runs = sum(r.epochs for g in t.finalists for r in g.runs)
        lines.append(
            f"- **Pick (re-evaluated):** trial {f.number}, {metric} {f.text} on other "
            f"validation splits and seeds (search value {f.search_value:.4f}), mean "
            f"{t.gap_measure} gap {f.gap if f.gap is None else round(f.gap, 4)}: {t.reason}; "
            f"{len(t.finalists)} finalists re-evaluated, {runs} extra epochs"
        )
    elif t is not None and t.pick is not None:
        lines.append(
            f"- **Tradeoff pick:** trial {t.pick.number}, {metric} {t.pick.value:.4f}, "
            f"{t.gap_measure} gap {t.pick.gap:.4f} (limit {t.max_gap:g}): {t.reason}"
        )
    elif t is not None:
        lines.append(f"- **Tradeoff pick:** none yet ({t.reason})")
    return "\n".join(lines) + "\n"


def trial_note(trial: FrozenTrial) -> str:
    """A trial's Markdown note: why it stopped, its gap and epochs. Written once, as the
    trial ends, so it holds only what stays true of the trial; which trial is the study's
    pick changes as trials finish, and the study's note says it."""
    a = trial.user_attrs
    gaps = ", ".join(
        f"{k.removeprefix('gap_')} gap {a[k]:.4f}" for k in ("gap_accuracy", "gap_loss") if k in a
    )
    lines = [
        f"### Trial {trial.number}{' (baseline)' if a.get('baseline') else ''}",
        "",
        f"- **Stopped:** {a.get('stop_reason', trial.state.name.lower())} after "
        f"{a.get('epochs', 0)} epochs (best epoch {a.get('best_epoch', '-')})",
        f"- **Gap at best epoch:** {gaps or '-'}",
    ]
    if a.get("worker"):
        devices = a.get("devices")
        on = f" ({devices})" if devices else ""
        lines.append(f"- **Ran on:** {str(a['worker']).rpartition(':')[0]}{on}")
    if a.get("fail_reason"):
        lines.append(f"- **Failure:** {a['fail_reason']}")
    return "\n".join(lines) + "\n"
