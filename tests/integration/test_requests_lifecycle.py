"""Lifecycle truth (issue 17) on both database backends, from the portal's rows (the same path runs
against the dev cloud in test_requests_cloud_flow.py): the bureau's decommission review shows what
will be deleted and the data's clearance; a decommission carried out is 已注销 with a 注销回执; the
system's first request says so; its backup policy, probes and metering are switched off."""
import subprocess

from sqlalchemy import select

from tests.integration.test_requests_web import post

SPEC = {"servers": [{"name": "app", "flavor": "m1.small", "image": "cirros-devcloud", "count": 2}],
        "volumes": [{"name": "data", "size_gb": 5, "attach_to": "app-2"}], "rules": [], "floating_ips": 0}


def make_system(app, seed):
    """A delivered system (app-1, app-2, a 5 GB volume on app-2, the department's router) and its
    submitted decommission with the migration confirmed; return (system id, decommission id)."""
    from backup import policies
    from portal.database import utcnow
    from portal.extensions import db
    from portal.models.operations import ProbeTarget
    from portal.models.requests import CloudResource, ResourceRequest
    from portal.services.audit import RequestInfo
    with app.app_context():
        s = db.session
        system = ResourceRequest(number="ZWY-T-LIFE-1", department_id=seed.dept_a, system_name="档案系统",
                                 state="delivered", spec=SPEC, approved_spec=SPEC, approved_at=utcnow(),
                                 provisioned_at=utcnow(), created_by_id=seed.user_ids["dept"])
        s.add(system)
        s.flush()
        decom = ResourceRequest(number="ZWY-T-LIFE-2", kind="decommission", system_id=system.id,
                                department_id=seed.dept_a, system_name="档案系统", state="submitted", spec={},
                                reason="系统下线", backup_confirmed=True, migration_note="已迁移至档案共享平台",
                                submitted_at=utcnow(), created_by_id=seed.user_ids["dept"])
        s.add(decom)
        rows = [CloudResource(department_id=seed.dept_a, system_id=None, kind="router", key="router",
                              name="gc-a-router", openstack_id="r" * 32)]
        for n in (1, 2):
            rows.append(CloudResource(department_id=seed.dept_a, system_id=system.id, kind="server",
                                      key=f"server:R{system.id}:app-{n}", name=f"gc-a-server-R{system.id}-app-{n}",
                                      openstack_id=f"{n}" * 32, attributes={"flavor": "m1.small"}))
        rows.append(CloudResource(department_id=seed.dept_a, system_id=system.id, kind="volume",
                                  key=f"volume:R{system.id}:data", name=f"gc-a-volume-R{system.id}-data",
                                  openstack_id="v" * 32, attributes={"size_gb": 5, "attached_to": "2" * 32}))
        s.add_all(rows)
        s.add(ProbeTarget(department_id=seed.dept_a, system_name="档案系统", name="web", kind="tcp",
                          settings={"host": "192.0.2.1", "port": 443}))
        s.commit()
        policies.create_policy(s, RequestInfo(correlation_id="t"), seed.dept_a, {
            "name": "档案每日", "system_id": system.id, "cron": "0 2 * * *", "keep_count": "3"})
        s.commit()
        return system.id, decom.id


def carry_out(app, seed, decom_id):
    """What the worker does at the end of the decommission's job (the cloud part is in the flow test)."""
    from portal.extensions import db
    from portal.models.accounts import User
    from portal.models.requests import CloudResource, ResourceRequest
    from portal.services import receipts
    from portal.services.audit import RequestInfo
    from portal.services.system_retirement import retire_system
    from portal.services.transitions import transition
    from portal.workflow import REQUESTS
    with app.app_context():
        s = db.session
        decom = s.get(ResourceRequest, decom_id)
        decom.reviewed_by_id = seed.user_ids["bureau"]
        decom.state = "provisioning"
        for row in s.scalars(select(CloudResource).where(CloudResource.department_id == seed.dept_a)):
            row.deleted = True
        ctx = RequestInfo(actor=s.get(User, seed.user_ids["bureau"]), correlation_id="t")
        retire_system(s, ctx, decom)
        receipt = receipts.issue_receipt(s, decom, "worker-1")
        transition(s, ctx, REQUESTS, decom, "finish", after={"receipt": receipt.number})
        s.commit()
        return receipt.id


