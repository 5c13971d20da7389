"""Part 4 of the route-by-role access checks (tests/integration/test_portal_access.py)."""
import pytest

from tests.integration.test_portal_access import ROLES, check_access, routes_part


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint,method,rule,arguments", routes_part(3))
def test_access(app, seed, login_as, role, endpoint, method, rule, arguments):
    check_access(app, seed, login_as, role, endpoint, method, rule, arguments)
