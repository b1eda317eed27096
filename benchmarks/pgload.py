"""How many workers one PostgreSQL server holds: the real store code under 16, 64 and 256
simulated workers, without TensorFlow.

Each simulated worker does what ``hpsearch worker`` does around training, through hpsearch's
own code: it opens its own store (:class:`hpsearch.store.database.Store`: Optuna's storage with
the heartbeat, hpsearch's tables, one engine and pool of its own, as a separate process has),
joins the study, and runs trials through the runner's loop
(:func:`hpsearch.engine.runner.trial_loop`: fail stale trials, claim a slot of the budget,
Optuna's ask and tell, the heartbeat thread), each trial ``--epochs`` epochs of
``--epoch-seconds`` seconds, writing one epoch row per epoch. The workers run as threads, up
to 16 per process (256 Python processes would not fit in memory), each thread with its own store.

For each size it reports trials and epoch rows per second, the median and 99th percentile of a
slot claim (``Budget.claim``) and of an epoch write (``EpochLog.record``), the most
connections the server held for the study's workers at once (``pg_stat_activity``, sampled
every 0.2 s) and per worker, and the errors by kind, against the server's ``max_connections``.

    bash .ci/postgres                       # Debian's PostgreSQL on 127.0.0.1, default settings
    python benchmarks/pgload.py             # 16, 64, 256 workers, 60 s each
    python benchmarks/pgload.py --smoke     # seconds: the harness works

Results: ``benchmarks/results/pgload.json`` and ``pgload.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://hpsearch:hpsearch@127.0.0.1:5432/hpsearch"
PER_PROCESS = 16


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def simulated_worker(url: str, study_name: str, spec: dict[str, Any], out: dict[str, Any]) -> None:
    """One worker: its own store, the runner's loop, trials of fake epochs."""
    import optuna

    from hpsearch.engine.runner import SilentReporter, trial_loop
    from hpsearch.store.database import Heartbeat, StaleTrial, Store

    claims: list[float] = []
    writes: list[float] = []
    errors: Counter[str] = Counter()
    trials = 0
    try:
        store = Store(url, write=True, create=False, heartbeat=Heartbeat(10, 30, StaleTrial(1)))
        study = optuna.load_study(
            study_name=study_name,
            storage=store.storage,
            sampler=optuna.samplers.RandomSampler(),
            pruner=optuna.pruners.NopPruner(),
        )
        budget = store.budget(study_name)
        claim = budget.claim

        def timed_claim() -> bool:
            began = time.perf_counter()
            try:
                return claim()
            finally:
                claims.append(time.perf_counter() - began)

        budget.claim = timed_claim  # type: ignore[method-assign]
        loop, _ = trial_loop(store, study, budget, SilentReporter())

        def objective(trial: optuna.Trial) -> float:
            trial.suggest_float("x", 0.0, 1.0)
            for epoch in range(1, spec["epochs"] + 1):
                time.sleep(spec["epoch_seconds"])
                began = time.perf_counter()
                store.epochs.record(study_name, trial.number, epoch, {"val_accuracy": 0.5}, 1.0)
                writes.append(time.perf_counter() - began)
            return 0.5

        end = time.time() + spec["seconds"]  # from this worker's start (imports take seconds)
        while time.time() < end:
            try:
                if not loop.run_one(objective):
                    break
                trials += 1
            except Exception as exc:
                errors[f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"] += 1
                time.sleep(1.0)
        store.close()
    except Exception as exc:
        errors[f"start: {type(exc).__name__}: {' '.join(str(exc).split())[:120]}"] += 1
    out.update(claims=claims, writes=writes, errors=dict(errors), trials=trials)


def process_main(url: str, study_name: str, spec: dict[str, Any], n: int, queue: Any) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    results: list[dict[str, Any]] = [{} for _ in range(n)]
    threads = [
        threading.Thread(target=simulated_worker, args=(url, study_name, spec, results[i]))
        for i in range(n)
    ]
    for t in threads:
        t.start()
        time.sleep(spec["stagger"])
    for t in threads:
        t.join()
    queue.put(results)


def connections(engine: Any, database: str) -> tuple[int, int]:
    """(connections of hpsearch processes to ``database``, max_connections)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        held = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                "AND application_name LIKE 'hpsearch %'"
            ),
            {"db": database},
        ).scalar_one()
        limit = int(conn.exec_driver_sql("SHOW max_connections").scalar_one())
    return int(held), limit


def one_size(url: str, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    import optuna
    import sqlalchemy as sa

    from hpsearch.store.database import Store

    name = f"pgload-{workers}-{uuid.uuid4().hex[:6]}"
    store = Store(url, write=True, create=True, heartbeat=None)
    store.create_tables()
    optuna.create_study(study_name=name, storage=store.storage)
    store.budget(name).set_total(10_000_000, claimed=0)
    store.close()
    spec = {
        "epochs": args.epochs,
        "epoch_seconds": args.epoch_seconds,
        "seconds": args.seconds,
        "stagger": args.stagger,
    }
    sizes = [PER_PROCESS] * (workers // PER_PROCESS)
    if workers % PER_PROCESS:
        sizes.append(workers % PER_PROCESS)
    queue: Any = mp.get_context("spawn").Queue()
    procs = [
        mp.get_context("spawn").Process(target=process_main, args=(url, name, spec, n, queue))
        for n in sizes
    ]
    began = time.time()
    for p in procs:
        p.start()
    monitor = sa.create_engine(url, poolclass=sa.pool.NullPool)
    database = sa.engine.make_url(url).database or ""
    peak, limit = 0, 0
    results: list[dict[str, Any]] = []
    while len(results) < workers:
        try:
            held, limit = connections(monitor, database)
            peak = max(peak, held)
        except Exception:
            pass
        while not queue.empty():
            results += queue.get()
        time.sleep(0.2)
    for p in procs:
        p.join()
    seconds = time.time() - began
    monitor.dispose()
    claims = [c for r in results for c in r.get("claims", [])]
    writes = [w for r in results for w in r.get("writes", [])]
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r.get("errors", {}))
    trials = sum(r.get("trials", 0) for r in results)
    return {
        "workers": workers,
        "seconds": round(seconds, 1),
        "trials": trials,
        "trials_per_second": trials / seconds,
        "epoch_rows_per_second": len(writes) / seconds,
        "claim_p50_ms": 1000 * (statistics.median(claims) if claims else float("nan")),
        "claim_p99_ms": 1000 * (percentile(claims, 0.99) or float("nan")),
        "write_p50_ms": 1000 * (statistics.median(writes) if writes else float("nan")),
        "write_p99_ms": 1000 * (percentile(writes, 0.99) or float("nan")),
        "peak_connections": peak,
        "connections_per_worker": peak / workers,
        "max_connections": limit,
        "errors": dict(errors.most_common(5)),
        "error_count": sum(errors.values()),
        "workers_that_ran": sum(1 for r in results if r.get("trials")),
    }


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    out = [
        f"{meta['epochs']} epochs of {meta['epoch_seconds']} s per trial, {meta['seconds']} s "
        f"per size; PostgreSQL `max_connections` = {rows[0]['max_connections'] if rows else '?'}; "
        f"machine: {meta['machine']}.",
        "",
        "| workers | ran | trials/s | epoch rows/s | claim p50 / p99 ms | epoch write p50 / p99 "
        "ms | peak connections (per worker) | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        errs = "; ".join(f"{n}x {k}" for k, n in r["errors"].items()) or "none"
        out.append(
            f"| {r['workers']} | {r['workers_that_ran']} | {r['trials_per_second']:.2f} | "
            f"{r['epoch_rows_per_second']:.1f} | {r['claim_p50_ms']:.1f} / {r['claim_p99_ms']:.1f}"
            f" | {r['write_p50_ms']:.1f} / {r['write_p99_ms']:.1f} | {r['peak_connections']} "
            f"({r['connections_per_worker']:.2f}) | {errs} |"
        )
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("HPSEARCH_TEST_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--workers", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--epoch-seconds", type=float, default=1.0)
    parser.add_argument("--stagger", type=float, default=0.05, help="s between thread starts")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--smoke", action="store_true", help="4 workers, 5 s")
    args = parser.parse_args()
    if args.smoke:
        args.workers, args.seconds, args.epochs, args.epoch_seconds = [4], 5.0, 2, 0.2
    rows = []
    for n in args.workers:
        rows.append(one_size(args.url, n, args))
        print(json.dumps(rows[-1]), flush=True)
    meta = {
        "epochs": args.epochs,
        "epoch_seconds": args.epoch_seconds,
        "seconds": args.seconds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "pgload-smoke" if args.smoke else "pgload"
    (args.out / f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (args.out / f"{stem}.md").write_text(markdown(rows, meta))
    print(markdown(rows, meta))


if __name__ == "__main__":
    main()
