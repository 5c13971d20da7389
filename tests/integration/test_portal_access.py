"""Every URL of the portal x every role: allowed, denied (403/404) or sent to the login page.

The policy table below must name every (endpoint, method) of app.url_map: a new route without an
entry fails test_every_route_has_a_policy and its own access case.
"""
import pytest

from tests.conftest import csrf_token_from, make_test_app

A, D, L = "allow", "deny", "login"
U = "unauthorized"  # 401: the JSON API wants a bearer token
ROLES = ["anonymous", "dept_own", "dept_foreign", "dept_admin", "dept_admin_foreign",
         "bureau", "vendor", "auditor", "admin", "security", "expert"]
# role -> the seeded user who acts (None: nobody logged in)
ACTOR = {"anonymous": None, "dept_own": "dept", "dept_foreign": "dept", "dept_admin": "dept_admin",
         "dept_admin_foreign": "dept_admin", "bureau": "bureau", "vendor": "vendor",
         "auditor": "auditor", "admin": "admin", "security": "security", "expert": "expert"}
FOREIGN = {"dept_foreign", "dept_admin_foreign"}  # URL arguments point into another department
# routes asked from another address than the test client's 127.0.0.1 (which /metrics allows)
REMOTE_ADDR = {("operations.metrics", "GET"): "203.0.113.9"}


def only(*allowed):
    return {r: A if r in allowed else (L if r == "anonymous" else D) for r in ROLES}


PUBLIC = {r: A for r in ROLES}
LOGGED_IN = only(*ROLES[1:])
# 三权分立: the security administrator sees no business page (requests, operations, fees, grants,
# backups, departments) and not the audit log; every other role that logs in does
BUSINESS = only(*(r for r in ROLES[1:] if r not in ("security", "expert")))
# 评审专家 (issue 19): the projects assigned to them and nothing else (the seeded expert is asked about
# department A's project, which project_id names for every role but the foreign ones)
DEPT_USERS = ("dept_own", "dept_foreign", "dept_admin", "dept_admin_foreign")
OWN_DEPT = ("dept_own", "dept_admin")
TOKEN_ONLY = {r: U for r in ROLES}

