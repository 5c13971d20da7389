"""Statements from known samples: a month boundary, a mid-month price change, exact to the cent;
review and freeze; a frozen statement refuses every change; a re-rate makes a new version."""
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.models.billing import MeteringRun, Rate, Statement, StatementLine, UsageRecord
from portal.errors import Immutable
from portal.models.accounts import User
from portal.models.audit import AuditEvent
from portal.services import metering, statements
from portal.services.audit import RequestInfo
from portal.services.rating import CHINA
from tests.conftest import csrf_token_from


def cst(month, day, hour=0, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA)


# The samples: a chain of metering runs (Beijing time) crossing both month boundaries of October.
RUNS = [(cst(9, 30, 22), cst(10, 1, 2)),    # 2 h in October
        (cst(10, 1, 2), cst(10, 16, 12)),   # 370 h, of which 12 h after the price change
        (cst(10, 16, 12), cst(10, 31, 23, 30)),  # 371.5 h
        (cst(10, 31, 23, 30), cst(11, 1, 1))]    # 0.5 h in October, 1 h in November
OFFICE = {"vcpu": 4, "ram": 8192, "volume:ssd": 100, "floating_ip": 1}  # 办公系统 in every run
PRICES = [("vcpu", "0.05", cst(1, 1)), ("vcpu", "0.0437", cst(10, 16)),  # change at 10-16 00:00
          ("ram", "0.02", cst(1, 1)), ("volume", "0.0015", cst(1, 1)), ("volume:ssd", "0.0023", cst(1, 1)),
          ("floating_ip", "0.0333", cst(1, 1)), ("backup", "0.001", cst(1, 1))]


def load_samples(session, dept_id):
    session.add(MeteringRun(interval_start=None, interval_end=RUNS[0][0], state="baseline"))
    for i, (start, end) in enumerate(RUNS):
        run = MeteringRun(interval_start=start, interval_end=end, state="ok")
        session.add(run)
        session.flush()
        usage = [("办公系统", rtype, q) for rtype, q in OFFICE.items()]
        if i == 3:  # 数据平台 holds a 10 GiB backup during the last run only
            usage.append(("数据平台", "backup", 10))
        for name, rtype, quantity in usage:
            session.add(UsageRecord(run_id=run.id, department_id=dept_id, system_id=None, system_key=name,
                                    system_name=name, resource_type=rtype, quantity=quantity,
                                    interval_start=start, interval_end=end))
    for rtype, price, since in PRICES:
        session.add(Rate(resource_type=rtype, unit_price=Decimal(price), effective_from=since))
    session.commit()


def bureau_ctx(session, seed):
    return RequestInfo(actor=session.get(User, seed.user_ids["bureau"]), correlation_id="test")


def amounts(statement):
    return [(line.system_name, line.resource_type, line.period_start, line.quantity_hours, line.amount)
            for line in statement.lines]


def test_october_and_november_exact_to_the_cent(db_session, seed):
    load_samples(db_session, seed.dept_a)
    ctx = bureau_ctx(db_session, seed)
    october = statements.rate_month(db_session, ctx, seed.dept_a, 2026, 10, now=cst(11, 2))
    db_session.commit()
    # By hand. October = 744 h (2 + 370 + 371.5 + 0.5). vCPU: 360 h before the change, 384 h after.
    #   vCPU   4 x 360 h = 1440 vCPU-h x 0.05   = 72.00
    #   vCPU   4 x 384 h = 1536 vCPU-h x 0.0437 = 67.1232 -> 67.12
    #   RAM    8 GiB x 744 h = 5952 GiB-h x 0.02   = 119.04
    #   SSD    100 GiB x 744 h = 74400 GiB-h x 0.0023 = 171.12
    #   IP     1 x 744 h x 0.0333 = 24.7752 -> 24.78
    #   backup (数据平台) 10 GiB x 0.5 h x 0.001 = 0.005 -> 0.01 (half up)
    assert amounts(october) == [
        ("办公系统", "floating_ip", cst(10, 1), Decimal("744.0000"), Decimal("24.78")),
        ("办公系统", "ram", cst(10, 1), Decimal("5952.0000"), Decimal("119.04")),
        ("办公系统", "vcpu", cst(10, 1), Decimal("1440.0000"), Decimal("72.00")),
        ("办公系统", "vcpu", cst(10, 16), Decimal("1536.0000"), Decimal("67.12")),
        ("办公系统", "volume:ssd", cst(10, 1), Decimal("74400.0000"), Decimal("171.12")),
        ("数据平台", "backup", cst(10, 1), Decimal("5.0000"), Decimal("0.01")),
    ]
    assert october.total == Decimal("454.07")
    assert october.gap_seconds == 0
    # November (so far, 1 h of samples): 0.1748 -> 0.17, 0.16, 0.23, 0.0333 -> 0.03, 0.01
    november = statements.rate_month(db_session, ctx, seed.dept_a, 2026, 11, now=cst(11, 1, 1))
    db_session.commit()
    assert [line.amount for line in november.lines] == [Decimal("0.03"), Decimal("0.16"), Decimal("0.17"),
                                                        Decimal("0.23"), Decimal("0.01")]
    assert november.total == Decimal("0.60")
    # what the database returns is the same Decimal, not a float
    stored = db_session.scalars(select(StatementLine.amount).where(StatementLine.statement_id == october.id)).all()
    assert all(isinstance(v, Decimal) for v in stored) and sum(stored) == Decimal("454.07")


