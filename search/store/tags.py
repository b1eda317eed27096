"""The study's tags: what hpsearch writes on an Optuna study, read and written here only.

Optuna keeps them as study user attributes (JSON), so plain Optuna and optuna-dashboard show
them too. :class:`StudyTags` is the typed record every reader uses instead of the raw keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import optuna

from hpsearch.config import score_name

SPACE = "hpsearch:space"
METRIC = "hpsearch:metric"
CONFIG = "hpsearch:config"
DATASET = "hpsearch:dataset"
ORIGIN = "hpsearch:space_origin"
FINGERPRINT = "hpsearch:space_sha256"
SOURCE = "hpsearch:source"
DATA_FILES = "hpsearch:data_files"
DATA_ACCEPTED = "hpsearch:data_accepted"


@dataclass(frozen=True)
class StudyTags:
    """What a study records about itself when hpsearch creates it."""

    space: str | None = None
    """The space's name; None for a study hpsearch did not create."""
    metric: str | None = None
    """The objective metric (``val_accuracy``, ...); None for a study hpsearch did not
    create (see :attr:`objective`)."""
    config: dict[str, Any] = field(default_factory=dict)
    """The study file as a dict (:meth:`hpsearch.config.StudyConfig.to_dict`)."""
    dataset: dict[str, Any] = field(default_factory=dict)
    """Sizes, vocabulary, length and class names (:meth:`hpsearch.data.Dataset.summary`)."""
    space_origin: str | None = None
    """Where the space was loaded from: an absolute path, a module, or ``<object NAME>``."""
    space_fingerprint: str | None = None
    """sha256 of the space's source when the study was created."""
    source: str | None = None
    """Who wrote the trials when not hpsearch's runner (``keras-tuner Hyperband``)."""
    data_files: dict[str, Any] = field(default_factory=dict)
    """The fingerprint of every data file (:mod:`hpsearch.data.fingerprint`) the study is
    bound to: recorded at creation, replaced when a change is accepted."""
    data_accepted: list[Any] = field(default_factory=list)
    """Every data change accepted with ``--accept-changed-data``: which file, when, by what."""

    @classmethod
    def of(cls, study: optuna.Study) -> StudyTags:
        """The tags a study holds (defaults where a key is absent or malformed)."""
        a = study.user_attrs

        def text(key: str) -> str | None:
            value = a.get(key)
            return value if isinstance(value, str) else None

        def table(key: str) -> dict[str, Any]:
            value = a.get(key)
            return value if isinstance(value, dict) else {}

        return cls(
            space=text(SPACE),
            metric=text(METRIC),
            config=table(CONFIG),
            dataset=table(DATASET),
            space_origin=text(ORIGIN),
            space_fingerprint=text(FINGERPRINT),
            source=text(SOURCE),
            data_files=table(DATA_FILES),
            data_accepted=list(a.get(DATA_ACCEPTED) or []),
        )

    def write(self, study: optuna.Study) -> None:
        """Set every tag that has a value."""
        values = {
            SPACE: self.space,
            METRIC: self.metric,
            CONFIG: json.loads(json.dumps(self.config, default=str)) if self.config else None,
            DATASET: self.dataset or None,
            ORIGIN: self.space_origin,
            FINGERPRINT: self.space_fingerprint,
            SOURCE: self.source,
            DATA_FILES: self.data_files or None,
            DATA_ACCEPTED: self.data_accepted or None,
        }
        for key, value in values.items():
            if value is not None:
                study.set_user_attr(key, value)

    @property
    def by_hpsearch(self) -> bool:
        """Whether hpsearch (or its KerasTuner bridge) created the study: it names the
        metric its trials report."""
        return self.metric is not None

    @property
    def objective(self) -> str:
        """The objective metric's name, ``value`` for a study hpsearch did not create."""
        return self.metric or "value"

    @property
    def score(self) -> str:
        """What a trial's value is: the objective metric, or ``<metric>_penalized`` when the
        study penalizes the gap (``[tradeoff] penalize``;
        :class:`hpsearch.portable.training.GapPenalty`)."""
        return score_name(self.objective, bool(self.tradeoff.get("penalize")))

    @property
    def tradeoff(self) -> dict[str, Any]:
        """The study file's ``[tradeoff]`` table."""
        value = self.config.get("tradeoff", {})
        return value if isinstance(value, dict) else {}

    @property
    def gap_measure(self) -> str:
        """The study's gap measure (``accuracy`` or ``loss``)."""
        return str(self.tradeoff.get("gap", "accuracy"))

    @property
    def validation_size(self) -> int | None:
        """How many texts the study's validation split holds, for studies that recorded it."""
        value = self.dataset.get("validation")
        return value if isinstance(value, int) and value > 0 else None

    @property
    def classes(self) -> list[str] | None:
        """The class names in label order, for studies that recorded them."""
        value = self.dataset.get("classes")
        return [str(c) for c in value] if isinstance(value, list) else None