POLICY = {
    ("static", "GET"): PUBLIC,
    ("main.index", "GET"): LOGGED_IN,
    ("main.set_language", "POST"): PUBLIC,
    ("main.healthz", "GET"): PUBLIC,
    ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC,
    ("auth.logout", "POST"): LOGGED_IN,
    ("auth.change_password", "GET"): LOGGED_IN,
    ("auth.change_password", "POST"): LOGGED_IN,
    # issue 16: the second step of a login (without a pending login: back to /login), the set-up
    ("auth.second_factor", "GET"): PUBLIC,
    ("auth.second_factor", "POST"): PUBLIC,
    ("auth.second_factor_setup", "GET"): LOGGED_IN,
    ("auth.second_factor_setup", "POST"): LOGGED_IN,
    ("auth.recovery_codes", "POST"): LOGGED_IN,
    ("departments.index", "GET"): BUSINESS,
    ("departments.detail", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("departments.create", "GET"): only("bureau", "admin"),
    ("departments.create", "POST"): only("bureau", "admin"),
    ("departments.edit", "GET"): only("bureau", "admin"),
    ("departments.edit", "POST"): only("bureau", "admin"),
    ("departments.contacts", "GET"): only(*OWN_DEPT, "bureau", "admin"),
    ("departments.contacts", "POST"): only(*OWN_DEPT, "bureau", "admin"),
    ("users.index", "GET"): only("dept_admin", "dept_admin_foreign", "auditor", "admin", "security"),
    ("users.create", "GET"): only("dept_admin", "dept_admin_foreign", "admin", "security"),
    ("users.create", "POST"): only("dept_admin", "dept_admin_foreign", "admin", "security"),
    ("users.edit", "GET"): only("dept_admin", "admin"),
    ("users.edit", "POST"): only("dept_admin", "admin"),
    ("users.reset_second_factor", "POST"): only("dept_admin", "admin", "security"),
    # 三权分立 (issue 16): only the security administrator assigns roles; he alone has his pages;
    # the audit log is the audit administrator's (and the bureau's, and each department's own)
    ("users.role", "GET"): only("security"),
    ("users.role", "POST"): only("security"),
    # the security administrator edits the profile and resets the password of administrators only:
    # user_id here is a department user, so everyone is refused (test_separation_of_duties.py)
    ("users.profile", "GET"): only(),
    ("users.profile", "POST"): only(),
    ("secadmin.policy", "GET"): only("security"),
    ("secadmin.keys", "GET"): only("security"),
    ("audit.index", "GET"): only(*DEPT_USERS, "bureau", "auditor"),
    ("audit.verify", "GET"): only("auditor"),
    # resource requests, reviews, receipts, tokens, API (issue 4)
    ("requests.index", "GET"): BUSINESS,
    ("requests.create", "GET"): only(*DEPT_USERS),
    # issue 17: the form's live cost estimate (JSON), for whoever fills in a request
    ("requests.estimate", "POST"): only(*DEPT_USERS),
    ("requests.create", "POST"): only(*DEPT_USERS),
    ("requests.detail", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("requests.form_pdf", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("requests.progress_json", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("requests.charts_json", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("requests.edit", "GET"): only(*OWN_DEPT),
    ("requests.edit", "POST"): only(*OWN_DEPT),
    ("requests.submit", "POST"): only(*OWN_DEPT),
    ("requests.cancel", "POST"): only(*OWN_DEPT),
    ("requests.upload", "POST"): only(*OWN_DEPT),
    ("requests.attachment", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("requests.change", "GET"): only(*OWN_DEPT),
    ("requests.change", "POST"): only(*OWN_DEPT),
    ("requests.decommission", "GET"): only(*OWN_DEPT),
    ("requests.decommission", "POST"): only(*OWN_DEPT),
    ("requests.receipt", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("requests.receipt_pdf", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("requests.confirm_receipt", "POST"): only(*OWN_DEPT),
    ("requests.tokens", "GET"): BUSINESS,
    ("requests.tokens", "POST"): only(*DEPT_USERS, "bureau", "vendor", "admin"),
    ("requests.revoke_token", "POST"): only("dept_own", "admin"),  # the acting user's token; admins revoke any
    ("requests.all_tokens", "GET"): only("admin"),
    ("reviews.index", "GET"): only("bureau"),
    ("reviews.review", "GET"): only("bureau"),
    ("reviews.start", "POST"): only("bureau"),
    ("reviews.approve", "POST"): only("bureau"),
    ("reviews.reject", "POST"): only("bureau"),
    ("reviews.send_back", "POST"): only("bureau"),
    ("reviews.green_channel", "POST"): only("bureau"),
    ("reviews.complete_approval", "POST"): only("bureau"),
    ("provisioning.queue", "GET"): only("bureau", "vendor", "auditor", "admin"),
    ("provisioning.retry", "POST"): only("vendor", "admin"),
    # operator actions on failed provisioning, reconciler (issue 5)
    ("provisioning.rollback", "POST"): only("vendor", "admin"),
    ("provisioning.resolve", "POST"): only("vendor", "admin"),
    ("provisioning.reconcile", "GET"): only("bureau", "vendor", "auditor", "admin"),
    # the API ignores the session cookie: without a bearer token everyone gets 401 (test_requests_api.py)
    ("api.openapi", "GET"): PUBLIC,
    ("audit.export", "GET"): only(*DEPT_USERS, "bureau", "auditor"),
    # monitoring (issue 6)
    ("maintenance.index", "GET"): BUSINESS,
    ("maintenance.create", "GET"): only("vendor"),
    ("maintenance.create", "POST"): only("vendor"),
    ("maintenance.detail", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("maintenance.decide", "POST"): only("bureau", "vendor"),
    ("incidents.index", "GET"): BUSINESS,
    ("incidents.detail", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("incidents.acknowledge", "POST"): only("vendor"),
    ("incidents.root_cause", "POST"): only("vendor"),
    # issue 17: the vendor opens, classifies and resolves incidents by hand; departments answer windows
    ("incidents.create", "GET"): only("vendor"),
    ("incidents.create", "POST"): only("vendor"),
    ("incidents.resolve", "POST"): only("vendor"),
    ("incidents.change_kind", "POST"): only("vendor"),
    ("maintenance.respond", "POST"): only(*OWN_DEPT),
    # issue 20: contacts kept current, important systems, confidentiality agreements (department_id,
    # person_id, system_id, agreement_id: the own or the other department's, tests/contacts_seed.py)
    ("contacts.index", "GET"): BUSINESS,  # a department is sent to its own page
    ("contacts.department", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("contacts.export", "GET"): BUSINESS,
    ("contacts.agreement_document", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("contacts.confirm", "POST"): only(*OWN_DEPT),
    ("contacts.add_person", "POST"): only(*OWN_DEPT, "bureau", "admin"),
    ("contacts.remove_person", "POST"): only(*OWN_DEPT, "bureau", "admin"),
    ("contacts.important", "POST"): only(*OWN_DEPT, "bureau", "admin"),
    ("contacts.ordinary", "POST"): only("bureau", "admin"),  # only the bureau lifts an "important" mark
    ("contacts.add_agreement", "POST"): only(*OWN_DEPT, "bureau", "admin"),
    # every user's inbox and notification choices; a message is its owner's alone (message_id 999999
    # matches nothing: who reads which message is in test_notifications.py)
    ("notifications.index", "GET"): LOGGED_IN,
    ("notifications.read", "POST"): only(),
    ("notifications.read_all", "POST"): LOGGED_IN,
    ("notifications.preferences", "GET"): LOGGED_IN,
    ("notifications.preferences", "POST"): LOGGED_IN,
    ("operations.job_list", "GET"): only("bureau", "vendor", "admin"),
    ("operations.probe_list", "GET"): BUSINESS,
    ("operations.probe_create", "GET"): only("vendor", "admin"),
    ("operations.probe_create", "POST"): only("vendor", "admin"),
    ("operations.probe_detail", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("operations.probe_toggle", "POST"): only("vendor", "admin"),
    ("operations.sla_report", "GET"): BUSINESS,
    ("operations.usage", "GET"): BUSINESS,
    # Prometheus only (bearer token or allow-listed address, tests/integration/test_metrics_auth.py):
    # asked from outside the allow-list, no session opens it
    ("operations.metrics", "GET"): TOKEN_ONLY,
    # Alertmanager only (its bearer token, tests/integration/test_alert_webhook.py)
    ("operations.alertmanager_webhook", "POST"): TOKEN_ONLY,
    # usage, statements, rate card, monthly reports, budget (issue 9)
    ("billing.index", "GET"): BUSINESS,
    ("billing.rate", "POST"): only("bureau", "vendor", "admin"),
    ("billing.statement", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("billing.transition", "POST"): only("bureau"),
    ("billing.rerate", "POST"): only("bureau", "vendor", "admin"),
    ("billing.rates", "GET"): BUSINESS,
    ("billing.rates", "POST"): only("bureau"),
    ("billing.report_list", "GET"): BUSINESS,
    ("billing.report_list", "POST"): only("bureau", "vendor", "admin"),
    ("billing.report", "GET"): BUSINESS,
    ("billing.report_export", "GET"): BUSINESS,
    ("billing.budget", "GET"): BUSINESS,
    # vendor access grants (issue 8, 第十八条): no way in without a live grant
    # the live inventory (issue 18): everyone who sees the department's data reads it; the department
    # acts on its own servers (the seeded grant is not live: the vendor is refused)
    ("inventory.index", "GET"): BUSINESS,
    ("inventory.export", "GET"): BUSINESS,
    ("inventory.capacity", "GET"): only("bureau", "vendor", "auditor", "admin"),
    ("inventory.detail", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("inventory.refresh", "POST"): only(*OWN_DEPT, "bureau", "vendor", "admin"),
    ("inventory.action", "POST"): only(*OWN_DEPT),
    ("inventory.console", "GET"): only(*OWN_DEPT),
    ("grants.index", "GET"): BUSINESS,
    ("grants.create", "GET"): only("vendor"),
    ("grants.create", "POST"): only("vendor"),
    ("grants.detail", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("grants.decide", "POST"): only("dept_admin"),
    ("grants.revoke", "POST"): only("dept_admin"),
    ("grants.withdraw", "POST"): only("vendor"),
    ("grants.console", "GET"): only(),  # the seeded grant is not live yet: even its vendor is refused
    ("grants.ssh", "POST"): only(),
    # backup and recovery (issue 7, 第十九条): auditors read; extraction needs the bureau, links the department
    # the working-day calendar (issue 13): everyone reads it, the admin enters a year
    ("calendar.index", "GET"): LOGGED_IN,
    ("calendar.year", "GET"): LOGGED_IN,
    ("calendar.edit", "GET"): only("admin"),
    ("calendar.edit", "POST"): only("admin"),
    ("calendar.revert", "POST"): only("admin"),
    ("backups.index", "GET"): BUSINESS,
    ("backups.runs", "GET"): BUSINESS,
    ("backups.artifacts", "GET"): BUSINESS,
    ("backups.restores", "GET"): BUSINESS,
    ("backups.extractions", "GET"): BUSINESS,
    ("backups.new_policy", "GET"): only(*DEPT_USERS, "bureau", "vendor", "admin"),
    ("backups.new_policy", "POST"): only(*DEPT_USERS, "bureau", "vendor", "admin"),
    ("backups.policy", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("backups.edit_policy", "GET"): only(*OWN_DEPT, "bureau", "vendor", "admin"),
    ("backups.edit_policy", "POST"): only(*OWN_DEPT, "bureau", "vendor", "admin"),
    ("backups.toggle_policy", "POST"): only(*OWN_DEPT, "bureau", "vendor", "admin"),
    ("backups.run_now", "POST"): only(*OWN_DEPT, "vendor", "admin"),
    # 第十八条 (issue 16): only the department's administrator approves hooks and manages its keys
    ("backups.approve_hooks", "POST"): only("dept_admin"),
    ("backups.keys", "GET"): only(*DEPT_USERS),
    ("backups.keys", "POST"): only("dept_admin", "dept_admin_foreign"),  # its own department's keys
    ("backups.revoke_key", "POST"): only("dept_admin"),
    # no restore is seeded (restore_id 1 matches nothing): who may start or withdraw one is in test_backup_sidedoor
    ("backups.start_requested_restore", "POST"): only(),
    ("backups.withdraw_restore", "POST"): only(),
    ("backups.restore", "GET"): only(*OWN_DEPT, "vendor"),
    ("backups.restore", "POST"): only(*OWN_DEPT, "vendor"),
    ("backups.extract", "GET"): only(*OWN_DEPT),
    ("backups.extract", "POST"): only(*OWN_DEPT),
    ("backups.extraction", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("backups.decide", "POST"): only("bureau"),
    ("backups.make_link", "POST"): only(*OWN_DEPT),
    ("backups.download", "GET"): only(),  # the seeded link matches nothing: 404 even for its department
    # the platform's duties (issue 20): plans, drills, rectification, key changes; the seeded rows
    # are department A's and B's (a vendor sees no department's rectification notice)
    ("duties.index", "GET"): BUSINESS,
    ("duties.new_plan", "GET"): only(*DEPT_USERS, "vendor"),
    ("duties.new_plan", "POST"): only(*DEPT_USERS, "vendor"),
    ("duties.plan", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("duties.edit_version", "GET"): only(*OWN_DEPT),
    ("duties.edit_version", "POST"): only(*OWN_DEPT),
    ("duties.plan_action", "POST"): only(*OWN_DEPT, "bureau", "vendor"),
    ("duties.version_document", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("duties.drill_calendar", "GET"): BUSINESS,
    ("duties.new_drill", "GET"): only(*DEPT_USERS, "bureau", "vendor"),
    ("duties.new_drill", "POST"): only(*DEPT_USERS, "bureau", "vendor"),
    ("duties.drill", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("duties.drill_action", "POST"): only(*OWN_DEPT, "bureau"),
    ("duties.drill_step", "POST"): only(*OWN_DEPT),
    ("duties.drill_restore", "POST"): only(*OWN_DEPT),
    ("duties.drill_finish", "POST"): only(*OWN_DEPT),
    ("duties.follow_up", "POST"): only(*OWN_DEPT, "bureau"),
    ("duties.close_follow_up", "POST"): only(*OWN_DEPT),
    ("duties.rectifications", "GET"): BUSINESS,
    ("duties.new_rectification", "GET"): only("bureau"),
    ("duties.new_rectification", "POST"): only("bureau"),
    ("duties.rectification", "GET"): only(*OWN_DEPT, "bureau", "auditor", "admin"),
    ("duties.answer_rectification", "POST"): only(*OWN_DEPT),
    ("duties.decide_rectification", "POST"): only("bureau"),
    ("duties.evidence", "GET"): only(*OWN_DEPT, "bureau", "auditor", "admin"),
    ("duties.key_changes", "GET"): only("bureau", "vendor", "auditor", "admin"),
    ("duties.new_key_change", "GET"): only("vendor"),
    ("duties.new_key_change", "POST"): only("vendor"),
    ("duties.key_change", "GET"): only("bureau", "vendor", "auditor", "admin"),
    ("duties.decide_key_change", "POST"): only("bureau", "vendor"),
    # the vendor's evaluation (第二十八条): departments rate (outside the window the form sends them back to the
    # list), everyone who sees the business reads the ratings in scope; the annual assessment is the bureau's,
    # read by the vendor, the auditors and the admin, not by the departments (issue 20)
    ("evaluation.index", "GET"): BUSINESS,
    ("evaluation.rate", "GET"): only(*DEPT_USERS),
    ("evaluation.rate", "POST"): only(*DEPT_USERS),
    ("evaluation.rating", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("evaluation.assessments", "GET"): only("bureau", "vendor", "auditor", "admin"),
    ("evaluation.assessments", "POST"): only("bureau"),
    ("evaluation.assessment", "GET"): only("bureau", "vendor", "auditor", "admin"),
    ("evaluation.assessment_export", "GET"): only("bureau", "vendor", "auditor", "admin"),
    ("evaluation.recompute", "POST"): only("bureau"),
    ("evaluation.sign", "POST"): only("bureau"),
    # security monitoring reports (第六条(五)): a department its own; the bureau, vendor and admin write the last
    # period's missing ones at once
    ("security_reports.index", "GET"): BUSINESS,
    ("security_reports.index", "POST"): only("bureau", "vendor", "admin"),
    ("security_reports.detail", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    ("security_reports.export", "GET"): only(*OWN_DEPT, "bureau", "vendor", "auditor", "admin"),
    # informatization projects (issue 19, regulation 附件1): the department its own (404 for another's),
    # the bureau and the auditor all, the expert what is assigned to them; outside bodies are no users
    ("projects.index", "GET"): only(*DEPT_USERS, "bureau", "auditor", "expert"),
    ("projects.pipeline", "GET"): only("bureau", "auditor"),
    ("projects.plan", "GET"): only("bureau", "auditor"),
    ("projects.approve_plan", "POST"): only("bureau"),
    ("projects.create", "GET"): only(*DEPT_USERS),
    ("projects.create", "POST"): only(*DEPT_USERS),
    ("projects.edit", "GET"): only(*OWN_DEPT),
    ("projects.edit", "POST"): only(*OWN_DEPT),
    ("projects.detail", "GET"): only(*OWN_DEPT, "bureau", "auditor", "expert"),
    ("projects.document", "GET"): only(*OWN_DEPT, "bureau", "auditor", "expert"),
    ("projects.upload", "POST"): only(*OWN_DEPT, "bureau"),
    ("projects.declare", "POST"): only(*OWN_DEPT),
    ("projects.withdraw", "POST"): only(*OWN_DEPT),
    ("projects.review", "POST"): only("bureau"),
    ("projects.assign", "POST"): only("bureau"),
    ("projects.opinion", "POST"): only("expert"),
    ("projects.plan_action", "POST"): only("bureau"),
    ("projects.feasibility", "POST"): only("bureau"),
    ("projects.submit_design", "POST"): only(*OWN_DEPT),
    ("projects.design_review", "POST"): only("bureau"),
    ("projects.procurement", "POST"): only(*OWN_DEPT, "bureau"),
    ("projects.construction", "POST"): only(*OWN_DEPT, "bureau"),
    ("projects.milestone", "POST"): only(*OWN_DEPT, "bureau"),
    ("projects.request_acceptance", "POST"): only(*OWN_DEPT),
    ("projects.acceptance", "POST"): only("bureau"),
    # a system put in use (第十五条): its department only (request_id: a draft, refused with a message)
    ("projects.system_in_use", "POST"): only(*OWN_DEPT),
    # a project's money (第十二条) and its files (申报表, dossier, annual plan): whoever sees the project
    ("projects.money_page", "GET"): only(*OWN_DEPT, "bureau", "auditor", "expert"),
    ("projects.money_change", "POST"): only(*OWN_DEPT),
    ("projects.money_contract", "POST"): only(*OWN_DEPT),
    ("projects.money_payment", "POST"): only(*OWN_DEPT),
    ("projects.money_decide", "POST"): only("bureau"),
    ("projects.declaration_xlsx", "GET"): only(*OWN_DEPT, "bureau", "auditor", "expert"),
    ("projects.declaration_pdf", "GET"): only(*OWN_DEPT, "bureau", "auditor", "expert"),
    ("projects.dossier_xlsx", "GET"): only(*OWN_DEPT, "bureau", "auditor", "expert"),
    ("projects.dossier_pdf", "GET"): only(*OWN_DEPT, "bureau", "auditor", "expert"),
    ("projects.plan_xlsx", "GET"): only("bureau", "auditor"),
    ("projects.plan_pdf", "GET"): only("bureau", "auditor"),
    # the performance evaluation (第十七条): the bureau opens and completes, experts score, the department assesses itself
    ("projects.evaluation", "GET"): only(*OWN_DEPT, "bureau", "auditor", "expert"),
    ("projects.evaluation_open", "POST"): only("bureau"),
    ("projects.evaluation_scores", "POST"): only("expert"),
    ("projects.evaluation_self", "POST"): only(*OWN_DEPT),
    ("projects.evaluation_complete", "POST"): only("bureau"),
}


def _routes():
    app = make_test_app("sqlite://", "/tmp/govcloud-route-listing")
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, rule.rule, tuple(sorted(rule.arguments))))
    return sorted(routes)


ROUTES = _routes()


def arg_values(seed, role):
    """Values for URL arguments: the acting user's own department, or another one."""
    foreign = role in FOREIGN
    values = {
        "department_id": seed.dept_b if foreign else seed.dept_a,
        "user_id": seed.user_ids["dept_b"] if foreign else seed.user_ids["dept_member"],
        "filename": "css/portal.css",
        "fmt": "csv",
        "year": 2027,
        "restore_id": 1, "run_id": 1,  # the API answers 401 to a session whatever the id
        "message_id": 999999,
        # the projects' API (issue 19) answers 401 to a session whatever the id; a seeded project's
        # own id (seed.extra) replaces project_id below when there is one
        "project_id": 1, "evaluation_id": 1, "change_id": 1, "contract_id": 1,
    }
    for name, (own, other) in seed.extra.items():
        values[name] = other if foreign else own
    return values


def _api_policy():
    """Every declared API operation ignores the session cookie; what each token may do is tested
    with tokens (test_api_*.py)."""
    import portal.api.views  # noqa: F401  (declares the operations)
    from portal.api.routing import OPERATIONS
    return {(f"api.{op.operation_id}", op.method): TOKEN_ONLY for op in OPERATIONS}


POLICY.update(_api_policy())


def test_every_route_has_a_policy():
    listed = {(endpoint, method) for endpoint, method, _, _ in ROUTES}
    assert listed - POLICY.keys() == set(), "routes without a policy entry: add them to POLICY"
    assert POLICY.keys() - listed == set(), "policy entries for routes that no longer exist"
    assert len(ROUTES) >= 20


# the routes are checked in PARTS modules (this one and test_portal_access_<n>.py), so that the
# test processes share them (pytest-xdist gives each module to one process)
PARTS = 4


def routes_part(n):
    """The n-th of PARTS slices of ROUTES, as pytest parameters."""
    return [pytest.param(*route, id=f"{route[1]} {route[2]}") for route in ROUTES[n::PARTS]]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint,method,rule,arguments", routes_part(0))
def test_access(app, seed, login_as, role, endpoint, method, rule, arguments):
    check_access(app, seed, login_as, role, endpoint, method, rule, arguments)


def check_access(app, seed, login_as, role, endpoint, method, rule, arguments):
    """The answer to role's call of the route is the one POLICY expects."""
    policy = POLICY.get((endpoint, method))
    assert policy is not None, f"{method} {rule} ({endpoint}) has no entry in POLICY"
    expected = policy[role]
    values = arg_values(seed, role)
    missing = [a for a in arguments if a not in values]
    assert not missing, f"no test value for URL argument(s) {missing}: add them to arg_values"
    with app.test_request_context():
        from flask import url_for
        url = url_for(endpoint, **{a: values[a] for a in arguments})
    client = app.test_client() if ACTOR[role] is None else login_as(ACTOR[role])
    if method == "GET":
        response = client.get(url, environ_base={"REMOTE_ADDR": REMOTE_ADDR.get((endpoint, method), "127.0.0.1")})
    elif method == "PATCH":
        response = client.patch(url, json={})
    else:
        page = client.get("/" if ACTOR[role] else "/login", follow_redirects=True)
        response = client.post(url, data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    status, location = response.status_code, response.headers.get("Location", "")
    response.close()  # static files are streamed from an open file
    to_login = status == 302 and location.startswith("/login?next=")
    if expected == A:
        assert status in (200, 302) and not to_login, f"{role} {method} {url}: {status} {location}"
    elif expected == D:
        assert status in (403, 404), f"{role} {method} {url}: expected 403/404, got {status} {location}"
    elif expected == U:
        assert status == 401, f"{role} {method} {url}: expected 401, got {status} {location}"
    else:
        assert to_login, f"{role} {method} {url}: expected redirect to login, got {status} {location}"
