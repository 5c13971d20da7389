"""The audit log is tamper-evident: edits, deletions and insertions made directly in the
database are named by `govcloud audit verify`; concurrent writers keep one chain."""
import csv
import io
import re
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from portal import audit_chain
from portal.models.audit import AuditChainHead, AuditEvent
from portal.services.audit import RequestInfo, record_event
from tests.conftest import audit_guard_suspended

KEY = b"test-audit-key"


def write_events(session, n, prefix="test.event"):
    ctx = RequestInfo(correlation_id="req-chain", remote_addr="127.0.0.1")
    for i in range(n):
        record_event(session, ctx, f"{prefix}", object_type="thing", object_id=str(i),
                     before={"n": i}, after={"n": i + 1, "名称": "甲"}, detail=f"第{i}条")
        session.commit()


def rewrite_chain(session, events, index, detail):
    """An intruder with the superuser's rights edits events[index] and recomputes every later
    hash, the head's included: the chain is consistent again."""
    with audit_guard_suspended(session):
        events[index].detail = detail
        prev = events[index - 1].hash
        for ev in events[index:]:
            ev.prev_hash = prev
            ev.hash = prev = audit_chain.event_hash(ev)
        session.get(AuditChainHead, 1).hash = prev


def events_by_seq(session):
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_every_commit_extends_one_chain(db_session):
    write_events(db_session, 5)
    events = events_by_seq(db_session)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == audit_chain.GENESIS
    for prev, ev in zip(events, events[1:]):
        assert ev.prev_hash == prev.hash
    head = db_session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (5, events[-1].hash)
    report = audit_chain.verify(db_session, KEY)
    assert report.ok and report.events == 5


def test_a_rolled_back_event_leaves_no_trace(db_session):
    write_events(db_session, 2)
    record_event(db_session, RequestInfo(), "test.rolled_back")
    db_session.rollback()
    write_events(db_session, 1)
    assert [e.seq for e in events_by_seq(db_session)] == [1, 2, 3]
    assert audit_chain.verify(db_session).ok


def test_an_event_in_a_rolled_back_savepoint_is_dropped_the_rest_sealed(db_session):
    ctx = RequestInfo()
    record_event(db_session, ctx, "test.kept.before")
    with pytest.raises(RuntimeError):
        with db_session.begin_nested():
            record_event(db_session, ctx, "test.dropped")
            raise RuntimeError("the savepoint's work fails")
    record_event(db_session, ctx, "test.kept.after")
    db_session.commit()
    assert [e.action for e in events_by_seq(db_session)] == ["test.kept.before", "test.kept.after"]
    assert audit_chain.verify(db_session).ok


@pytest.mark.parametrize("column,value", [("detail", "无害的修改"), ("actor_username", "someone"),
                                          ("outcome", "failure")])
def test_an_altered_row_is_named(db_session, column, value):
    write_events(db_session, 6)
    target = events_by_seq(db_session)[3]
    with audit_guard_suspended(db_session):
        db_session.execute(text(f"UPDATE audit_event SET {column} = :v WHERE id = :id"),
                           {"v": value, "id": target.id})
    db_session.commit()
    db_session.expire_all()
    report = audit_chain.verify(db_session, KEY)
    assert [(p.kind, p.event_id) for p in report.problems] == [("altered", target.id)]


def test_a_deleted_row_is_named(db_session):
    write_events(db_session, 6)
    target = events_by_seq(db_session)[2]
    with audit_guard_suspended(db_session):
        db_session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": target.id})
    db_session.commit()
    report = audit_chain.verify(db_session, KEY)
    assert [(p.kind, p.seq) for p in report.problems] == [("deleted", target.seq)]


def test_the_last_row_deleted_is_named(db_session):
    write_events(db_session, 4)
    last = events_by_seq(db_session)[-1]
    with audit_guard_suspended(db_session):
        db_session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": last.id})
    db_session.commit()
    report = audit_chain.verify(db_session, KEY)
    assert [(p.kind, p.seq) for p in report.problems] == [("deleted", last.seq)]


def test_an_inserted_row_is_named(db_session):
    write_events(db_session, 3)
    db_session.execute(text(
        "INSERT INTO audit_event (occurred_at, actor_username, actor_role, action, object_type,"
        " object_id, outcome, request_id, remote_addr, detail) VALUES"
        " (CURRENT_TIMESTAMP, 'intruder', 'admin', 'user.create', 'user', '99', 'success', '',"
        " '', '')"))
    db_session.commit()
    forged = db_session.scalars(select(AuditEvent).where(AuditEvent.actor_username == "intruder")).one()
    report = audit_chain.verify(db_session, KEY)
    assert [(p.kind, p.event_id) for p in report.problems] == [("inserted", forged.id)]


