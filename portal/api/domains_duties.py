"""API of the platform's duties (issue 20): emergency plans and drills (第二十三条), rectification
notices (第二十条), key changes (第二十一条). The same services, scoping and role checks as the
pages (portal/duties): a department sees its own (another department's answer 404), the bureau,
vendor, auditor and admin see all; writes are the services' row-locked, audited transitions (two at
once: one succeeds, the other gets 409); a refused input changes nothing (422).
"""
from flask import current_app, g

from ..extensions import db
from ..models.accounts import BUSINESS_VIEWERS, Role
from ..schemas import duties as ds
from ..services import drills, rectifications as rect
from .common import LIST_ERRORS, REQUEST_ERRORS, WRITE_ERRORS, allow, bp
from .common import ctx as _ctx
from .routing import dump, operation

READERS = BUSINESS_VIEWERS
WRITERS = (Role.DEPARTMENT, Role.VENDOR, Role.BUREAU)


def _cloud():
    return current_app.extensions["govcloud_runtime"].cloud()


def _page(model, page, item):
    return dump(model(items=[item(x) for x in page.items], page=page.page, pages=page.pages, total=page.total))


# -- emergency plans

def _plan(plan):
    return ds.PlanOut.model_validate(plan)


@operation(bp, "/emergency-plans", "GET", "listEmergencyPlans",
           "List the emergency plans you may see (departments: their own and the platform's)", tag="duties",
           query=ds.Page, response=ds.PlanList, errors=LIST_ERRORS)
def list_plans(query):
    allow(*READERS)
    return _page(ds.PlanList, drills.list_plans(db.session, g.api_user, page=query.page, per_page=query.per_page),
                 _plan)


@operation(bp, "/emergency-plans/<int:plan_id>", "GET", "getEmergencyPlan", "Read an emergency plan and its versions",
           tag="duties", response=ds.PlanOut, errors=REQUEST_ERRORS)
def get_plan(plan_id):
    allow(*READERS)
    return dump(_plan(drills.get_plan(db.session, g.api_user, plan_id)))


@operation(bp, "/emergency-plans", "POST", "createEmergencyPlan",
           "Draw up a plan (department: for one of its systems; vendor: the platform's) with its first version",
           tag="duties", body=ds.PlanCreate, response=ds.PlanOut, status=201, errors=WRITE_ERRORS, idempotent=True)
def create_plan(body):
    allow(Role.DEPARTMENT, Role.VENDOR)
    return dump(_plan(drills.create_plan(db.session, _ctx(), body.model_dump()))), 201


@operation(bp, "/emergency-plans/<int:plan_id>/versions/<int:version_id>", "PATCH", "editEmergencyPlanVersion",
           "Change a draft or returned version (the plan's owner)", tag="duties", body=ds.PlanContent,
           response=ds.PlanOut, errors=WRITE_ERRORS)
def edit_version(plan_id, version_id, body):
    allow(Role.DEPARTMENT, Role.VENDOR)
    drills.edit_version(db.session, _ctx(), plan_id, version_id, body.model_dump())
    return dump(_plan(drills.get_plan(db.session, g.api_user, plan_id)))


@operation(bp, "/emergency-plans/<int:plan_id>/versions", "POST", "reviseEmergencyPlan",
           "Start the next version from the latest (the plan's owner)", tag="duties", response=ds.PlanOut,
           status=201, errors=WRITE_ERRORS)
def new_version(plan_id):
    allow(Role.DEPARTMENT, Role.VENDOR)
    drills.new_version(db.session, _ctx(), plan_id)
    return dump(_plan(drills.get_plan(db.session, g.api_user, plan_id))), 201


@operation(bp, "/emergency-plans/<int:plan_id>/versions/<int:version_id>/submit", "POST",
           "submitEmergencyPlanVersion", "Submit a version for the bureau's approval (the plan's owner)",
           tag="duties", response=ds.PlanOut, errors=WRITE_ERRORS)
def submit_version(plan_id, version_id):
    allow(Role.DEPARTMENT, Role.VENDOR)
    drills.submit_version(db.session, _ctx(), plan_id, version_id, current_app.config)
    return dump(_plan(drills.get_plan(db.session, g.api_user, plan_id)))


@operation(bp, "/emergency-plans/<int:plan_id>/versions/<int:version_id>/decision", "POST",
           "decideEmergencyPlanVersion", "Approve or return a submitted version (bureau)", tag="duties",
           body=ds.PlanDecision, response=ds.PlanOut, errors=WRITE_ERRORS)
def decide_version(plan_id, version_id, body):
    allow(Role.BUREAU)
    drills.decide_version(db.session, _ctx(), plan_id, version_id, body.decision, body.note, current_app.config)
    return dump(_plan(drills.get_plan(db.session, g.api_user, plan_id)))


