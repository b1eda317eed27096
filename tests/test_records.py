"""The typed vocabulary: stop reasons round-trip through Optuna's stored attributes."""

from __future__ import annotations

import optuna

from hpsearch.records import StopReason


def test_stop_reasons_round_trip_through_a_real_store(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path / 'r.db'}"
    study = optuna.create_study(storage=storage, study_name="r")
    for reason in StopReason:
        trial = study.ask()
        trial.set_user_attr("stop_reason", reason.value)
        study.tell(trial, 0.0)
    stored = optuna.load_study(study_name="r", storage=storage).get_trials()
    assert [StopReason.read(t.user_attrs["stop_reason"]) for t in stored] == list(StopReason)
    # Older or foreign values read as unknown, never as an exception.
    assert StopReason.read("stopped by a cosmic ray") is None and StopReason.read(None) is None
    assert StopReason.read("nan") is StopReason.DIVERGED
