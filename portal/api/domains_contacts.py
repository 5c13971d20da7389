"""API of contacts kept current and confidentiality agreements (issue 20: 第十七条, 第二十六条).

The same roles as the pages (portal/contacts/views.py) and the same services: another department's
answers 404, phones and e-mails are masked for whoever may not see them, every change is audited.
"""
import base64
import binascii
import io

from flask import current_app, g

from ..errors import ValidationFailed
from ..extensions import db
from ..requests.views import upload_dir
from ..models.accounts import BUSINESS_VIEWERS, Department, Role
from ..schemas import contacts as schemas
from ..services import contacts as svc, departments
from .common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, allow, bp, ctx
from ..text import _l
from .routing import dump, operation

ALL_ROLES = BUSINESS_VIEWERS
EDITORS = (Role.DEPARTMENT, Role.BUREAU, Role.ADMIN)
TAG = "contacts"


def _contacts_out(department):
    user = g.api_user
    today = svc.as_of()
    clear = svc.sees_clear(svc.clear_department_ids(db.session, user), department.id)
    due = svc.confirmation_due(department, svc.DutySettings.from_config(current_app.config), today)
    people = [schemas.PersonOut(id=p.id, role=p.role, system_id=p.system_id, system_name=p.system_name, name=p.name,
                                title=p.title, phone=p.phone or "", email=p.email or "")
              for p in svc.department_people(db.session, department, clear)]
    systems = [schemas.SystemDutyOut(
        system_id=s.system.id, system_name=s.system.system_name, security_level=s.level, important=s.important,
        marked_important=s.marked is not None, has_valid_agreement=s.valid is not None,
        agreements=[schemas.AgreementOut(id=a.id, system_id=a.system_id, parties=a.parties, signed_on=a.signed_on,
                                         expires_on=a.expires_on, filename=a.filename, sha256=a.sha256,
                                         valid=svc.agreement_valid(a, today)) for a in s.agreements])
        for s in svc.system_duties(db.session, department.id, today)]
    return dump(schemas.DepartmentContactsOut(
        department_id=department.id, code=department.code, name=department.name, clear=clear,
        confirmed_at=department.contacts_confirmed_at, confirmed_by=department.contacts_confirmed_by,
        confirmation_due_on=due.due_on, confirmation_overdue=due.overdue, people=people, systems=systems))


@operation(bp, "/contacts/departments/<int:department_id>", "GET", "getDepartmentContacts",
           "Read a department's contacts, systems and confidentiality agreements", tag=TAG,
           response=schemas.DepartmentContactsOut, errors=READ_ERRORS,
           description="Phones and e-mails are masked unless the caller may see them: the bureau, the "
                       "department itself, the vendor while the department has an incident not yet resolved "
                       "or gave it a live access grant.")
def get_department_contacts(department_id):
    allow(*ALL_ROLES)
    return _contacts_out(departments.get_department(db.session, g.api_user, department_id))


@operation(bp, "/contacts/departments/<int:department_id>", "PATCH", "updateDepartmentContacts",
           "Change a department's own contacts (only the fields given); the bureau and the vendor are told",
           tag=TAG, body=schemas.ContactsPatch, response=schemas.DepartmentContactsOut, errors=WRITE_ERRORS)
def update_department_contacts(department_id, body):
    allow(*EDITORS)
    given = {k: v for k, v in body.model_dump(exclude_unset=True).items() if k in Department.CONTACT_FIELDS}
    department = departments.update_contacts(db.session, ctx(), department_id, given,
                                             svc.change_notifier(current_app.config))
    return _contacts_out(department)


@operation(bp, "/contacts/departments/<int:department_id>/confirmation", "POST", "confirmDepartmentContacts",
           "The department confirms its contacts are still correct", tag=TAG,
           response=schemas.DepartmentContactsOut, errors=WRITE_ERRORS)