def test_a_rewritten_chain_is_caught_by_the_signed_digest(db_session):
    write_events(db_session, 5)
    audit_chain.write_digest(db_session, KEY)
    db_session.commit()
    # An intruder edits event 2 and recomputes every later hash, head included: the chain is
    # consistent again, but it no longer matches what the digest signed.
    rewrite_chain(db_session, events_by_seq(db_session), 1, "篡改")
    db_session.commit()
    assert audit_chain.verify(db_session, key=None).ok  # without the key it looks intact
    report = audit_chain.verify(db_session, KEY)
    assert [(p.kind, p.seq) for p in report.problems] == [("digest", 5)]
    assert not audit_chain.verify(db_session, b"another key").ok


def test_verify_a_time_range(db_session):
    write_events(db_session, 6)
    events = events_by_seq(db_session)
    report = audit_chain.verify(db_session, KEY, since=events[2].occurred_at,
                                until=events[5].occurred_at)
    assert report.ok and (report.first_seq, report.last_seq) == (3, 5)
    with audit_guard_suspended(db_session):
        db_session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[1].id})
    db_session.commit()
    report = audit_chain.verify(db_session, KEY, since=events[2].occurred_at)
    assert [(p.kind, p.seq) for p in report.problems] == [("deleted", 2)]


def test_concurrent_writers_keep_one_chain(app, db_session):
    engine = app.extensions["govcloud_db"][0]
    writers, per_writer = 4, 25
    errors = []

    def writer(n):
        try:
            with Session(engine) as session:
                write_events(session, per_writer, prefix=f"test.writer{n}")
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    if app.backend == "sqlite":
        writers = 1  # SQLite serializes writers by locking the file; one writer suffices
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    events = events_by_seq(db_session)
    assert [e.seq for e in events] == list(range(1, writers * per_writer + 1))
    assert audit_chain.verify(db_session, KEY).ok


def test_cli_verify_names_the_tampered_event(app, db_session):
    app.config["AUDIT_HMAC_KEY"] = KEY.decode()
    write_events(db_session, 4)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "digest"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "checked 4 events" in result.output and "1 signed digests" in result.output
    target = events_by_seq(db_session)[1]
    with audit_guard_suspended(db_session):
        db_session.execute(text("UPDATE audit_event SET action = 'user.delete' WHERE id = :id"),
                           {"id": target.id})
    db_session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"event id {target.id} (seq 2) was changed" in result.output


# --- the audit pages: search, keyset pages, streamed CSV -------------------------------------

def seed_audit(app, seed, n=45):
    from portal.extensions import db
    with app.app_context():
        ctx = RequestInfo(correlation_id="req-page")
        for i in range(n):
            dept = seed.dept_a if i % 3 else seed.dept_b
            record_event(db.session, ctx, "department.update", object_type="department",
                         object_id=str(dept), department_id=dept, detail=f"n{i}",
                         after={"n": i, "名称": "甲局"},
                         outcome="failure" if i == 7 else "success")
        db.session.commit()


def _rows(html):
    return re.findall(r'<td class="json-cell">', html)


