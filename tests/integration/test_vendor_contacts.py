"""The vendor reads a department's contacts only where it has work (issue 17, 第十八条): a department
with an incident not yet resolved, or one that gave this vendor user a live access grant."""
from sqlalchemy import update

from portal.models.grants import VendorGrant
from portal.models.operations import Incident

PHONE = "139"  # the seeded emergency contact's phone (tests/conftest.py)


def _contacts_shown(client, department_id):
    page = client.get(f"/departments/{department_id}").get_data(as_text=True)
    return "赵应急" in page and "contacts-hidden" not in page


def test_the_vendor_sees_contacts_only_with_an_open_incident_or_its_live_grant(app, seed, login_as, db_session):
    # the seed: departments A and B each have an open incident and a requested (not live) grant;
    # the county has neither
    vendor = login_as("vendor")
    assert _contacts_shown(vendor, seed.dept_a) and _contacts_shown(vendor, seed.dept_b)
    assert not _contacts_shown(vendor, seed.county)
    listing = vendor.get("/departments/").get_data(as_text=True)
    assert listing.count("赵应急") == 2 and "无未恢复故障或有效授权" in listing

    db_session.execute(update(Incident).where(Incident.department_id == seed.dept_b).values(state="resolved"))
    db_session.commit()
    assert not _contacts_shown(vendor, seed.dept_b)
    home = vendor.get("/").get_data(as_text=True)
    assert "甲局" in home and "乙局" not in home.split("以下为")[-1]

    # department B approves the vendor's grant: its contacts are shown while the grant is live
    grant_b = seed.extra["grant_id"][1]
    db_session.execute(update(VendorGrant).where(VendorGrant.id == grant_b).values(state="approved"))
    db_session.commit()
    assert _contacts_shown(vendor, seed.dept_b)
    db_session.execute(update(VendorGrant).where(VendorGrant.id == grant_b).values(state="expired"))
    db_session.commit()
    assert not _contacts_shown(vendor, seed.dept_b)

    # the bureau, the administrator and the department itself always see them
    for key, department in (("bureau", seed.county), ("admin", seed.dept_b), ("dept_b", seed.dept_b)):
        assert _contacts_shown(login_as(key), department), key