def test_the_bureau_sees_what_the_decommission_deletes(app, seed, login_as):
    _system_id, decom_id = make_system(app, seed)
    html = login_as("bureau").get(f"/reviews/{decom_id}").get_data(as_text=True)
    plan = html.split('id="deletion-plan"')[1].split("</table>")[0]
    assert plan.index("app-1") < plan.index("app-2") < plan.index("-data")  # servers first
    # the seeded 门户网站 of the same department still uses the router: it is not deleted
    assert "gc-a-router" not in plan
    volume_row = next(row for row in plan.split("<tr") if "-data" in row)
    assert "5 GB" in volume_row and "app-2" in volume_row and "2" * 32 not in volume_row
    assert "m1.small" in plan and "云主机" in plan and "云硬盘" in plan
    assert "已迁移至档案共享平台" in html.split('id="final-backup"')[1]
    assert 'id="green-channel"' not in html and "自动分配" not in html and "VCPU" not in html


def test_a_decommission_carried_out_is_decommissioned_everywhere(app, seed, login_as, tmp_path):
    from portal.extensions import db
    from portal.models.backups import BackupPolicy
    from portal.models.operations import ProbeTarget
    from portal.services.metering import RETIRED, _attribution
    system_id, decom_id = make_system(app, seed)
    receipt_id = carry_out(app, seed, decom_id)
    dept = login_as("dept")
    decom = dept.get(f"/requests/{decom_id}").get_data(as_text=True)
    assert 'id="request-state">已注销</span>' in decom and "已开通" not in decom
    assert "注销回执" in decom.split('id="receipt-link"')[1].split("</a>")[0]
    receipt = dept.get(f"/requests/receipts/{receipt_id}").get_data(as_text=True)
    assert "政务云资源注销回执" in receipt and "注销时间" in receipt and "交付" not in receipt
    assert "bureau1" in receipt.split('id="receipt-header"')[1].split("</dl>")[0] and "worker-1" not in receipt
    path = tmp_path / "receipt.pdf"
    path.write_bytes(dept.get(f"/requests/receipts/{receipt_id}/pdf").data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "政务云资源注销回执" in text and "注销时间" in text and "交付时间" not in text
    first = dept.get(f"/requests/{system_id}").get_data(as_text=True)
    superseded = first.split('id="superseded"')[1].split("</div>")[0]
    assert "已注销" in superseded and f"/requests/{decom_id}" in superseded
    assert 'id="request-state">已注销</span>' in first and "本系统已注销，资源已全部删除。" in first
    assert 'id="cloud-resources"' not in first  # the department's router serves others, not this system
    history = first.split('id="system-history"')[1].split("</table>")[0]
    assert "ZWY-T-LIFE-1" in history and "ZWY-T-LIFE-2" in history
    listing = dept.get("/requests/?q=ZWY-T-LIFE-2").get_data(as_text=True)
    row = next(r for r in listing.split('id="requests-table"')[1].split("<tr") if "ZWY-T-LIFE-2" in r)
    assert "已注销" in row and "已开通" not in row
    with app.app_context():
        policy = db.session.scalars(select(BackupPolicy).where(BackupPolicy.system_id == system_id)).one()
        assert not policy.enabled and policy.next_run_at is None
        probe = db.session.scalars(select(ProbeTarget).where(ProbeTarget.system_name == "档案系统")).one()
        assert not probe.enabled
        assert _attribution(db.session)["1" * 32] is RETIRED
