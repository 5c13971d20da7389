"""API of the running cloud: inventory, usage, statements and reports, SLA, incidents, maintenance.

The same services, scoping and role checks as the pages: a department sees its own objects
(another department's answer 404), the bureau, vendor, auditor and admin see all; a role the page
refuses gets 403 before anything is read. Writes go through the services' row-locked, audited
transitions, in one transaction: a refusal changes nothing.
"""
from flask import Response, current_app, g

from ..access import allows
from ..audit_hooks import mark_download
from ..extensions import db
from ..pagination import paginate
from ..schemas import billing as bs, operations as os_
from ..models.accounts import Role
from ..services import incidents, inventory, live_inventory, maintenance, metering, reports, sla, statements
from ..services.rating import month_bounds
from .errors import ApiError
from .routing import dump, operation
from .common import REQUEST_ERRORS, WRITE_ERRORS, bp
from .common import ctx as _ctx

READ_ERRORS = (400,) + REQUEST_ERRORS


def _require(roles):
    """Refuse with 403 a role the page refuses (before the object is looked up)."""
    if not allows(g.api_user, roles):
        raise ApiError(403, "forbidden", "forbidden")


def _page(model, page, item):
    return dump(model(items=[item(x) for x in page.items], page=page.page, pages=page.pages, total=page.total))


def _month(query):
    """(year, month) of a MonthQuery; the current month (Beijing time) for what is not given."""
    year, month = sla.current_month()
    return query.year or year, query.month or month


# -- cloud resources (inventory)

def _resource(r):
    return os_.CloudResourceOut.model_validate(r)


@operation(bp, "/resources", "GET", "listResources", "List the cloud resources you may see", tag="resources",
           query=os_.ResourceQuery, response=os_.CloudResourceList, errors=(400, 401))
def list_resources(query):
    page = inventory.list_resources(db.session, g.api_user, kind=query.kind, system_id=query.system_id,
                                    deleted=query.deleted, q=query.q, page=query.page, per_page=query.per_page)
    return _page(os_.CloudResourceList, page, _resource)


@operation(bp, "/resources/<int:resource_id>", "GET", "getResource", "Read a cloud resource", tag="resources",
           response=os_.CloudResourceOut, errors=REQUEST_ERRORS)
def get_resource(resource_id):
    return dump(_resource(inventory.get_resource(db.session, g.api_user, resource_id)))


# -- usage

@operation(bp, "/usage", "GET", "getUsage", "Metered usage per department and system for a month",
           tag="usage", query=os_.MonthQuery, response=os_.MonthlyUsage, errors=(400, 401),
           description="Unit-hours of each resource type, as the statements rate them; departments see their own.")
def get_usage(query):
    year, month = _month(query)
    start, end = month_bounds(year, month)
    usage = metering.usage_by_system(db.session, g.api_user, start, end)
    items = [{"department_id": dept, "system_id": system_id, "system_name": name, "resource_type": rtype,
              "unit_hours": str(hours)}
             for (dept, system_id, name), types in sorted(usage.items(), key=lambda kv: (kv[0][0], kv[0][2]))
             for rtype, hours in sorted(types.items())]
    return dump(os_.MonthlyUsage(year=year, month=month, items=items))


@operation(bp, "/usage/current", "GET", "getCurrentUsage", "What the cloud holds now (the /usage page)",
           tag="usage", response=os_.CurrentUsage, errors=(401,))
def get_current_usage():
    view = inventory.usage_view(db.session, g.api_user)
    return dump(os_.CurrentUsage(taken_at=view.taken_at, departments=view.rows,
                                 capacity=view.capacity, services=view.services))


# -- SLA

@operation(bp, "/sla", "GET", "getSla", "Availability of each system for a month (the /sla page)", tag="sla",
           query=os_.MonthQuery, response=os_.SlaReport, errors=(400, 401))
def get_sla(query):
    year, month = _month(query)
    figures = sla.monthly_report(db.session, g.api_user, year, month)
    return dump(os_.SlaReport(year=year, month=month, target=current_app.config["SLA_TARGET_RATIO"], items=figures))


# -- statements (费用结算单)

def _statement_summary(s):
    return bs.StatementSummary.model_validate({
        "id": s.id, "department_id": s.department_id, "year": s.year, "month": s.month, "version": s.version,
        "state": s.state, "total": str(s.total), "gap_seconds": s.gap_seconds, "rated_at": s.rated_at})


def _statement(s):
    lines = [{"position": x.position, "system_id": x.system_id, "system_name": x.system_name,
              "resource_type": x.resource_type, "period_start": x.period_start, "period_end": x.period_end,
              "rate_id": x.rate_id, "unit_price": str(x.unit_price), "unit_seconds": x.unit_seconds,
              "quantity_hours": str(x.quantity_hours), "amount": str(x.amount)} for x in s.lines]
    return dump(bs.StatementDetail.model_validate({
        **dump(_statement_summary(s)), "content_hash": s.content_hash, "reviewed_by": s.reviewed_by,
        "reviewed_at": s.reviewed_at, "frozen_by": s.frozen_by, "frozen_at": s.frozen_at, "note": s.note,
        "intact": statements.verify(s) if s.state == statements.S.FROZEN else None, "lines": lines}))


