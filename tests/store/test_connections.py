"""A worker holds at most two connections to a database server (its own and the heartbeat
thread's), counted by PostgreSQL itself in ``pg_stat_activity`` while it trains."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.engine.test_workers import PG_URL, hpsearch, study_text


@pytest.mark.slow
@pytest.mark.skipif(
    PG_URL is None, reason="HPSEARCH_TEST_POSTGRES_URL is not set (.ci/run sets it)"
)
def test_a_worker_holds_at_most_two_connections(tmp_path: Path) -> None:
    assert PG_URL is not None
    name = f"conn-{uuid.uuid4().hex[:8]}"
    (tmp_path / "s.toml").write_text(study_text(name, PG_URL, 6, 20, samples=400))
    create = hpsearch("create", "s.toml", cwd=tmp_path)
    assert create.wait(timeout=120) == 0
    worker = hpsearch("worker", name, "--storage", PG_URL, "--quiet", cwd=tmp_path)
    engine = sa.create_engine(PG_URL)
    app = f"hpsearch %:{worker.pid}"
    peak, seen = 0, 0
    while worker.poll() is None:
        with engine.connect() as conn:
            held = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE :app"),
                {"app": app},
            ).scalar_one()
        peak, seen = max(peak, held), seen + (held > 0)
        time.sleep(0.05)
    engine.dispose()
    assert worker.returncode == 0, worker.communicate()[1]
    assert seen > 10  # it was watched while it worked
    assert 1 <= peak <= 2


def test_a_full_server_says_what_to_do() -> None:
    from hpsearch.store.database import _reason

    refused = Exception(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
        "remaining connection slots are reserved for non-replication superuser connections"
    )
    assert _reason(refused).startswith("the server has no connection left for this process")
    assert "raise max_connections" in _reason(Exception("FATAL: sorry, too many clients already"))