# -- drills

def _drill(drill):
    return ds.DrillOut.model_validate(drill)


@operation(bp, "/drills", "GET", "listDrills", "List the drills you may see (a year of the calendar, a plan's)",
           tag="duties", query=ds.DrillQuery, response=ds.DrillList, errors=LIST_ERRORS)
def list_drills(query):
    allow(*READERS)
    items = drills.list_drills(db.session, g.api_user, year=query.year, plan_id=query.plan_id)
    return dump(ds.DrillList(items=[_drill(d) for d in items]))


@operation(bp, "/drills/<int:drill_id>", "GET", "getDrill", "Read a drill: its timeline, restore and follow-ups",
           tag="duties", response=ds.DrillOut, errors=REQUEST_ERRORS)
def get_drill(drill_id):
    allow(*READERS)
    return dump(_drill(drills.get_drill(db.session, g.api_user, drill_id)))


@operation(bp, "/drills", "POST", "scheduleDrill", "Schedule a drill of a plan (its owner, or the bureau)",
           tag="duties", body=ds.DrillCreate, response=ds.DrillOut, status=201, errors=WRITE_ERRORS,
           idempotent=True)
def schedule_drill(body):
    allow(*WRITERS)
    return dump(_drill(drills.schedule_drill(db.session, _ctx(), body.model_dump(), current_app.config))), 201


@operation(bp, "/drills/<int:drill_id>/action", "POST", "actOnDrill",
           "Start (the owner), cancel (the owner or the bureau, with the reason) or close a drill", tag="duties",
           body=ds.DrillAction, response=ds.DrillOut, errors=WRITE_ERRORS)
def act_on_drill(drill_id, body):
    allow(*WRITERS)
    if body.action == "start":
        drill = drills.start_drill(db.session, _ctx(), drill_id, body.participants)
    elif body.action == "cancel":
        drill = drills.cancel_drill(db.session, _ctx(), drill_id, body.note, current_app.config)
    else:
        drill = drills.close_drill(db.session, _ctx(), drill_id)
    return dump(_drill(drill))


@operation(bp, "/drills/<int:drill_id>/steps", "POST", "recordDrillStep", "Record a step of a running drill",
           tag="duties", body=ds.StepCreate, response=ds.DrillOut, status=201, errors=WRITE_ERRORS)
def record_step(drill_id, body):
    allow(Role.DEPARTMENT, Role.VENDOR)
    drills.add_step(db.session, _ctx(), drill_id, body.model_dump())
    return dump(_drill(drills.get_drill(db.session, g.api_user, drill_id))), 201


@operation(bp, "/drills/<int:drill_id>/restore", "POST", "restoreInDrill",
           "Restore a real backup of the department in a running drill (the backup engine; recorded against "
           "the plan's RTO and RPO when it ends)", tag="duties", body=ds.DrillRestore, response=ds.DrillOut,
           status=201, errors=WRITE_ERRORS)
def restore_in_drill(drill_id, body):
    allow(Role.DEPARTMENT, Role.VENDOR)
    drill, _job = drills.start_restore(db.session, _ctx(), _cloud(), drill_id, body.artifact_id, body.mode,
                                       target_name=body.target_name, settings=current_app.config)
    return dump(_drill(drill)), 201


@operation(bp, "/drills/<int:drill_id>/finish", "POST", "finishDrill",
           "End a running drill: participants, result, summary, problems found", tag="duties",
           body=ds.DrillFinish, response=ds.DrillOut, errors=WRITE_ERRORS)
def finish_drill(drill_id, body):
    allow(Role.DEPARTMENT, Role.VENDOR)
    return dump(_drill(drills.finish_drill(db.session, _ctx(), drill_id, body.model_dump(), current_app.config)))


@operation(bp, "/drills/<int:drill_id>/follow-ups", "POST", "addDrillFollowUp",
           "Record a follow-up action of a drill (its owner or the bureau)", tag="duties", body=ds.FollowUpCreate,
           response=ds.DrillOut, status=201, errors=WRITE_ERRORS)
def add_follow_up(drill_id, body):
    allow(*WRITERS)
    drills.add_follow_up(db.session, _ctx(), drill_id, body.model_dump())
    return dump(_drill(drills.get_drill(db.session, g.api_user, drill_id))), 201


@operation(bp, "/drills/<int:drill_id>/follow-ups/<int:follow_up_id>/close", "POST", "closeDrillFollowUp",
           "Close a follow-up action with what was done (the owner); the last one closes the drill", tag="duties",
           body=ds.FollowUpClose, response=ds.DrillOut, errors=WRITE_ERRORS)
