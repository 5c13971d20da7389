"""The live inventory's pages and its sync logic on the portal's database (SQLite and PostgreSQL):
what a listing stores, what disappears, filters, search, sorting, paging, exports and who sees what
(issue 18). The cloud side is in test_inventory_devcloud.py."""
import csv
import io

import pytest
from sqlalchemy import select

from portal.services.inventory_store import apply_listing
from portal.models.accounts import Department
from portal.models.inventory import InventoryItem
from portal.models.operations import Incident


def _server(n, project, status="ACTIVE", flavor="m1.small", host="node-1"):
    return {"kind": "server", "id": f"srv-{n:05d}", "project_id": project, "name": f"web-{n:05d}",
            "status": status, "flavor": flavor, "image": "img-1", "host": host,
            "created_at": f"2026-11-{1 + n % 28:02d}T08:00:00Z", "updated_at": "2026-11-30T08:00:00Z",
            "attributes": {"vcpus": 2, "ram_mib": 4096, "power_state": "RUNNING",
                           "fixed_ips": [{"network": "n", "addr": f"10.1.{n // 250}.{n % 250 + 1}"}],
                           "floating_ips": [], "volumes": []}}


@pytest.fixture
def fleet(app, seed, db_session):
    """250 servers of department A (its project) and 50 of department B, stored by apply_listing."""
    a, b = db_session.get(Department, seed.dept_a), db_session.get(Department, seed.dept_b)
    a.openstack_project_id, b.openstack_project_id = "proj-a", "proj-b"
    db_session.commit()
    items = [_server(n, "proj-a", status="SHUTOFF" if n % 10 == 0 else "ACTIVE",
                     flavor="m1.large" if n % 3 == 0 else "m1.small") for n in range(250)]
    items += [_server(n, "proj-b") for n in range(250, 300)]
    changed, gone, opened = apply_listing(db_session, app.config, {"items": items, "gone": [], "complete": []})
    db_session.commit()
    assert (changed, gone, opened) == (300, 0, 0)
    return items


def test_a_listing_is_stored_once_and_a_second_is_an_update(app, seed, db_session, fleet):
    apply_listing(db_session, app.config, {"items": fleet[:10], "gone": [], "complete": []})
    db_session.commit()
    rows = db_session.scalars(select(InventoryItem).where(InventoryItem.openstack_id.like("srv-%"))).all()
    assert len(rows) == 300
    row = next(r for r in rows if r.openstack_id == "srv-00001")
    assert (row.department_id, row.status, row.attributes["vcpus"]) == (seed.dept_a, "ACTIVE", 2)
    assert "10.1.0.2" in row.search_text


def test_what_a_full_listing_lacks_is_gone_and_what_nova_reports_deleted_too(app, seed, db_session, fleet):
    # a full listing of servers without srv-00003: it is gone; srv-00004 is reported deleted
    listing = {"items": [i for i in fleet if i["id"] not in ("srv-00003", "srv-00004")],
               "gone": [("server", "srv-00004")], "complete": ["server"]}
    changed, gone, _ = apply_listing(db_session, app.config, listing)
    db_session.commit()
    assert gone >= 2
    ids = set(db_session.scalars(select(InventoryItem.openstack_id).where(InventoryItem.gone_at.is_(None))))
    assert "srv-00003" not in ids and "srv-00004" not in ids and "srv-00005" in ids


def test_an_unrequested_stop_of_a_systems_server_opens_one_incident_and_a_start_resolves_it(
        app, seed, db_session, fleet):
    row = db_session.scalars(select(InventoryItem).where(InventoryItem.openstack_id == "srv-00001")).one()
    system_id = seed.extra["item_id"][0] and db_session.get(InventoryItem, seed.extra["item_id"][0]).system_id
    from portal.models.requests import CloudResource
    db_session.add(CloudResource(department_id=seed.dept_a, system_id=system_id, kind="server", key="server:x:1",
                                 name="web-00001", openstack_id="srv-00001"))
    db_session.commit()
    stopped = dict(fleet[1], status="SHUTOFF")
    for _ in range(2):  # seen twice stopped: still one incident
        apply_listing(db_session, app.config, {"items": [stopped], "gone": [], "complete": []})
        db_session.commit()
    incidents = db_session.scalars(select(Incident).where(Incident.title.like("web-00001:%"))).all()
    assert [i.state for i in incidents] == ["open"] and incidents[0].department_id == seed.dept_a
    apply_listing(db_session, app.config, {"items": [fleet[1]], "gone": [], "complete": []})
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Incident, incidents[0].id).state == "resolved"
    assert row.id == db_session.scalars(select(InventoryItem.id).where(InventoryItem.openstack_id == "srv-00001")).one()


