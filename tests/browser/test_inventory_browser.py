"""云资源 in a real browser (Chromium, headless), as each role sees it (issue 18): the department its
own servers with the actions, the vendor and the bureau every department's with filters, the
auditor without actions. Screenshots go to test-artifacts/screenshots/inventory-*.png."""
import threading

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from portal import migrate
from tests.browser.test_portal_browser import SHOTS, browser, log_in, page  # noqa: F401 (fixtures)
from tests.conftest import make_test_app, reset_and_seed


def _items():
    items = []
    for n in range(40):
        items.append({"kind": "server", "id": f"srv-{n:04d}", "project_id": "proj-a" if n % 2 else "proj-b",
                      "name": f"app-{n:02d}", "status": "SHUTOFF" if n % 7 == 0 else "ACTIVE",
                      "flavor": "m1.small" if n % 3 else "m1.large", "image": "cirros-devcloud",
                      "host": "devcloud-compute1", "created_at": "2026-11-20T02:00:00Z",
                      "updated_at": "2026-11-30T02:00:00Z",
                      "attributes": {"vcpus": 2, "ram_mib": 4096, "disk_gb": 20, "power_state": "RUNNING",
                                     "fixed_ips": [{"network": "gc-net", "addr": f"192.168.10.{n + 10}"}],
                                     "floating_ips": [{"network": "gc-net", "addr": f"172.24.4.{n + 10}"}]
                                     if n % 5 == 0 else [], "volumes": []}})
    for n in range(6):
        items.append({"kind": "volume", "id": f"vol-{n}", "project_id": "proj-a", "name": f"data-{n}",
                      "status": "in-use", "flavor": "", "image": "", "host": "", "created_at": None,
                      "updated_at": None, "attributes": {"size_gib": 100, "attached_to": []}})
    return items


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """The portal on a seeded SQLite database with forty servers and six volumes of departments A
    and B stored as a sync stores them, served by werkzeug on a free loopback port."""
    from portal.models.accounts import Department
    from portal.models.inventory import InventorySync
    from portal.database import utcnow
    from portal.services.inventory_store import apply_listing
    tmp = tmp_path_factory.mktemp("inventory-browser")
    app = make_test_app("sqlite:///" + str(tmp / "browser.db"), tmp / "instance")
    migrate.upgrade(app.config["DATABASE_URL"])
    seed = reset_and_seed(app)
    with Session(app.extensions["govcloud_db"][0]) as s:
        s.get(Department, seed.dept_a).openstack_project_id = "proj-a"
        s.get(Department, seed.dept_b).openstack_project_id = "proj-b"
        s.commit()
        apply_listing(s, app.config, {"items": _items(), "gone": [], "complete": []})
        s.add(InventorySync(mode="incremental", started_at=utcnow(), finished_at=utcnow(), cursor=utcnow()))
        s.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seed
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    app.extensions["govcloud_db"][0].dispose()


@pytest.mark.parametrize("key,sees_hosts,acts", [("dept", False, True), ("vendor", True, False),
                                                  ("bureau", False, False), ("auditor", False, False)])
def test_each_role_sees_its_inventory_in_chinese(fleet, page, key, sees_hosts, acts):  # noqa: F811
    base, seed = fleet
    log_in(page, base, seed.users[key])
    page.click("#main-nav >> text=云资源")
    page.wait_for_load_state()
    assert page.inner_text("h1") == "云资源"
    assert "更新于" in page.inner_text("#inventory-fresh")
    table = page.inner_text("#inventory-table")
    assert "运行中" in table and "已关机" in table
    assert ("devcloud-compute1" in table) == sees_hosts
    assert ("app-02" in table) == (key != "dept")  # department B's server
    page.screenshot(path=str(SHOTS / f"inventory-{key}.png"), full_page=True)
    page.fill("input[name=q]", "192.168.10.13")
    page.click("#inventory-filter button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#inventory-table tbody tr").count() == 1
    page.click("#inventory-table a >> text=app-03")
    page.wait_for_load_state()
    assert "app-03" in page.inner_text("h1")
    assert page.locator("#server-actions").count() == (1 if acts else 0)
    if acts:
        assert page.locator("#server-actions button[value=start]").is_disabled()  # it runs
    page.screenshot(path=str(SHOTS / f"inventory-{key}-server.png"), full_page=True)
    assert page.problems == []
