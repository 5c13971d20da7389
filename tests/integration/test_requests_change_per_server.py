"""附件2 per server (issue 17), on both database backends: "申请资源变更" asks before it opens a
draft; one server of a group is resized or cancelled alone; a change that removes a server or a
volume needs the data backed up or migrated first (第十条二), at submission and at approval."""
from sqlalchemy import func, select

from tests.integration.test_requests_web import post, state_of

GROUP = {"name": "app", "flavor": "m1.tiny", "image": "cirros-devcloud", "count": 2, "data_volumes": []}
SPEC = {"servers": [GROUP], "volumes": [{"name": "data", "size_gb": 1, "attach_to": "app-2"}],
        "rules": [{"port": "443", "protocol": "tcp", "source": "10.0.0.0/8"}], "floating_ips": 0}
FORM = {"system_name": "公积金系统", "purpose": "公积金业务", "security_level": "2", "reason": "调整",
        "servers-1-name": "app", "servers-1-flavor": "m1.tiny", "servers-1-image": "cirros-devcloud",
        "servers-1-count": "2", "volumes-1-name": "data", "volumes-1-size_gb": "1", "volumes-1-attach_to": "app-2",
        "rules-1-port": "443", "rules-1-protocol": "tcp", "rules-1-source": "10.0.0.0/8", "floating_ips": "0"}


def live_system(app, seed):
    from portal.database import utcnow
    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    with app.app_context():
        system = ResourceRequest(number="ZWY-T-PER-SERVER", department_id=seed.dept_a, system_name="公积金系统",
                                 purpose="公积金业务", state="delivered", spec=SPEC, approved_spec=SPEC,
                                 approved_at=utcnow(), provisioned_at=utcnow(), created_by_id=seed.user_ids["dept"])
        db.session.add(system)
        db.session.commit()
        return system.id


def request_count(app):
    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ResourceRequest))


def open_change(client, system_id):
    response = post(client, f"/requests/{system_id}/change", {}, page=f"/requests/{system_id}/change")
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    return int(response.headers["Location"].rstrip("/").split("/")[-2])


def spec_of(app, request_id):
    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    with app.app_context():
        db.session.expire_all()
        return db.session.get(ResourceRequest, request_id).spec


def test_the_change_asks_first_and_resizes_one_server_alone(app, seed, login_as):
    dept = login_as("dept")
    system_id = live_system(app, seed)
    detail = dept.get(f"/requests/{system_id}").get_data(as_text=True)
    assert f'href="/requests/{system_id}/change" id="start-change"' in detail  # a link, not a POST at once
    before = request_count(app)
    page = dept.get(f"/requests/{system_id}/change")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "将以系统当前的资源创建一份资源变更申请（附件2）草稿" in html
    assert 'id="confirm-change"' in html and request_count(app) == before  # asking creates nothing
    change_id = open_change(dept, system_id)
    assert request_count(app) == before + 1
    edit = dept.get(f"/requests/{change_id}/edit").get_data(as_text=True)
    per_server = edit.split('id="per-server"')[1].split("</table>")[0]
    assert "app-1" in per_server and "app-2" in per_server and "注销此云主机" in edit
    # a second change while this one is open: the page says so and offers no button
    again = dept.get(f"/requests/{system_id}/change").get_data(as_text=True)
    assert 'id="change-not-possible"' in again and 'id="confirm-change"' not in again

    saved = post(dept, f"/requests/{change_id}/edit", {**FORM, "inst-app-2-flavor": "m1.small", "then": "save"},
                 page=f"/requests/{change_id}/edit")
    assert saved.status_code == 302
    assert spec_of(app, change_id)["servers"][0]["instances"] == {"app-2": {"flavor": "m1.small"}}
    changes = dept.get(f"/requests/{change_id}").get_data(as_text=True).split('id="changes"')[1].split("</table>")[0]
    assert "app-2" in changes and "m1.small" in changes and "app-1" not in changes
    response = post(dept, f"/requests/{change_id}/edit", {**FORM, "inst-app-2-flavor": "m1.small", "then": "submit"},
                    page=f"/requests/{change_id}/edit")
    assert response.status_code == 302 and state_of(app, change_id) == "submitted"  # nothing removed: no guard


def test_cancelling_one_server_needs_the_backup_or_migration_guard(app, seed, login_as):
    from portal.extensions import db
    from portal.models.requests import ResourceRequest
    dept, bureau = login_as("dept"), login_as("bureau")
    system_id = live_system(app, seed)
    change_id = open_change(dept, system_id)
    page = f"/requests/{change_id}/edit"
    html = post(dept, page, {**FORM, "inst-app-1-cancel": "y", "then": "submit"}, page=page,
                follow_redirects=True).get_data(as_text=True)
    assert "本次变更将删除app-1：须先备份或迁移数据（第十条第二项）" in html
    assert state_of(app, change_id) == "draft"
    assert spec_of(app, change_id)["servers"][0]["instances"] == {"app-1": {"cancel": True}}
    # the migration confirmed with a note clears it
    response = post(dept, page, {**FORM, "inst-app-1-cancel": "y", "backup_confirmed": "y",
                                 "migration_note": "app-1 的数据已并入 app-2", "then": "submit"}, page=page)
    assert response.status_code == 302 and state_of(app, change_id) == "submitted"
    # at approval too: a destructive change that reached review without it is refused, nothing changes
    with app.app_context():
        request = db.session.get(ResourceRequest, change_id)
        request.backup_confirmed, request.migration_note = False, ""
        db.session.commit()
    html = post(bureau, f"/reviews/{change_id}/approve", {"comment": ""}, page=f"/reviews/{change_id}",
                follow_redirects=True).get_data(as_text=True)
    assert "本次变更将删除app-1" in html and state_of(app, change_id) == "submitted"
    with app.app_context():
        request = db.session.get(ResourceRequest, change_id)
        request.backup_confirmed, request.migration_note = True, "app-1 的数据已并入 app-2"
        db.session.commit()
    assert post(bureau, f"/reviews/{change_id}/approve", {"comment": "同意"},
                page=f"/reviews/{change_id}").status_code == 302
    assert state_of(app, change_id) == "approved"
    with app.app_context():
        approved = db.session.get(ResourceRequest, change_id).approved_spec
    assert approved["servers"][0]["instances"] == {"app-1": {"cancel": True}}


def test_the_api_cancels_one_server_only_with_the_migration_confirmed(app, seed, login_as):
    from tests.integration.test_api_requests import ui_token
    system_id = live_system(app, seed)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {ui_token(login_as('dept'))}"}
    spec = {**SPEC, "servers": [{**GROUP, "instances": {"app-1": {"cancel": True}}}]}
    before = request_count(app)
    refused = api.post(f"/api/v1/requests/{system_id}/change", json={"reason": "下线", "spec": spec, "submit": True},
                       headers=headers)
    assert refused.status_code == 422 and "本次变更将删除app-1" in str(refused.get_json()["problems"])
    assert request_count(app) == before
    created = api.post(f"/api/v1/requests/{system_id}/change", json={
        "reason": "下线", "spec": spec, "submit": True, "backup_confirmed": True,
        "migration_note": "app-1 的数据已并入 app-2"}, headers=headers)
    assert created.status_code == 201 and created.get_json()["state"] == "submitted"
    assert created.get_json()["spec"]["servers"][0]["instances"] == {"app-1": {"cancel": True}}