def test_filters_search_sorting_and_pages(login_as, fleet):
    vendor = login_as("vendor")
    page = vendor.get("/inventory/?kind=server").get_data(as_text=True)
    assert "共 302 个" in page or "302" in page  # 300 + the two seeded servers
    assert page.count('href="/inventory/items/') == 80
    stopped = vendor.get("/inventory/?kind=server&status=SHUTOFF").get_data(as_text=True)
    assert stopped.count('href="/inventory/items/') == 25 and "web-00010" in stopped and "web-00011" not in stopped
    by_ip = vendor.get("/inventory/?kind=server&q=10.1.0.12").get_data(as_text=True)
    assert "web-00011" in by_ip and by_ip.count('href="/inventory/items/') == 1
    by_name = vendor.get("/inventory/?kind=server&q=WEB-0024").get_data(as_text=True)
    assert by_name.count('href="/inventory/items/') == 10
    large = vendor.get("/inventory/?kind=server&flavor=m1.large&sort=name&desc=1").get_data(as_text=True)
    assert large.index("web-00249") < large.index("web-00246")
    last = vendor.get("/inventory/?kind=server&page=4").get_data(as_text=True)
    assert last.count('href="/inventory/items/') == 302 - 240
    wild = vendor.get("/inventory/?kind=server&q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert wild.count('href="/inventory/items/') == 0


def test_a_department_sees_only_its_own_and_the_vendor_sees_hosts(login_as, seed, fleet):
    dept_b = login_as("dept_b").get("/inventory/?kind=server&per_page=500").get_data(as_text=True)
    assert "web-00260" in dept_b and "web-00001" not in dept_b
    assert "node-1" not in dept_b and "宿主机" not in dept_b
    assert "node-1" in login_as("vendor").get("/inventory/?kind=server").get_data(as_text=True)
    assert "node-1" not in login_as("bureau").get("/inventory/?kind=server").get_data(as_text=True)


@pytest.mark.parametrize("query", ["kind=nope", "sort=drop", "department_id=1x", "q=" + "x" * 101,
                                   "status=%01", "department_id=" + "9" * 12])
def test_bad_query_arguments_are_refused(login_as, query):
    assert login_as("vendor").get(f"/inventory/?{query}").status_code == 400


def test_the_export_is_what_is_filtered_in_chinese(login_as, fleet):
    response = login_as("bureau").get("/inventory/export.csv?kind=server&status=SHUTOFF")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["名称", "使用部门(单位)", "应用系统", "状态"]
    assert len(rows) == 1 + 25 and {r[3] for r in rows[1:]} == {"已关机"}
    assert rows[1][6] == "4.0"  # GB
    xlsx = login_as("dept").get("/inventory/export.xlsx?kind=server")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_capacity_warns_below_the_emergency_reserve_and_shows_each_departments_use(app, login_as, db_session,
                                                                                  fleet):
    from portal.models.operations import InventorySnapshot
    gib = 1024 ** 3
    db_session.add(InventorySnapshot(departments={}, services={}, capacity={
        "vcpus": {"used": 950, "total": 1000}, "memory_bytes": {"used": 100 * gib, "total": 1000 * gib},
        "disk_bytes": {"used": 10 * gib, "total": 1000 * gib}}))
    db_session.commit()
    page = login_as("bureau").get("/inventory/capacity").get_data(as_text=True)
    assert "应急储备" in page
    # 50 cores free of 1000 is below the 10 % reserve (100); memory and disk are not
    assert page.count('class="alert alert-danger"') == 1 and "vCPU（核）：仅剩 50.0 空闲" in page
    assert "甲局" in page  # department A: 250 servers x 2 cores of the fleet
    assert "501.0 / " in page  # and the seeded server of one core
    assert login_as("dept").get("/inventory/capacity").status_code == 403
