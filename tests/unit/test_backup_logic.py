"""Pure logic of the backup engine: cron in Beijing time, policy input, retention choice."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from backup.engine import prunable, server_address
from backup.policies import validate
from backup.schedule import next_fire
from portal.models.backups import EXTRACTIONS, EXTRACTION_TRANSITIONS, ExtractionState
from portal.errors import ValidationFailed

UTC = timezone.utc


def test_cron_is_beijing_time_and_strictly_after():
    at = datetime(2026, 11, 26, 17, 59, 59, 500000, tzinfo=UTC)  # 01:59:59.5 in Beijing
    assert next_fire("0 2 * * *", at) == datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # 02:00 Beijing
    assert next_fire("0 2 * * *", datetime(2026, 11, 26, 18, 0, tzinfo=UTC)) == datetime(2026, 11, 27, 18, 0,
                                                                                         tzinfo=UTC)
    assert next_fire("*/5 * * * *", datetime(2026, 11, 26, 18, 3, tzinfo=UTC)).minute == 5
    # Monday 03:30 in Beijing is Sunday 19:30 UTC
    fire = next_fire("30 3 * * 1", datetime(2026, 11, 26, tzinfo=UTC))
    assert fire == datetime(2026, 11, 29, 19, 30, tzinfo=UTC)


def test_policy_input_is_checked():
    ok = validate({"name": " 每日 ", "cron": "0  2 * * *", "keep_count": "7", "kinds": "volume"})
    assert ok["name"] == "每日" and ok["cron"] == "0 2 * * *" and ok["keep_count"] == 7 and ok["keep_days"] is None
    assert ok["timeout_seconds"] == 3600 and ok["ssh_port"] == 22
    for bad, field in [({"cron": "0 2 * *"}, "cron"), ({"cron": "99 2 * * *"}, "cron"),
                       ({"keep_count": None, "keep_days": None}, "keep_count"), ({"keep_count": "0"}, "keep_count"),
                       ({"kinds": "all"}, "kinds"), ({"hook_pre": "sync"}, "ssh_username"),
                       ({"ssh_key_id": "../id"}, "ssh_key_id"), ({"ssh_key_id": "0"}, "ssh_key_id"),
                       ({"hook_pre": "sync", "ssh_username": "root", "ssh_host_key": "ssh-ed25519 AAAA"}, "ssh_key_id"),
                       ({"name": ""}, "name")]:
        data = {"name": "p", "cron": "0 2 * * *", "keep_count": "3", **bad}
        with pytest.raises(ValidationFailed) as exc:
            validate(data)
        assert exc.value.field == field, bad


def _artifact(i, days_ago, kind="volume", source="volume:R1:web-1:data", verified=None):
    now = datetime(2026, 11, 26, tzinfo=UTC)
    return SimpleNamespace(id=i, kind=kind, source_key=source, created_at=now - timedelta(days=days_ago),
                           verify_outcome=verified)


def test_retention_keeps_count_days_and_the_last_good_one():
    now = datetime(2026, 11, 26, tzinfo=UTC)
    rows = [_artifact(1, 3), _artifact(2, 2), _artifact(3, 1), _artifact(4, 1, kind="snapshot", source="server:R1:web-1")]
    assert sorted((a.id, r) for a, r in prunable(rows, 2, None, now)) == [(1, "keep_count")]
    assert sorted((a.id, r) for a, r in prunable(rows, None, 1, now)) == [(1, "keep_days"), (2, "keep_days")]
    # all too old: the newest of each source stays
    assert sorted(a.id for a, _r in prunable(rows, 1, 1, now + timedelta(days=30))) == [1, 2]
    # the newest verified one stays too
    rows[0].verify_outcome = "ok"
    assert sorted(a.id for a, _r in prunable(rows, 1, None, now)) == [2]


def test_ssh_address_prefers_the_floating_ip():
    row = SimpleNamespace(attributes={"addresses": [{"addr": "10.0.0.5", "type": "fixed"},
                                                    {"addr": "172.24.4.9", "type": "floating"}]})
    assert server_address(row) == "172.24.4.9"
    assert server_address(SimpleNamespace(attributes={})) == ""


def test_extraction_needs_approval_before_ready():
    assert not EXTRACTIONS.can("applied", "ready")
    assert EXTRACTIONS.next_state("applied", "approve") == ExtractionState.APPROVED
    assert EXTRACTIONS.next_state("approved", "ready") == ExtractionState.READY
    assert EXTRACTIONS.next_state("ready", "expire") == ExtractionState.EXPIRED
    assert all(src != ExtractionState.REJECTED for src, _a in EXTRACTION_TRANSITIONS)


def test_cron_day_numbers_are_crontab_numbers():
    monday = datetime(2026, 11, 29, 19, 30, tzinfo=UTC)  # Monday 03:30 Beijing
    start = datetime(2026, 11, 26, tzinfo=UTC)
    assert next_fire("30 3 * * 1", start) == monday
    assert next_fire("30 3 * * 0", start) == monday - timedelta(days=1)  # Sunday
    assert next_fire("30 3 * * 7", start) == monday - timedelta(days=1)
    assert next_fire("30 3 * * 1-5", start) == datetime(2026, 11, 26, 19, 30, tzinfo=UTC)  # Friday
    assert next_fire("30 3 * * 6,0", start) == datetime(2026, 11, 27, 19, 30, tzinfo=UTC)  # Saturday
    assert next_fire("30 3 * * 0-6", start) == datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    assert next_fire("30 3 * * 0-6/2", start) == datetime(2026, 11, 27, 19, 30, tzinfo=UTC)  # sun,tue,thu,sat
