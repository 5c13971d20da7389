"""Rows of the live inventory for the seeded departments (used by the access walk)."""


def seed_inventory(session, seed):
    """Add to department A and to B a server of its provisioned system, as the sync would store it.
    Returns {url argument: (id in department A, id in department B)}."""
    from sqlalchemy import select

    from portal.database import utcnow
    from portal.models.inventory import InventoryItem
    from portal.models.requests import ResourceRequest

    ids = []
    for n, dept_id in enumerate((seed.dept_a, seed.dept_b)):
        system = session.scalars(select(ResourceRequest).where(
            ResourceRequest.department_id == dept_id, ResourceRequest.state == "provisioned")).first()
        item = InventoryItem(kind="server", openstack_id=f"00000000-0000-4000-8000-00000000000{n}",
                             project_id="p" * 32, department_id=dept_id, system_id=system.id,
                             name=f"gc-seed-web-{n}", status="ACTIVE", flavor="m1.small", image="i" * 36,
                             host="devcloud", search_text=f" gc-seed-web-{n} 10.0.0.{n + 10} ",
                             attributes={"vcpus": 1, "ram_mib": 2048, "power_state": "RUNNING",
                                         "fixed_ips": [{"network": "net", "addr": f"10.0.0.{n + 10}"}],
                                         "floating_ips": [], "volumes": []},
                             cloud_created_at=utcnow(), synced_at=utcnow())
        session.add(item)
        session.flush()
        ids.append(item.id)
    session.commit()
    return {"item_id": tuple(ids)}
