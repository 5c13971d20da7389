"""Schemathesis against /api/v1/openapi.json with every role's token: no server error, and no
response outside the documented schema, whatever the generated input."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                status_code_conformance)

from portal.models.accounts import User
from portal.services.api_tokens import create_token
from portal.services.audit import RequestInfo

ROLES = ["dept", "dept_admin", "dept_b", "bureau", "vendor", "auditor", "admin"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 10  # per operation and role: bounded, so the run stays well under a minute


@pytest.fixture
def tokens(app, seed):
    from portal.extensions import db
    out = {}
    with app.app_context():
        for key in ROLES:
            user = db.session.get(User, seed.user_ids[key])
            out[key] = create_token(db.session, RequestInfo(actor=user), user, "schemathesis",
                                    scope="write", days=1)[1]
    return out


def test_every_operation_with_every_role_stays_in_its_schema(app, tokens):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 10, "the API documents fewer operations than expected"
    failures, checked = [], 0
    for role, token in tokens.items():
        for operation in operations:
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def run(case):
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                                       checks=CHECKS)
            try:
                run()
            except Exception as exc:  # collected so one run names every broken operation
                failures.append(f"{role} {operation.method.upper()} {operation.path}: "
                                f"{str(exc)[:600]}")
            checked += 1
    print(f"schemathesis: {len(operations)} operations x {len(tokens)} roles = {checked} runs,"
          f" up to {EXAMPLES} generated cases each, {len(CHECKS)} checks per response")
    assert failures == []
