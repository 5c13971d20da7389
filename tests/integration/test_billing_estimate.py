"""The request form shows the estimated monthly fee at the current 计费标准 before submission."""
from decimal import Decimal

from portal.models.billing import Rate
from tests.integration.test_billing_statements import cst
from tests.integration.test_requests_web import FORM, new_request


def test_request_form_shows_the_estimate(db_session, login_as):
    for rtype, price in (("vcpu", "0.05"), ("ram", "0.02"), ("volume", "0.0015"), ("floating_ip", "0.0333")):
        db_session.add(Rate(resource_type=rtype, unit_price=Decimal(price), effective_from=cst(1, 1)))
    db_session.commit()
    dept = login_as("dept")
    request_id = new_request(dept, **{**FORM, "servers-1-flavor": "m1.small", "servers-1-data_volumes": "50",
                                      "floating_ips": "1"})
    page = dept.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    # m1.small (1 vCPU, 2 GiB) x 2 for 720 h: vCPU 2 x 0.05 x 720 = 72.00; RAM 4 x 0.02 x 720 = 57.60;
    # data volumes 2 x 50 GiB x 0.0015 x 720 = 108.00; 1 IP x 0.0333 x 720 = 23.976 -> 23.98
    assert 'id="cost-estimate"' in page and "261.58" in page
