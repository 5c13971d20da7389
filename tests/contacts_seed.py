"""Rows of the contacts and agreements pages for the seeded departments (used by the access walk)."""
import os
from datetime import date


def seed_contacts(session, seed, instance_path):
    """Add to department A and to B: a staff member, and a confidentiality agreement (with its
    document) of its provisioned system. Returns {url argument: (id in A, id in B)}."""
    from sqlalchemy import select

    from portal.models.contacts import ConfidentialityAgreement, ContactPerson
    from portal.models.requests import ResourceRequest

    out = {"system_id": [], "person_id": [], "agreement_id": []}
    uploads = os.path.join(instance_path, "uploads")
    os.makedirs(uploads, exist_ok=True)
    for dept_id in (seed.dept_a, seed.dept_b):
        system = session.scalars(select(ResourceRequest).where(
            ResourceRequest.department_id == dept_id, ResourceRequest.state == "provisioned")).first()
        person = ContactPerson(department_id=dept_id, kind="staff", name="孙运维", title="运维工程师",
                               phone="13700000000", email="sun@example.cn")
        stored = f"agreement-seed-{dept_id}-{system.id}.pdf"
        with open(os.path.join(uploads, stored), "wb") as fh:
            fh.write(b"%PDF-1.4\n% seed agreement\n")
        agreement = ConfidentialityAgreement(department_id=dept_id, system_id=system.id, parties="本单位、云服务商",
                                             signed_on=date(2026, 1, 1), expires_on=date(2028, 12, 31),
                                             filename="保密协议.pdf", stored_name=stored,
                                             content_type="application/pdf", size=26, sha256="0" * 64)
        session.add_all([person, agreement])
        session.flush()
        out["system_id"].append(system.id)
        out["person_id"].append(person.id)
        out["agreement_id"].append(agreement.id)
    session.commit()
    return {name: tuple(ids) for name, ids in out.items()}
