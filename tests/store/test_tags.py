"""The study's tags: one typed record, written and read back through a real store."""

from __future__ import annotations

import optuna

from hpsearch.store.tags import SPACE, StudyTags


def test_tags_round_trip_through_a_real_store(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path / 't.db'}"
    tags = StudyTags(
        space="pooled",
        metric="val_macro_f1",
        config={"name": "t", "tradeoff": {"gap": "loss", "max_gap": 0.2}},
        dataset={"train": 10, "classes": ["a", "b", "c"]},
        space_origin="/x/pooled.py",
        space_fingerprint="ab" * 32,
    )
    tags.write(optuna.create_study(storage=storage, study_name="t"))
    back = StudyTags.of(optuna.load_study(study_name="t", storage=storage))
    assert back == tags and back.by_hpsearch
    assert back.gap_measure == "loss" and back.classes == ["a", "b", "c"]


def test_a_plain_optuna_study_reads_as_untagged(tmp_path) -> None:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'p.db'}")
    tags = StudyTags.of(study)
    assert not tags.by_hpsearch and tags.objective == "value" and tags.gap_measure == "accuracy"
    assert tags.classes is None
    study.set_user_attr(SPACE, 42)  # malformed: read as absent, never an exception
    assert StudyTags.of(study).space is None