def close_follow_up(drill_id, follow_up_id, body):
    allow(Role.DEPARTMENT, Role.VENDOR)
    drills.close_follow_up(db.session, _ctx(), drill_id, follow_up_id, body.note, current_app.config)
    return dump(_drill(drills.get_drill(db.session, g.api_user, drill_id)))


# -- rectification notices

def _rect(r):
    return ds.RectificationOut.model_validate(r)


@operation(bp, "/rectifications", "GET", "listRectifications",
           "List the rectification notices you may see (the vendor: those to it; departments: their own)",
           tag="duties", query=ds.RectificationQuery, response=ds.RectificationList, errors=LIST_ERRORS)
def list_rectifications(query):
    allow(*READERS)
    page = rect.list_rectifications(db.session, g.api_user, state=query.state, page=query.page,
                                    per_page=query.per_page)
    return _page(ds.RectificationList, page, _rect)


@operation(bp, "/rectifications/<int:rect_id>", "GET", "getRectification", "Read a rectification notice",
           tag="duties", response=ds.RectificationOut, errors=REQUEST_ERRORS)
def get_rectification(rect_id):
    allow(*READERS)
    return dump(_rect(rect.get_rectification(db.session, g.api_user, rect_id)))


@operation(bp, "/rectifications", "POST", "issueRectification",
           "Issue a rectification notice to the vendor or a department (bureau)", tag="duties",
           body=ds.RectificationCreate, response=ds.RectificationOut, status=201, errors=WRITE_ERRORS,
           idempotent=True)
def issue_rectification(body):
    allow(Role.BUREAU)
    return dump(_rect(rect.issue(db.session, _ctx(), body.model_dump(), current_app.config))), 201


@operation(bp, "/rectifications/<int:rect_id>/answer", "POST", "answerRectification",
           "Answer a notice with what was done (its receiver; the evidence is uploaded on the page)", tag="duties",
           body=ds.RectificationAnswerIn, response=ds.RectificationOut, errors=WRITE_ERRORS)
def answer_rectification(rect_id, body):
    allow(Role.DEPARTMENT, Role.VENDOR)
    return dump(_rect(rect.answer(db.session, _ctx(), rect_id, body.text, settings=current_app.config)))


@operation(bp, "/rectifications/<int:rect_id>/decision", "POST", "decideRectification",
           "Accept or return the answer, or withdraw the notice (bureau)", tag="duties",
           body=ds.RectificationDecision, response=ds.RectificationOut, errors=WRITE_ERRORS)
def decide_rectification(rect_id, body):
    allow(Role.BUREAU)
    if body.decision == "withdraw":
        return dump(_rect(rect.withdraw(db.session, _ctx(), rect_id, body.note, current_app.config)))
    return dump(_rect(rect.decide(db.session, _ctx(), rect_id, body.decision, body.note, current_app.config)))


# -- key changes

def _change(c):
    return ds.KeyChangeOut.model_validate(c)


@operation(bp, "/key-changes", "GET", "listKeyChanges", "List the key changes of the platform", tag="duties",
           query=ds.KeyChangeQuery, response=ds.KeyChangeList, errors=LIST_ERRORS)
def list_key_changes(query):
    allow(Role.BUREAU, Role.VENDOR, Role.AUDITOR, Role.ADMIN)
    page = rect.list_key_changes(db.session, g.api_user, state=query.state, page=query.page, per_page=query.per_page)
    return _page(ds.KeyChangeList, page, _change)


@operation(bp, "/key-changes/<int:change_id>", "GET", "getKeyChange", "Read a key change", tag="duties",
           response=ds.KeyChangeOut, errors=REQUEST_ERRORS)
def get_key_change(change_id):
    allow(Role.BUREAU, Role.VENDOR, Role.AUDITOR, Role.ADMIN)
    return dump(_change(rect.get_key_change(db.session, g.api_user, change_id)))


@operation(bp, "/key-changes", "POST", "applyKeyChange", "Apply for a key change of the platform (vendor)",
           tag="duties", body=ds.KeyChangeCreate, response=ds.KeyChangeOut, status=201, errors=WRITE_ERRORS,
           idempotent=True)
def apply_key_change(body):
    allow(Role.VENDOR)
    return dump(_change(rect.apply_key_change(db.session, _ctx(), body.model_dump(), current_app.config))), 201


@operation(bp, "/key-changes/<int:change_id>/decision", "POST", "decideKeyChange",
           "Approve or reject (bureau), cancel (vendor, bureau) or report carried out (vendor)", tag="duties",
           body=ds.KeyChangeDecision, response=ds.KeyChangeOut, errors=WRITE_ERRORS)
def decide_key_change(change_id, body):
    allow(Role.BUREAU, Role.VENDOR)
    return dump(_change(rect.decide_key_change(db.session, _ctx(), change_id, body.action, body.note,
                                               current_app.config)))