@operation(bp, "/statements", "GET", "listStatements", "List the statements you may see", tag="billing",
           query=bs.StatementQuery, response=bs.StatementList, errors=(400, 401))
def list_statements(query):
    stmt = statements.statements_query(g.api_user, year=query.year, month=query.month, state=query.state,
                                       department_id=query.department_id)
    return _page(bs.StatementList, paginate(db.session, stmt, query.page, query.per_page), _statement_summary)


@operation(bp, "/statements/<int:statement_id>", "GET", "getStatement", "Read a statement with its lines",
           tag="billing", response=bs.StatementDetail, errors=REQUEST_ERRORS)
def get_statement(statement_id):
    return _statement(statements.get_statement(db.session, g.api_user, statement_id))


@operation(bp, "/statements/<int:statement_id>/transition", "POST", "transitionStatement",
           "Review, reopen or freeze a statement (bureau)", tag="billing", body=bs.StatementAction,
           response=bs.StatementDetail, errors=WRITE_ERRORS,
           description="A frozen statement cannot change (409); a move from a state it is no longer in is 409.")
def transition_statement(statement_id, body):
    _require(statements.REVIEWERS)
    statement = statements.act(db.session, _ctx(), statement_id, body.action)
    db.session.commit()
    return _statement(statement)


# -- monthly reports (月度汇总报备)

def _report_summary(r):
    return bs.ReportSummary.model_validate(r)


@operation(bp, "/reports", "GET", "listReports", "List the monthly reports", tag="billing",
           query=bs.ReportQuery, response=bs.ReportList, errors=(400, 401))
def list_reports(query):
    stmt = reports.reports_query(year=query.year, month=query.month)
    return _page(bs.ReportList, paginate(db.session, stmt, query.page, query.per_page), _report_summary)


@operation(bp, "/reports/<int:report_id>", "GET", "getReport",
           "Read a monthly report (departments: their own figures)", tag="billing", response=bs.ReportDetail,
           errors=REQUEST_ERRORS)
def get_report(report_id):
    report, entries = reports.get_report(db.session, g.api_user, report_id)
    return dump(bs.ReportDetail.model_validate({
        **dump(_report_summary(report)), "totals": reports.totals_row(entries),
        "entries": [{"department_id": e.department_id, "figures": e.figures} for e in entries]}))


def _export(report_id, fmt):
    report, entries = reports.get_report(db.session, g.api_user, report_id)
    body, mimetype, filename = reports.export(report, entries, fmt)
    mark_download("monthly_report", report.id)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


@operation(bp, "/reports/<int:report_id>/export.csv", "GET", "exportReportCsv",
           "Download a monthly report as CSV (UTF-8 with BOM)", tag="billing", errors=REQUEST_ERRORS,
           binary="text/csv")
def export_report_csv(report_id):
    return _export(report_id, "csv")