def confirm_department_contacts(department_id):
    allow(Role.DEPARTMENT)
    return _contacts_out(svc.confirm(db.session, ctx(), department_id))


@operation(bp, "/contacts/departments/<int:department_id>/people", "POST", "addContactPerson",
           "Add IT staff, or a system's owner or contact", tag=TAG, body=schemas.PersonCreate,
           response=schemas.DepartmentContactsOut, status=201, errors=WRITE_ERRORS)
def add_contact_person(department_id, body):
    allow(*EDITORS)
    svc.add_person(db.session, ctx(), current_app.config, department_id, body.model_dump())
    return _contacts_out(departments.get_department(db.session, g.api_user, department_id)), 201


@operation(bp, "/contacts/departments/<int:department_id>/people/<int:person_id>/removal", "POST",
           "removeContactPerson", "Remove a staff member or a system's contact", tag=TAG,
           response=schemas.DepartmentContactsOut, errors=WRITE_ERRORS)
def remove_contact_person(department_id, person_id):
    allow(*EDITORS)
    svc.remove_person(db.session, ctx(), current_app.config, department_id, person_id)
    return _contacts_out(departments.get_department(db.session, g.api_user, department_id))


@operation(bp, "/contacts/departments/<int:department_id>/systems/<int:system_id>/important", "POST",
           "markSystemImportant", "Mark a system important (or not) whatever its security level", tag=TAG,
           body=schemas.ImportantMark, response=schemas.DepartmentContactsOut, errors=WRITE_ERRORS)
def mark_system_important(department_id, system_id, body):
    allow(*EDITORS)
    svc.mark_important(db.session, ctx(), department_id, system_id, body.important, body.reason)
    return _contacts_out(departments.get_department(db.session, g.api_user, department_id))


@operation(bp, "/contacts/departments/<int:department_id>/agreements", "POST", "recordAgreement",
           "Record a system's signed confidentiality agreement with its document (base64; the page takes "
           "documents up to 10 MB)", tag=TAG, body=schemas.AgreementCreate, response=schemas.DepartmentContactsOut,
           status=201, errors=WRITE_ERRORS)
def record_agreement(department_id, body):
    allow(*EDITORS)
    try:
        content = base64.b64decode(body.document_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(_l("The document is not valid base64."), field="document_base64") from None
    data = body.model_dump(include={"system_id", "parties", "signed_on", "expires_on"})
    svc.add_agreement(db.session, ctx(), current_app.config, department_id, data, body.filename,
                      io.BytesIO(content), upload_dir())
    return _contacts_out(departments.get_department(db.session, g.api_user, department_id)), 201


@operation(bp, "/contacts/overdue", "GET", "listOverdueConfirmations",
           "The departments (you may see) whose contacts confirmation is overdue", tag=TAG,
           response=schemas.OverdueList, errors=LIST_ERRORS)
def list_overdue_confirmations():
    allow(*ALL_ROLES)
    rows = svc.overview(db.session, g.api_user, svc.DutySettings.from_config(current_app.config), svc.as_of())
    return dump(schemas.OverdueList(items=[
        schemas.OverdueOut(department_id=r.department.id, code=r.department.code, name=r.department.name,
                           due_on=r.due.due_on, days_overdue=-r.due.days_left) for r in rows if r.due.overdue]))


@operation(bp, "/agreements/missing", "GET", "listMissingAgreements",
           "Important systems (you may see) without a valid confidentiality agreement", tag=TAG,
           response=schemas.MissingList, errors=LIST_ERRORS)
def list_missing_agreements():
    allow(*ALL_ROLES)
    return dump(schemas.MissingList(items=[
        schemas.MissingOut(department_id=d.id, department_name=d.name, system_id=s.system.id,
                           system_name=s.system.system_name, security_level=s.level,
                           marked_important=s.marked is not None,
                           latest_expires_on=s.agreements[0].expires_on if s.agreements else None)
        for d, s in svc.missing_agreements(db.session, g.api_user, svc.as_of())]))
