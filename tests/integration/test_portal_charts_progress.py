"""A system's charts (issue 22) and a request's live progress (issue 17): the JSON the pages draw from,
scoped like the pages (another department's system is a 404), in the user's language."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.database import utcnow
from portal.models.requests import ProvisioningJob, ResourceRequest
from tests.charts_seed import HOURS, add_chart_data

VIEWERS = ("dept", "bureau", "vendor", "auditor", "admin")
SPEC = {"servers": [{"name": "web", "flavor": "m1.tiny", "image": "cirros", "count": 2, "data_volumes": []}],
        "volumes": [{"name": "data", "size_gb": 2, "attach_to": "web-1"}], "rules": [],
        "network": {"cidr": ""}, "floating_ips": 0, "ssh_public_key": ""}


def provisioned_system(session, department_id):
    """The seeded provisioned request (门户网站) of a department: a system with nothing running yet."""
    return session.scalars(select(ResourceRequest).where(ResourceRequest.department_id == department_id,
                                                         ResourceRequest.state == "provisioned")).one()


@pytest.fixture
def systems(seed, db_session):
    """Chart data for department A's and B's systems; returns (system A, system B, data of A)."""
    now = utcnow()
    a, b = provisioned_system(db_session, seed.dept_a), provisioned_system(db_session, seed.dept_b)
    data = add_chart_data(db_session, a, now)
    return a.id, b.id, data


def chart(payload, chart_id):
    return next(c for c in payload["charts"] if c["id"] == chart_id)


def test_a_departments_charts_show_its_availability_and_usage(login_as, systems):
    system_a, _system_b, data = systems
    response = login_as("dept").get(f"/requests/{system_a}/charts.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    payload = response.get_json()
    assert payload["system_name"] == "门户网站" and payload["days"] == 7 and payload["bucket_seconds"] == 3600
    assert payload["timezone"] == "Asia/Shanghai"
    assert [c["id"] for c in payload["charts"]] == ["availability", "latency", "usage-vcpu", "usage-ram",
                                                    "usage-volume"]
    up = chart(payload, "availability")
    assert up["title"] == "可用率（%）" and up["y_max"] == 100
    assert [s["label"] for s in up["series"]] == ["web-1（云主机状态）", "web-1:443（TCP 端口）"]
    x = up["x"]
    assert len(x) in (7 * 24, 7 * 24 + 1) and all(b - a == 3600 for a, b in zip(x, x[1:]))  # and the hour begun
    values = dict(zip(x, up["series"][0]["values"]))
    assert values[data["outage_hour"]] == 50.0  # three of six checks failed
    assert values[data["maintenance_hour"]] is None  # failing only inside approved maintenance: not counted
    assert values[data["outage_hour"] - 3600] == 100.0
    assert values[x[0]] is None  # before the first check: a gap, not an outage
    assert sum(v is not None for v in values.values()) == HOURS - 1
    latency = chart(payload, "latency")
    assert latency["title"] == "响应时间（毫秒）" and latency["series"][0]["values"][-2] == 12.0
    ram = chart(payload, "usage-ram")
    assert ram["title"] == "内存（GB）" and ram["series"][0]["values"][-2] == 4.0  # 4096 MiB shown as 4 GB
    vcpu = chart(payload, "usage-vcpu")
    assert vcpu["title"] == "vCPU（核）"
    assert vcpu["series"][0]["values"][-2] == 4.0 and vcpu["series"][0]["values"][-30] == 2.0
    assert chart(payload, "usage-volume")["series"][0]["values"][-2] == 20.0
    assert payload["month_availability"] is not None and 0 < payload["month_availability"] <= 100


@pytest.mark.parametrize("viewer", VIEWERS)
def test_charts_are_the_departments_own_and_every_department_for_the_bureau(login_as, systems, viewer):
    system_a, system_b, _data = systems
    client = login_as(viewer)
    assert client.get(f"/requests/{system_a}/charts.json").status_code == 200
    foreign = client.get(f"/requests/{system_b}/charts.json")
    if viewer == "dept":
        assert foreign.status_code == 404 and b"web-1" not in foreign.data
    else:
        payload = foreign.get_json()
        assert foreign.status_code == 200 and payload["system_name"] == "门户网站"
        # department B's system has no probe and no metering: empty series, no usage charts
        assert [c["id"] for c in payload["charts"]] == ["availability", "latency"]
        assert chart(payload, "availability")["series"] == []


def test_charts_are_refused_to_the_security_administrator_and_the_anonymous(app, login_as, systems):
    system_a = systems[0]
    assert login_as("security").get(f"/requests/{system_a}/charts.json").status_code == 403
    assert app.test_client().get(f"/requests/{system_a}/charts.json").status_code == 302


@pytest.mark.parametrize("days,status", [("1", 200), ("31", 200), ("0", 400), ("32", 400), ("x", 400), ("-1", 400),
                                         ("7.5", 400), ("", 400), ("007", 400)])
def test_the_days_asked_for_are_bounded(login_as, systems, days, status):
    response = login_as("dept").get(f"/requests/{systems[0]}/charts.json?days={days}")
    assert response.status_code == status
    if status == 200:
        payload = response.get_json()
        assert payload["days"] == int(days) and len(payload["charts"][0]["x"]) <= 200


def test_the_system_page_carries_the_charts_without_inline_code(login_as, systems):
    page = login_as("dept").get(f"/requests/{systems[0]}").get_data(as_text=True)
    assert 'id="chart-grid"' in page and f'data-charts-url="/requests/{systems[0]}/charts.json?days=7"' in page
    assert "/static/vendor/uplot/uPlot.iife.min.js" in page and "/static/js/charts.js" in page
    assert "<script>" not in page and " style=" not in page
    assert "最近 7 天，北京时间。" in page


def add_job(session, request, *, state, step, action="provision"):
    job = ProvisioningJob(request_id=request.id, department_id=request.department_id, state=state, action=action,
                          current_step=step, attempts=1, started_at=utcnow() - timedelta(minutes=1))
    session.add(job)
    session.commit()
    return job


@pytest.fixture
def provisioning(seed, db_session):
    """Department A's and B's seeded systems, each with an approved spec and a running job."""
    out = []
    for dept_id in (seed.dept_a, seed.dept_b):
        request = provisioned_system(db_session, dept_id)
        request.state, request.approved_spec = "provisioning", SPEC
        db_session.commit()
        out.append(add_job(db_session, request, state="running", step=f"server:R{request.id}:web-1:wait"))
    return out


def test_progress_names_the_step_in_chinese_and_moves_to_done(login_as, provisioning, db_session):
    job = provisioning[0]
    dept = login_as("dept")
    payload = dept.get(f"/requests/{job.request_id}/progress.json").get_json()
    assert payload["step_label"] == "等待云主机 web-1 启动" and payload["step"].endswith(":web-1:wait")
    assert payload["request_state_label"] == "开通中" and payload["job_state"] == "running"
    assert payload["finished"] is False and payload["failed"] is False
    # project, quotas, router, network, subnet, interface, sg, rules, 2 servers, 1 volume, then the 12th:
    # of 16 (2 waits, the volume's extend and attach, the receipt)
    assert (payload["steps_done"], payload["steps_total"]) == (11, 16) and payload["percent"] == 68
    assert payload["count_label"] == "第 12 步，共 16 步"
    job.current_step = f"volume:R{job.request_id}:data:attach"
    db_session.commit()
    later = dept.get(f"/requests/{job.request_id}/progress.json").get_json()
    assert later["step_label"] == "挂载云硬盘 data" and later["percent"] > payload["percent"]
    job.current_step, job.state = "receipt", "succeeded"
    db_session.get(ResourceRequest, job.request_id).state = "provisioned"
    db_session.commit()
    done = dept.get(f"/requests/{job.request_id}/progress.json").get_json()
    assert done["finished"] is True and done["failed"] is False and done["percent"] == 100
    assert done["request_state_label"] == "已开通"


def test_progress_in_english_when_chosen(login_as, provisioning):
    dept = login_as("dept")
    dept.set_cookie("govcloud_lang", "en")
    payload = dept.get(f"/requests/{provisioning[0].request_id}/progress.json").get_json()
    assert payload["step_label"] == "Waiting for server web-1 to start" and payload["count_label"] == "Step 12 of 16"


def test_a_failed_job_stops_the_bar(login_as, provisioning, db_session):
    job = provisioning[0]
    job.state = "failed"
    db_session.commit()
    payload = login_as("dept").get(f"/requests/{job.request_id}/progress.json").get_json()
    assert payload["finished"] is True and payload["failed"] is True and payload["percent"] < 100
    assert payload["job_state_label"] == "失败"


@pytest.mark.parametrize("viewer", VIEWERS)
def test_progress_is_the_departments_own(login_as, provisioning, viewer):
    own, foreign = provisioning
    client = login_as(viewer)
    assert client.get(f"/requests/{own.request_id}/progress.json").status_code == 200
    response = client.get(f"/requests/{foreign.request_id}/progress.json")
    assert response.status_code == (404 if viewer == "dept" else 200)


def test_the_request_page_shows_the_bar_and_the_steps_in_words(login_as, provisioning):
    job = provisioning[0]
    page = login_as("dept").get(f"/requests/{job.request_id}").get_data(as_text=True)
    assert f'data-progress-url="/requests/{job.request_id}/progress.json"' in page
    assert '<progress id="progress-bar"' in page and 'value="68"' in page
    assert "等待云主机 web-1 启动" in page and "/static/js/progress.js" in page
    assert ">server:R" not in page  # the raw code only in the cell's title


def test_charts_in_english_when_chosen(login_as, systems):
    dept = login_as("dept")
    dept.set_cookie("govcloud_lang", "en")
    payload = dept.get(f"/requests/{systems[0]}/charts.json").get_json()
    titles = [c["title"] for c in payload["charts"]]
    assert titles == ["Availability (%)", "Response time (ms)", "vCPU (cores)", "Memory (GB)", "Volume (GB)"]
    assert chart(payload, "availability")["series"][0]["label"] == "web-1 (Server status)"


def test_a_decommission_counts_the_systems_resources_it_deletes(login_as, seed, db_session):
    from portal.models.requests import CloudResource
    system = provisioned_system(db_session, seed.dept_a)
    server = db_session.scalars(select(CloudResource).where(CloudResource.system_id == system.id)).one()
    db_session.add(CloudResource(department_id=seed.dept_a, system_id=system.id, kind="volume",
                                 key=f"volume:R{system.id}:data", name="gc-seed-data", openstack_id="1" * 32))
    decommission = ResourceRequest(number="ZWY-T-DECOM", kind="decommission", department_id=seed.dept_a,
                                   system_id=system.id, system_name=system.system_name, state="provisioning",
                                   spec={}, approved_spec={}, approved_at=utcnow())
    db_session.add(decommission)
    db_session.commit()
    job = add_job(db_session, decommission, state="running", step=f"delete:{server.key}")
    payload = login_as("dept").get(f"/requests/{decommission.id}/progress.json").get_json()
    # project, quotas, the volume then the server (the runner's order), the receipt
    assert (payload["steps_done"], payload["steps_total"]) == (3, 5) and payload["percent"] == 60
    assert payload["step_label"] == "删除云主机 " + server.key.split(":")[2]
    server.deleted = True  # what the step did: the plan keeps it
    job.current_step = "delete:router"
    db_session.commit()
    later = login_as("dept").get(f"/requests/{decommission.id}/progress.json").get_json()
    assert (later["steps_done"], later["steps_total"]) == (4, 5) and later["step_label"] == "删除路由器"