def _link(html, name):
    match = re.search(rf'id="audit-{name}" href="([^"#]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_audit_pages_walk_the_log_both_ways(app, seed, login_as):
    seed_audit(app, seed)
    app.config["PAGE_SIZE"] = 20
    client = login_as("auditor")
    first = client.get("/audit/?request_id=req-page").get_data(as_text=True)
    second = client.get(_link(first, "older")).get_data(as_text=True)
    third = client.get(_link(second, "older")).get_data(as_text=True)
    assert [len(_rows(h)) for h in (first, second, third)] == [20, 20, 5]
    assert _link(first, "newer") is None and _link(third, "older") is None
    assert '<code>n</code>：44</li>' in first and '<code>名称</code>：甲局</li>' in first  # a readable list
    assert '<code>n</code>：0</li>' in third  # newest first
    back = client.get(_link(third, "newer")).get_data(as_text=True)
    assert len(_rows(back)) == 20 and "<code>n</code>：24<" in back and "<code>n</code>：5<" in back
    assert "<code>n</code>：25<" not in back and "<code>n</code>：4<" not in back


def test_audit_search_filters_and_scopes(app, seed, login_as):
    from portal.services.audit import AuditFilter, search_events
    from portal.extensions import db
    from portal.models.accounts import User
    seed_audit(app, seed)
    with app.app_context():
        auditor = db.session.scalars(select(User).where(User.username == seed.users["auditor"])).one()
        dept_user = db.session.scalars(select(User).where(User.username == seed.users["dept"])).one()
        everything = search_events(db.session, auditor, AuditFilter(request_id="req-page"),
                                   per_page=100).items
        assert len(everything) == 45
        failures = search_events(db.session, auditor, AuditFilter(outcome="failure",
                                                                   request_id="req-page")).items
        assert [e.detail for e in failures] == ["n7"]
        own = search_events(db.session, dept_user, AuditFilter(request_id="req-page"),
                            per_page=100).items
        assert own and {e.department_id for e in own} == {seed.dept_a}
        foreign = search_events(db.session, dept_user,
                                AuditFilter(department_id=seed.dept_b), per_page=100).items
        assert foreign == []


def test_audit_search_rejects_a_reversed_date_range_in_chinese(login_as):
    html = login_as("auditor").get("/audit/?since=2026-05-02&until=2026-05-01").get_data(as_text=True)
    assert "截止日期早于起始日期" in html
    assert 'id="audit-table"' not in html


def test_audit_csv_export_streams_everything_and_is_audited(app, seed, login_as, db_session):
    seed_audit(app, seed, n=2500)
    response = login_as("auditor").get("/audit/export.csv?request_id=req-page")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["序号", "时间（北京时间）", "用户"]  # for people: Chinese headers, Beijing time
    assert len(rows) == 1 + 2500
    assert [r[13] for r in rows[1:4]] == ["n0", "n1", "n2"]
    exported = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).one()
    assert exported.actor_username == seed.users["auditor"]
    dept_rows = list(csv.reader(io.StringIO(
        login_as("dept").get("/audit/export.csv?request_id=req-page").get_data(as_text=True))))
    assert len(dept_rows) - 1 == sum(1 for i in range(2500) if i % 3)


def _request_edit(app, seed):
    """Record the department's edit of its draft request (before/after values) and return its event."""
    from portal.extensions import db
    from portal.models.accounts import User
    with app.app_context():
        user = db.session.get(User, seed.user_ids["dept"])
        event = record_event(db.session, RequestInfo(actor=user, correlation_id="0" * 32), "request.update",
                             object_type="resource_request", object_id=str(seed.extra["request_id"][0]),
                             department_id=seed.dept_a, before={"system_name": "办公系统"},
                             after={"system_name": "协同办公系统", "spec": {"servers": [{"name": "web", "count": 2}]}})
        db.session.commit()
        return event.occurred_at


def test_audit_filter_by_object_label_free_text_and_totals(app, seed, login_as):
    """Issue 17: object types are chosen by their labels, free text finds an action by a word of
    its label, the page counts what matches; the request column names the 申请编号, the change is a
    readable before/after list, not JSON."""
    seed_audit(app, seed, n=3)
    _request_edit(app, seed)
    client = login_as("auditor")
    form = client.get("/audit/").get_data(as_text=True)
    assert '<option value="resource_request">政务云资源需求申请</option>' in form
    assert 'name="object_type" type="text"' not in form
    html = client.get("/audit/?object_type=resource_request").get_data(as_text=True)
    assert "共 1 条记录。" in html and "ZWY-T-" in html
    assert "系统名称：<del>办公系统</del> → 协同办公系统" in html and "&#34;" not in html
    assert "云主机：（数量：2、名称：web）" in re.sub(r"<[^>]+>", "", html)
    assert "共 1 条记录。" in client.get("/audit/?q=修改").get_data(as_text=True)  # 申请已修改
    assert "共 1 条记录。" in client.get("/audit/?q=n1").get_data(as_text=True)  # the detail
    refused = client.get("/audit/?object_type=no_such_thing").get_data(as_text=True)
    assert "id=\"audit-table\"" not in refused and "不是有效的选择。" in refused, refused[-3000:]


def test_audit_csv_of_the_page_is_in_chinese_and_beijing_time(app, seed, login_as):
    from datetime import timedelta
    at = _request_edit(app, seed)
    body = login_as("auditor").get("/audit/export.csv?object_type=resource_request").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    header, row = rows[0], rows[1]
    assert header[:6] == ["序号", "时间（北京时间）", "用户", "角色", "部门编号", "操作"]
    assert row[1] == (at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert row[3:6] == ["使用部门(单位)", str(seed.dept_a), "申请已修改"] and row[6] == "政务云资源需求申请"