@operation(bp, "/reports/<int:report_id>/export.xlsx", "GET", "exportReportXlsx",
           "Download a monthly report as an Excel workbook", tag="billing", errors=REQUEST_ERRORS,
           binary="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def export_report_xlsx(report_id):
    return _export(report_id, "xlsx")


# -- the live inventory (issue 18)

def _item(item, user):
    out = os_.InventoryItemOut.model_validate(item)
    if user.role not in (Role.VENDOR, Role.ADMIN):
        out.host = None
    return out


@operation(bp, "/inventory", "GET", "listInventory",
           "List the cloud objects you may see as last synchronised (no call to the cloud)", tag="resources",
           query=os_.InventoryQuery, response=os_.InventoryList, errors=(400, 401))
def list_inventory(query):
    q = live_inventory.Query(**query.model_dump(exclude={"page", "per_page"}))
    page = live_inventory.list_items(db.session, g.api_user, q, page=query.page, per_page=query.per_page)
    return dump(os_.InventoryList(items=[_item(i, g.api_user) for i in page.items], page=page.page,
                                  pages=page.pages, total=page.total,
                                  updated_at=live_inventory.freshness(db.session)))


@operation(bp, "/inventory/<int:item_id>", "GET", "getInventoryItem", "Read one cloud object of the inventory",
           tag="resources", response=os_.InventoryItemOut, errors=REQUEST_ERRORS)
def get_inventory_item(item_id):
    return dump(_item(live_inventory.get_item(db.session, g.api_user, item_id), g.api_user))


@operation(bp, "/inventory/<int:item_id>/actions", "POST", "actOnServer",
           "Start, stop or reboot a server of your department (the vendor: during a live grant)",
           tag="resources", body=os_.ServerAction, response=os_.InventoryItemOut, errors=WRITE_ERRORS + (429, 503))
def act_on_server(item_id, body):
    _require((Role.DEPARTMENT, Role.VENDOR))
    cloud = current_app.extensions["govcloud_runtime"].cloud()
    item = live_inventory.server_action(db.session, _ctx(), current_app.config, cloud, item_id, body.action)
    return dump(_item(item, g.api_user))


# -- incidents (故障事件)

def _incident_summary(i):
    return os_.IncidentSummary.model_validate(i)


def _incident(i):
    return dump(os_.IncidentDetail.model_validate(i))


@operation(bp, "/incidents", "GET", "listIncidents", "List the incidents you may see, newest first",
           tag="incidents", query=os_.IncidentQuery, response=os_.IncidentList, errors=(400, 401))
def list_incidents(query):
    page = incidents.list_incidents(db.session, g.api_user, state=query.state, page=query.page,
                                    per_page=query.per_page)
    return _page(os_.IncidentList, page, _incident_summary)


@operation(bp, "/incidents/<int:incident_id>", "GET", "getIncident", "Read an incident with its timeline",
           tag="incidents", response=os_.IncidentDetail, errors=REQUEST_ERRORS)
def get_incident(incident_id):
    return _incident(incidents.get_incident(db.session, g.api_user, incident_id))


@operation(bp, "/incidents/<int:incident_id>/acknowledge", "POST", "acknowledgeIncident",
           "Acknowledge an open incident (vendor)", tag="incidents", body=os_.IncidentAcknowledge,
           response=os_.IncidentDetail, errors=WRITE_ERRORS)
def acknowledge_incident(incident_id, body):
    _require(incidents.HANDLERS)
    return _incident(incidents.acknowledge_incident(db.session, _ctx(), incident_id, body.note))


@operation(bp, "/incidents/<int:incident_id>/root-cause", "POST", "setIncidentRootCause",
           "Record the root cause of an incident (vendor)", tag="incidents", body=os_.IncidentRootCause,
           response=os_.IncidentDetail, errors=WRITE_ERRORS)
def set_incident_root_cause(incident_id, body):
    _require(incidents.HANDLERS)
    return _incident(incidents.set_root_cause(db.session, _ctx(), incident_id, body.root_cause))


# -- maintenance windows (维护窗口)

def _window(w):
    return os_.WindowOut.model_validate({
        "id": w.id, "kind": w.kind, "state": w.state, "title": w.title, "reason": w.reason, "impact": w.impact,
        "systems": w.systems, "department_ids": [d.id for d in w.departments], "starts_at": w.starts_at,
        "ends_at": w.ends_at, "applied_at": w.applied_at, "decided_at": w.decided_at,
        "decision_note": w.decision_note})


@operation(bp, "/maintenance-windows", "GET", "listMaintenanceWindows",
           "List the maintenance windows you may see (departments: those affecting them)", tag="maintenance",
           query=os_.WindowQuery, response=os_.WindowList, errors=(400, 401))
def list_windows(query):
    page = maintenance.list_windows(db.session, g.api_user, state=query.state, page=query.page,
                                    per_page=query.per_page)
    return _page(os_.WindowList, page, _window)


@operation(bp, "/maintenance-windows/<int:window_id>", "GET", "getMaintenanceWindow",
           "Read a maintenance window", tag="maintenance", response=os_.WindowOut, errors=REQUEST_ERRORS)
def get_window(window_id):
    return dump(_window(maintenance.get_window(db.session, g.api_user, window_id)))


@operation(bp, "/maintenance-windows", "POST", "createMaintenanceWindow",
           "Apply for a maintenance window (vendor)", tag="maintenance", body=os_.WindowCreate,
           response=os_.WindowOut, status=201, errors=WRITE_ERRORS, idempotent=True)
def create_window(body):
    _require(maintenance.APPLICANTS)
    window = maintenance.apply_window(db.session, _ctx(), body.model_dump())
    return dump(_window(window)), 201


@operation(bp, "/maintenance-windows/<int:window_id>/decision", "POST", "decideMaintenanceWindow",
           "Approve or reject (bureau), or cancel (vendor, bureau) a maintenance window", tag="maintenance",
           body=os_.WindowDecision, response=os_.WindowOut, errors=WRITE_ERRORS)
def decide_window(window_id, body):
    _require(maintenance.DECIDERS)
    ctx, settings = _ctx(), current_app.config
    if body.decision == "approve":
        window = maintenance.approve_window(db.session, ctx, window_id, settings, body.note)
    elif body.decision == "reject":
        window = maintenance.reject_window(db.session, ctx, window_id, body.note)
    else:
        window = maintenance.cancel_window(db.session, ctx, window_id, settings, body.note)
    return dump(_window(window))
