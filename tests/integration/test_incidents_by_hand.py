"""Incidents the vendor opens, classifies and resolves by hand (issue 17); only outages and
degradations count against a system's availability."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.database import utcnow
from portal.errors import ValidationFailed
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.models.operations import Incident, Notification, ProbeTarget
from portal.services import incidents, sla
from portal.services.audit import RequestInfo
from portal.statemachine import TransitionNotAllowed
from portal.workdays import CHINA
from tests.conftest import csrf_token_from


def _local(dt):
    return dt.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")


def _open(client, seed, **fields):
    token = csrf_token_from(client.get("/incidents/new").get_data(as_text=True))
    data = {"csrf_token": token, "kind": "degradation", "department_id": seed.dept_a, "system_name": "办公系统",
            "title": "办公系统响应缓慢", "detail": "数据库连接池耗尽"} | fields
    return client.post("/incidents/new", data=data)


def _vendor_ctx(db_session, seed):
    return RequestInfo(actor=db_session.get(User, seed.user_ids["vendor"]), correlation_id="test")


def test_vendor_opens_and_resolves_an_incident_the_department_follows(app, seed, login_as, db_session):
    vendor = login_as("vendor")
    form = vendor.get("/incidents/new").get_data(as_text=True)
    for words in ("登记故障事件", "服务中断", "性能下降", "安全事件", "备份故障", "只有服务中断和性能下降计入应用系统的可用率。"):
        assert words in form
    started = utcnow() - timedelta(minutes=20)
    answer = _open(vendor, seed, started_at=_local(started))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    incident = db_session.scalars(select(Incident).where(Incident.title == "办公系统响应缓慢")).one()
    assert (incident.kind, incident.state, incident.department_id) == ("degradation", "open", seed.dept_a)
    assert incident.opened_by_id == seed.user_ids["vendor"] and incident.target_id is None
    assert abs((incident.started_at - started.replace(second=0, microsecond=0)).total_seconds()) < 1
    assert [e.kind for e in incident.events] == ["opened", "notified"]
    # every person of department A has it in the inbox
    inbox = db_session.scalars(select(Notification).where(Notification.topic == f"incident:{incident.id}",
                                                          Notification.channel == "inbox")).all()
    assert {n.user_id for n in inbox} == {seed.user_ids[k] for k in ("dept", "dept_member", "dept_admin")}
    page = login_as("dept").get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "性能下降" in page and "计入可用率" in page and "resolve-form" not in page

    # a resolution needs to say what was done; nothing changes without it
    token = csrf_token_from(vendor.get(f"/incidents/{incident.id}").get_data(as_text=True))
    refused = vendor.post(f"/incidents/{incident.id}/resolve", data={"csrf_token": token, "note": ""},
                          follow_redirects=True).get_data(as_text=True)
    assert "请填写处理情况。" in refused
    db_session.refresh(incident)
    assert incident.state == "open"
    done = vendor.post(f"/incidents/{incident.id}/resolve", data={"csrf_token": token, "note": "扩大连接池并重启"},
                       follow_redirects=True).get_data(as_text=True)
    assert "故障事件已恢复，已通知相关部门。" in done
    db_session.refresh(incident)
    assert incident.state == "resolved" and incident.resolved_at is not None
    assert [e.kind for e in incident.events][-2:] == ["resolved", "notified"]
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "incident", AuditEvent.object_id == str(incident.id)).order_by(AuditEvent.id))]
    assert actions == ["incident.open", "incident.resolve"]
    # a second resolution is refused (409), whoever clicked second
    with pytest.raises(TransitionNotAllowed) as second:
        incidents.resolve_by_hand(db_session, _vendor_ctx(db_session, seed), {}, incident.id, "再次")
    assert second.value.http_status == 409


def test_only_the_vendor_opens_and_bad_input_changes_nothing(app, seed, login_as, db_session):
    before = db_session.scalar(select(Incident.id).order_by(Incident.id.desc()))
    for key in ("dept", "bureau", "auditor"):
        assert login_as(key).get("/incidents/new").status_code == 403
    vendor = login_as("vendor")
    for fields in ({"kind": "meteor"}, {"system_name": ""}, {"title": "x" * 256},
                   {"started_at": _local(utcnow() + timedelta(hours=2))},
                   {"started_at": _local(utcnow() - timedelta(days=40))}, {"department_id": 999999}):
        assert _open(vendor, seed, **fields).status_code == 200, fields
    assert db_session.scalar(select(Incident.id).order_by(Incident.id.desc())) == before
    with pytest.raises(ValidationFailed):
        incidents.open_by_hand(db_session, _vendor_ctx(db_session, seed), {},
                               {"kind": "outage", "department_id": seed.dept_a, "system_name": "s", "title": "t",
                                "started_at": datetime(2026, 1, 1)})  # no time zone


def test_only_outages_and_degradations_count_against_the_sla(app, seed, db_session):
    """The defect: backup and verification failures counted as outages (one system fell to 6.67 %)."""
    db_session.add(ProbeTarget(department_id=seed.dept_a, system_name="财务系统", name="web", kind="tcp",
                               settings={"host": "127.0.0.1", "port": 9}))
    start = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA)
    hours = {"outage": 1, "degradation": 2, "security": 4, "backup": 8}
    rows = {}
    for offset, (kind, length) in enumerate(hours.items()):
        began = start + timedelta(days=offset)
        rows[kind] = Incident(department_id=seed.dept_a, system_name="财务系统", title=kind, kind=kind,
                              state="resolved", started_at=began, detected_at=began,
                              resolved_at=began + timedelta(hours=length))
    db_session.add_all(rows.values())
    db_session.commit()

    def lost():
        figures = sla.monthly_report(db_session, None, 2026, 11, now=datetime(2026, 12, 1, tzinfo=CHINA),
                                     every_department=True)
        return next(f for f in figures if f.system_name == "财务系统").minutes_lost

    assert lost() == 180  # the outage's hour and the degradation's two; not 15 hours
    # the vendor reclassifies the security incident as an outage: it counts from then on (audited)
    incidents.change_kind(db_session, _vendor_ctx(db_session, seed), rows["security"].id, "outage")
    assert lost() == 420
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "incident.kind")).one()
    assert event.before == {"kind": "security"} and event.after == {"kind": "outage"}


def test_the_type_is_changed_only_by_the_vendor_through_the_page(app, seed, login_as, db_session):
    incident_id = seed.extra["incident_id"][0]
    vendor = login_as("vendor")
    page = vendor.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "kind-form" in page and "resolve-form" in page and "服务中断" in page
    token = csrf_token_from(page)
    vendor.post(f"/incidents/{incident_id}/kind", data={"csrf_token": token, "kind": "backup"})
    assert db_session.get(Incident, incident_id).kind == "backup"
    assert "不计入可用率" in vendor.get(f"/incidents/{incident_id}").get_data(as_text=True)
    bad = vendor.post(f"/incidents/{incident_id}/kind", data={"csrf_token": token, "kind": "flood"},
                      follow_redirects=True)
    assert "请选择故障事件类型。" in bad.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Incident, incident_id).kind == "backup"
    dept = login_as("dept")
    token = csrf_token_from(dept.get(f"/incidents/{incident_id}").get_data(as_text=True))
    assert dept.post(f"/incidents/{incident_id}/kind", data={"csrf_token": token, "kind": "outage"}).status_code == 403