def test_frozen_statement_refuses_every_change_and_rerate_makes_a_new_version(app, db_session, seed, login_as):
    load_samples(db_session, seed.dept_a)
    ctx = bureau_ctx(db_session, seed)
    statement = statements.rate_month(db_session, ctx, seed.dept_a, 2026, 10, now=cst(11, 2))
    statements.transition(db_session, ctx, statement, "review")
    statements.transition(db_session, ctx, statement, "freeze")
    db_session.commit()
    assert statement.state == "frozen" and statements.verify(statement)
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "statement.freeze")).one()
    assert event.after["content_hash"] == statement.content_hash and len(statement.content_hash) == 64

    # service calls
    with pytest.raises(Immutable):
        statements.act(db_session, ctx, statement.id, "reopen")
    # any other code path through the ORM
    statement.total = Decimal("1.00")
    with pytest.raises(Immutable):
        db_session.flush()
    db_session.rollback()
    statement.lines[0].amount = Decimal("0.00")
    with pytest.raises(Immutable):
        db_session.commit()
    db_session.rollback()
    db_session.delete(statement.lines[0])
    with pytest.raises(Immutable):
        db_session.commit()
    db_session.rollback()
    # and plain SQL, past the ORM: the database's own trigger refuses
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError
    with pytest.raises(DatabaseError, match="frozen"):
        db_session.execute(text("UPDATE statement SET total = 1 WHERE id = :id"), {"id": statement.id})
    db_session.rollback()
    with pytest.raises(DatabaseError, match="frozen"):
        db_session.execute(text("UPDATE statement_line SET amount = 0 WHERE statement_id = :id"),
                           {"id": statement.id})
    db_session.rollback()

    # the page
    client = login_as("bureau")
    page = client.get(f"/billing/statements/{statement.id}").get_data(as_text=True)
    assert statement.content_hash in page and "454.07" in page
    response = client.post(f"/billing/statements/{statement.id}/transition",
                           data={"csrf_token": csrf_token_from(page), "action": "reopen"})
    assert response.status_code == 409

    # a price correction for October, then a re-rate: a new version beside the frozen one
    db_session.add(Rate(resource_type="floating_ip", unit_price=Decimal("0.03"), effective_from=cst(10, 1)))
    db_session.commit()
    response = client.post(f"/billing/statements/{statement.id}/rerate", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    db_session.expire_all()
    versions = db_session.scalars(select(Statement).where(Statement.department_id == seed.dept_a,
                                                          Statement.year == 2026, Statement.month == 10)
                                  .order_by(Statement.version)).all()
    assert [(v.version, v.state, v.total) for v in versions] == [
        (1, "frozen", Decimal("454.07")), (2, "draft", Decimal("451.61"))]  # 744 x 0.03 = 22.32
    assert statements.verify(versions[0])


def test_department_sees_only_its_own_statements(db_session, seed, login_as):
    load_samples(db_session, seed.dept_a)
    ctx = bureau_ctx(db_session, seed)
    own = statements.rate_month(db_session, ctx, seed.dept_a, 2026, 10, now=cst(11, 2))
    db_session.commit()
    assert login_as("dept").get(f"/billing/statements/{own.id}").status_code == 200
    assert login_as("dept_b").get(f"/billing/statements/{own.id}").status_code == 404
    listing = login_as("dept_b").get("/billing/?month=2026-10").get_data(as_text=True)
    assert "454.07" not in listing


def test_metering_chain_restart_and_gap(db_session, seed):
    from portal.models.accounts import Department
    dept = db_session.get(Department, seed.dept_a)
    dept.openstack_project_id = "proj-a"
    db_session.commit()
    inventory = {"servers": [{"id": "s1", "project_id": "proj-a", "status": "ACTIVE", "vcpus": 2, "ram_mib": 2048}]}
    first = metering.record_sample(db_session, inventory, cst(10, 1, 0))
    second = metering.record_sample(db_session, inventory, cst(10, 1, 0, 5))
    db_session.commit()
    assert (first.state, second.state) == ("baseline", "ok")
    # "restart": a new process samples again; the interval continues from the stored end
    third = metering.record_sample(db_session, inventory, cst(10, 1, 0, 10))
    db_session.commit()
    assert third.interval_start == second.interval_end
    with pytest.raises(ValueError):  # a clock going backwards or a doubled run cannot overlap
        metering.record_sample(db_session, inventory, cst(10, 1, 0, 10))
    db_session.rollback()
    gap = metering.record_sample(db_session, inventory, cst(10, 1, 2, 0))  # 110 min later > 15 min tolerance
    db_session.commit()
    assert gap.state == "gap"
    vcpu = [r for r in metering.usage_between(db_session, seed.dept_a, cst(10, 1), cst(11, 1))
            if r.resource_type == "vcpu"]
    assert sum(r.quantity * (r.interval_end - r.interval_start).total_seconds() for r in vcpu) == 2 * 600
    assert metering.gap_seconds(db_session, cst(10, 1), cst(10, 1, 2)) == 110 * 60


def test_usage_page_shows_the_month_with_a_chart(db_session, seed, login_as):
    load_samples(db_session, seed.dept_a)
    page = login_as("dept").get("/billing/?month=2026-10").get_data(as_text=True)
    assert "<svg" in page and "2976.0000" in page  # 4 vCPU x 744 h
    assert "2976.0000" not in login_as("dept_b").get("/billing/?month=2026-10").get_data(as_text=True)
