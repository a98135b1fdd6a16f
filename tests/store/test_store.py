"""The challenge store on SQLite and PostgreSQL: migrations, single use, expiry, export."""

from __future__ import annotations

import csv
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from captchalab.store import AnswerOutcome, ChallengeStore, IssuedChallenge, connect, migrate
from captchalab.store.export import export_answers, parse_since
from captchalab.store.records import Verdict, keyed_digest
from captchalab.store.tables import AnswerRow, ChallengeRow

KEY = b"k" * 32


def judge_for(answer: str):
    digest = keyed_digest(KEY, "text", answer)

    def judge(stored: str, length: int) -> Verdict:
        return Verdict(digest == stored, len(answer) != length)

    return judge


def challenge(
    cid: str, text_: str, issued_ms: int = 1_000, ttl_ms: int = 60_000
) -> IssuedChallenge:
    return IssuedChallenge(
        id=cid,
        scheme="hku",
        text_digest=keyed_digest(KEY, "text", text_),
        text_length=len(text_),
        image_png=b"\x89PNG fake " + cid.encode(),
        client_digest=keyed_digest(KEY, "client", "10.0.0.1"),
        issued_at_ms=issued_ms,
        expires_at_ms=issued_ms + ttl_ms,
    )


@pytest.fixture
def store(database_url: str):
    engine = connect(database_url)
    migrate(engine)
    yield ChallengeStore(engine)
    engine.dispose()


def test_migrations_create_the_schema_and_rerun_as_no_ops(database_url: str) -> None:
    engine = connect(database_url)
    migrate(engine)
    migrate(engine)  # idempotent: what every worker does at startup
    tables = set(inspect(engine).get_table_names())
    assert {"challenges", "answers", "secrets", "alembic_version"} <= tables
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        )
    engine.dispose()


def test_sqlite_store_is_a_wal_file(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'sub' / 's.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
    assert (tmp_path / "sub" / "s.db").is_file()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://x/y", "::nonsense"])
def test_bad_urls_are_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError, match=r"SQLite store must be a file|unsupported|invalid"):
        connect(url)


def test_an_answer_is_judged_stored_and_single_use(store: ChallengeStore) -> None:
    store.issue(challenge("c1", "AbC4"))
    client = keyed_digest(KEY, "client", "10.0.0.2")
    outcome, verdict = store.answer("c1", "AbC4", client, 3_500, judge_for("AbC4"))
    assert outcome is AnswerOutcome.ACCEPTED and verdict == Verdict(True, False)
    outcome, verdict = store.answer("c1", "AbC4", client, 3_600, judge_for("AbC4"))
    assert (outcome, verdict) == (AnswerOutcome.USED, None)
    assert store.answer("nope", "x", client, 3_600, judge_for("x"))[0] is AnswerOutcome.UNKNOWN
    [stored] = list(store.answers())
    assert (stored.challenge_id, stored.answer, stored.answer_length) == ("c1", "AbC4", 4)
    assert (stored.correct, stored.length_anomaly, stored.time_to_answer_ms) == (True, False, 2_500)
    assert stored.client_digest == client
    assert stored.image_png == b"\x89PNG fake c1"


def test_wrong_and_wrong_length_answers_are_flagged(store: ChallengeStore) -> None:
    store.issue(challenge("c1", "AbC4"))
    store.issue(challenge("c2", "AbC4"))
    store.answer("c1", "AbC5", "d", 2_000, judge_for("AbC5"))
    store.answer("c2", "AbC45", "d", 2_000, judge_for("AbC45"))
    answers = {a.challenge_id: a for a in store.answers()}
    assert (answers["c1"].correct, answers["c1"].length_anomaly) == (False, False)
    assert (answers["c2"].correct, answers["c2"].length_anomaly) == (False, True)
    assert [a.challenge_id for a in store.answers(flagged_only=True)] == ["c2"]


def test_expired_challenges_refuse_answers_and_store_nothing(store: ChallengeStore) -> None:
    store.issue(challenge("c1", "AbC4", issued_ms=1_000, ttl_ms=1_000))
    assert store.answer("c1", "AbC4", "d", 2_000, judge_for("AbC4"))[0] is AnswerOutcome.EXPIRED
    assert list(store.answers()) == []
    with store.engine.connect() as connection:
        used = connection.execute(select(ChallengeRow.used)).scalar()
    assert used is False


def test_only_one_of_many_racing_answers_wins(store: ChallengeStore) -> None:
    store.issue(challenge("race", "AbC4"))
    outcomes: list[AnswerOutcome] = []
    barrier = threading.Barrier(8)

    def answer() -> None:
        barrier.wait()
        outcomes.append(store.answer("race", "AbC4", "d", 2_000, judge_for("AbC4"))[0])

    threads = [threading.Thread(target=answer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(AnswerOutcome.ACCEPTED) == 1
    assert outcomes.count(AnswerOutcome.USED) == 7
    with store.engine.connect() as connection:
        assert len(connection.execute(select(AnswerRow.id)).all()) == 1


def test_purge_drops_only_expired_unanswered_challenges(store: ChallengeStore) -> None:
    store.issue(challenge("old", "AbC4", issued_ms=1_000, ttl_ms=1_000))
    store.issue(challenge("answered", "AbC4", issued_ms=1_000, ttl_ms=1_000))
    store.issue(challenge("live", "AbC4", issued_ms=1_000, ttl_ms=100_000))
    store.answer("answered", "AbC4", "d", 1_500, judge_for("AbC4"))
    assert store.purge_unanswered(before_ms=50_000) == 1
    with store.engine.connect() as connection:
        left = set(connection.execute(select(ChallengeRow.id)).scalars())
    assert left == {"answered", "live"}


def test_the_generated_secret_is_stored_once(store: ChallengeStore) -> None:
    first = store.secret("hmac")
    assert len(first) == 32
    assert store.secret("hmac") == first
    assert store.secret("other") != first


def test_export_writes_a_labelled_folder(store: ChallengeStore, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    now_ms = int(now.timestamp() * 1000)
    for i, answer in enumerate(["AbC4", "xy", "", 'q,"z']):
        store.issue(challenge(f"c{i}", "AbC4", issued_ms=now_ms - 1_000))
        store.answer(f"c{i}", answer, "d", now_ms, judge_for(answer))
    summary = export_answers(store, tmp_path / "out", since=now - timedelta(minutes=5))
    assert (summary.written, summary.skipped_empty, summary.flagged) == (3, 1, 1)
    with (tmp_path / "out" / "labels.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["filename", "label"],
        ["000000.png", "AbC4"],
        ["000001.png", "xy"],
        ["000002.png", 'q,"z'],
    ]
    assert (tmp_path / "out" / "000001.png").read_bytes() == b"\x89PNG fake c1"
    flagged = export_answers(
        store, tmp_path / "out", since=now - timedelta(minutes=5), flagged_only=True, overwrite=True
    )
    assert (flagged.written, flagged.skipped_empty) == (1, 1)  # "xy"; "" has no label
    assert not (tmp_path / "out" / "000001.png").exists()
    later = export_answers(store, tmp_path / "later", since=now + timedelta(minutes=1))
    assert later.written == 0
    with pytest.raises(FileExistsError):
        export_answers(store, tmp_path / "later", since=now)


def test_parse_since_takes_durations_and_iso_times() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("90s", now) == now - timedelta(seconds=90)
    assert parse_since("2026-11-30T08:00", now) == datetime(2026, 11, 30, 8, tzinfo=timezone.utc)
    assert parse_since("2026-11-30T08:00Z", now) == datetime(2026, 11, 30, 8, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="duration"):
        parse_since("yesterday", now)
