"""Rows of the vendor access pages for the seeded departments (used by the access walk)."""
from datetime import timedelta


def seed_grants(session, seed):
    """Add to department A and to B a server of its provisioned system and a grant applied for
    by the seeded vendor. Returns {url argument: (id in department A, id in department B)}."""
    from sqlalchemy import select

    from portal.database import utcnow
    from portal.models.grants import VendorGrant
    from portal.models.requests import CloudResource, ResourceRequest

    out = {"grant_id": [], "resource_id": []}
    now = utcnow()
    for dept_id in (seed.dept_a, seed.dept_b):
        system = session.scalars(select(ResourceRequest).where(
            ResourceRequest.department_id == dept_id, ResourceRequest.state == "provisioned")).first()
        server = CloudResource(department_id=dept_id, system_id=system.id, kind="server",
                               key=f"server:seed:{dept_id}", name=f"gc-seed-{dept_id}",
                               openstack_id="0" * 32)
        grant = VendorGrant(department_id=dept_id, system_id=system.id,
                            vendor_id=seed.user_ids["vendor"], reason="例行巡检",
                            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2))
        session.add_all([server, grant])
        session.flush()
        out["grant_id"].append(grant.id)
        out["resource_id"].append(server.id)
    session.commit()
    return {name: tuple(ids) for name, ids in out.items()}
