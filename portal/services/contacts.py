"""Contacts kept current (第二十六条), security officers and confidentiality agreements (第十七条).

- A department's contacts: its own columns (security officer, IT lead, emergency contact and its
  backup, each with phone and e-mail) and contact_person rows (IT staff; each system's owner and
  contacts). Every change is audited (phones and e-mails masked) and notified to the bureau and
  the vendor; a change saved by the department counts as its confirmation.
- The department confirms every CONTACT_CONFIRM_MONTHS months that they are still correct; it is
  reminded CONTACT_REMIND_DAYS days before (each threshold once) and the bureau is told once the
  confirmation is overdue. Days are Beijing days; the due day is the last day in time.
- Important systems (security level 3 or more, or marked important) need a valid confidentiality
  agreement: signed, not expired, with its signed document. AGREEMENT_REMIND_DAYS before the expiry
  the department is reminded (each threshold once); the bureau is told when one has expired and
  lists the important systems without a valid agreement.
- Phones and e-mails are shown in clear only to whoever needs them: the bureau (and the system
  administrator who keeps the registry), the department itself, and the vendor while the department
  has an incident not yet resolved or gave it a live access grant (departments.contact_department_ids).
  Everyone else (the auditor, the vendor otherwise) sees them masked: pages, API and exports.
"""
import calendar as _calendar
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..crypto.masking import mask
from ..database import utcnow
from ..errors import Forbidden, NotFound, ValidationFailed
from ..models.accounts import Department, Role
from ..models.contacts import (PERSON_KIND_LABELS, PERSON_KINDS, ConfidentialityAgreement, ContactPerson,
                               DutyNotice, ImportantSystem)
from ..models.requests import ResourceRequest
from ..scoping import get_scoped, scoped
from ..text import _l
from ..workdays import CHINA
from ..workflow import EXECUTED, RequestKind
from .audit import record_event
from .departments import contact_department_ids
from .notifications import notify_department, notify_roles
from .system_retirement import retired_systems

CLEAR_ROLES = (Role.BUREAU, Role.ADMIN)       # always see phones and e-mails in clear
EDITORS = (Role.DEPARTMENT, Role.BUREAU, Role.ADMIN)  # the department its own, the bureau and admin any
PHONE_RE = re.compile(r"^[0-9+\-() ]{0,32}$")
EMAIL_RE = re.compile(r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
IMPORTANT_LEVEL = 3  # 等保三级 and above are important systems (第十七条)

# the department's own contact columns, as (role, name field, phone field, e-mail field)
ROLES = (
    ("security_officer", "security_officer_name", "security_officer_phone", "security_officer_email"),
    ("it_lead", "it_lead_name", "it_lead_phone", "it_lead_email"),
    ("emergency_primary", "emergency_contact_name", "emergency_contact_phone", "emergency_contact_email"),
    ("emergency_backup", "backup_contact_name", "backup_contact_phone", "backup_contact_email"),
)
ROLE_LABELS = {
    "security_officer": _l("Security officer"),
    "it_lead": _l("IT lead"),
    "emergency_primary": _l("Emergency contact (primary)"),
    "emergency_backup": _l("Emergency contact (backup)"),
}
ROLE_NAMES_ZH = {"security_officer": "安全管理负责人", "it_lead": "信息化负责人",
                 "emergency_primary": "紧急联系人（主）", "emergency_backup": "紧急联系人（备）",
                 "staff": "相关工作人员", "system_owner": "系统负责人", "system_contact": "系统联系人"}


# -- settings and days ----------------------------------------------------------------------------

def _days_list(value, default):
    text = str(value if value not in (None, "") else default)
    days = sorted({int(part) for part in text.replace(" ", "").split(",") if part}, reverse=True)
    if any(d < 0 for d in days):
        raise ValueError("reminder days must be 0 or more")
    return tuple(days)


@dataclass(frozen=True)
class DutySettings:
    """CONTACT_CONFIRM_MONTHS (6), CONTACT_REMIND_DAYS ("30,7"), AGREEMENT_REMIND_DAYS ("60,30,7")."""

    months: int = 6
    remind_days: tuple = (30, 7)
    agreement_days: tuple = (60, 30, 7)

    @classmethod
    def from_config(cls, config):
        return cls(months=int(config.get("CONTACT_CONFIRM_MONTHS") or 6),
                   remind_days=_days_list(config.get("CONTACT_REMIND_DAYS"), "30,7"),
                   agreement_days=_days_list(config.get("AGREEMENT_REMIND_DAYS"), "60,30,7"))


def beijing_day(moment):
    return moment.astimezone(CHINA).date()


def add_months(day, months):
    """day plus months calendar months (the 31st becomes the month's last day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


@dataclass
class Due:
    """When something is due (a Beijing day, the last day in time) and how it stands on today."""

    due_on: date
    today: date

    @property
    def days_left(self):
        return (self.due_on - self.today).days

    @property
    def overdue(self):
        return self.days_left < 0


def confirmation_due(department, duty, today):
    """The department's next confirmation: duty.months after the last one (or its registration)."""
    base = department.contacts_confirmed_at or department.created_at
    return Due(add_months(beijing_day(base), duty.months), today)


# -- who sees phones and e-mails ------------------------------------------------------------------

def clear_department_ids(session, user):
    """The departments whose phones and e-mails user may read in clear; None: every one."""
    if user.role in CLEAR_ROLES:
        return None
    if user.role == Role.DEPARTMENT:
        return {user.department_id}
    if user.role == Role.VENDOR:
        return contact_department_ids(session, user)
    return set()


def sees_clear(visible, department_id):
    return visible is None or department_id in visible


def shown(name, value, clear):
    """value as the viewer may see it: in clear, or masked (phones 138****5678, a***@example.cn)."""
    return value if clear or not value else mask(name, value)


@dataclass
class Person:
    role: str
    label: object
    name: str
    phone: str
    email: str
    title: str = ""
    system_id: int | None = None
    system_name: str = ""
    id: int | None = None


def department_people(session, department, clear):
    """Every contact of department (its own columns, then staff and system contacts) as Person rows,
    phones and e-mails masked unless clear."""
    people = []
    for role, name_f, phone_f, email_f in ROLES:
        people.append(Person(role, ROLE_LABELS[role], getattr(department, name_f) or "",
                             shown(phone_f, getattr(department, phone_f), clear),
                             shown(email_f, getattr(department, email_f), clear)))
    for p in persons_of(session, department.id):
        people.append(Person(p.kind, PERSON_KIND_LABELS[p.kind], p.name, shown("phone", p.phone, clear),
                             shown("email", p.email, clear), p.title, p.system_id,
                             p.system.system_name if p.system is not None else "", p.id))
    return people


def persons_of(session, department_id):
    return list(session.scalars(select(ContactPerson).where(ContactPerson.department_id == department_id)
                                .order_by(ContactPerson.system_id.is_not(None), ContactPerson.system_id,
                                          ContactPerson.kind, ContactPerson.id)))


# -- changes ------------------------------------------------------------------------------------

def _check_contact(phone, email, prefix=""):
    if phone and not PHONE_RE.match(phone):
        raise ValidationFailed(_l("Enter a telephone number (digits, +, -)."), field=f"{prefix}phone")
    if email and not EMAIL_RE.match(email):
        raise ValidationFailed(_l("Enter a valid e-mail address."), field=f"{prefix}email")


def _editable_department(session, user, department_id):
    department = get_scoped(session, Department, department_id, user, kind=_l("Department"))  # foreign: 404
    if user.role not in EDITORS:
        raise Forbidden()
    return department


def notify_change(session, settings, department, what):
    """Tell the bureau and the vendor that department's contacts changed (no phone or e-mail in the
    message: it may go out by e-mail)."""
    subject = f"[政务云] 联系人变更：{department.name}"
    body = (f"{department.name}（{department.code}）的联系人已变更：{what}。\n"
            "请在政务云门户“联系人与保密协议”页面查看。\n")
    return notify_roles(session, settings, (Role.BUREAU, Role.VENDOR), subject=subject, body=body,
                        topic=f"contacts:{department.id}", link=f"/contacts/departments/{department.id}",
                        department_id=department.id)


def changed_roles(before, after):
    """The names (Chinese) of the contact roles whose name, phone or e-mail changed."""
    return [ROLE_NAMES_ZH[role] for role, *fields_ in ROLES if any(before.get(f) != after.get(f) for f in fields_)]


def confirm(session, ctx, department_id, *, commit=True, now=None):
    """The department confirms its contacts are still correct (its own users only)."""
    user = ctx.actor
    department = _editable_department(session, user, department_id)
    if user.role != Role.DEPARTMENT:
        raise Forbidden()
    before = department.contacts_confirmed_at
    department.contacts_confirmed_at = now or utcnow()
    department.contacts_confirmed_by = user.username
    record_event(session, ctx, "department.contacts_confirm", object_type="department", object_id=department.id,
                 department_id=department.id,
                 before={"contacts_confirmed_at": before.isoformat() if before else None},
                 after={"contacts_confirmed_at": department.contacts_confirmed_at.isoformat()})
    if commit:
        session.commit()
    return department


def _system_of(session, user, department, system_id):
    system = session.get(ResourceRequest, system_id) if system_id else None
    if system is None or system.department_id != department.id or system.kind != RequestKind.NEW:
        raise ValidationFailed(_l("Choose a system of this department."), field="system_id")
    return system


def add_person(session, ctx, settings, department_id, data):
    """Add IT staff (no system) or a system's owner or contact; audited, notified, committed."""
    department = _editable_department(session, ctx.actor, department_id)
    kind = data.get("kind")
    if kind not in PERSON_KINDS:
        raise ValidationFailed(_l("Choose what the person is."), field="kind")
    name = (data.get("name") or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed(_l("This field is required."), field="name")
    title = (data.get("title") or "").strip()[:64]
    phone, email = (data.get("phone") or "").strip(), (data.get("email") or "").strip()
    if len(phone) > 32 or len(email) > 120:
        raise ValidationFailed(_l("The value is too long."), field="phone" if len(phone) > 32 else "email")
    _check_contact(phone, email)
    system_id = None
    if kind != "staff":
        system_id = _system_of(session, ctx.actor, department, data.get("system_id")).id
    person = ContactPerson(department_id=department.id, system_id=system_id, kind=kind, name=name, title=title,
                           phone=phone, email=email)
    session.add(person)
    session.flush()
    record_event(session, ctx, "contacts.person_add", object_type="contact_person", object_id=person.id,
                 department_id=department.id, after=person.snapshot())
    notify_change(session, settings, department, f"新增{ROLE_NAMES_ZH[kind]} {name}")
    _confirmed_by_change(session, ctx, department)
    session.commit()
    return person


def remove_person(session, ctx, settings, department_id, person_id):
    department = _editable_department(session, ctx.actor, department_id)
    person = session.get(ContactPerson, person_id)
    if person is None or person.department_id != department.id:
        raise NotFound(_l("Contact"), person_id)
    record_event(session, ctx, "contacts.person_remove", object_type="contact_person", object_id=person.id,
                 department_id=department.id, before=person.snapshot())
    notify_change(session, settings, department, f"删除{ROLE_NAMES_ZH[person.kind]} {person.name}")
    session.delete(person)
    _confirmed_by_change(session, ctx, department)
    session.commit()


def _confirmed_by_change(session, ctx, department):
    """A change the department saves itself confirms its contacts."""
    if ctx.actor.role == Role.DEPARTMENT:
        confirm(session, ctx, department.id, commit=False)


def change_notifier(settings):
    """The on_change of departments.update_contacts: tell the bureau and the vendor which contacts
    changed; a save by the department itself confirms its contacts."""
    def on_change(session, ctx, department, before, after):
        what = changed_roles(before, after)
        if what:
            notify_change(session, settings, department, "、".join(what))
        _confirmed_by_change(session, ctx, department)
    return on_change


# -- important systems and agreements -----------------------------------------------------------

def _level(requests):
    """The security level a system has now: its last carried-out request's (else its first's)."""
    done = [r for r in requests if r.state in EXECUTED]
    return (done[-1] if done else requests[0]).security_level


def _live_systems(session, department_ids):
    """department id -> [(first request, its requests oldest first)] of the systems not decommissioned,
    in one query for all the departments."""
    from .resource_requests import status_of
    groups = {}
    for r in session.scalars(select(ResourceRequest).where(ResourceRequest.department_id.in_(department_ids))
                             .order_by(ResourceRequest.id)):
        groups.setdefault(r.system_root_id, []).append(r)
    out = {d: [] for d in department_ids}
    for requests in groups.values():
        root = requests[0]
        if root.kind != RequestKind.NEW:  # a change whose system is another department's: not this one's
            continue
        status = status_of(requests)
        if status == "live" or (status == "pending" and root.state in EXECUTED):
            out[root.department_id].append((root, requests))
    return out


@dataclass
class SystemDuty:
    system: object
    level: int
    marked: object  # ImportantSystem or None
    agreements: list = field(default_factory=list)
    valid: object = None  # the valid agreement, if any

    @property
    def important(self):
        return self.level >= IMPORTANT_LEVEL or self.marked is not None


def agreement_valid(agreement, today):
    return bool(agreement.stored_name) and agreement.signed_on <= today <= agreement.expires_on


def system_duties(session, department_id, today):
    return duties_by_department(session, [department_id], today)[department_id]


def duties_by_department(session, department_ids, today):
    """department id -> [SystemDuty] of its systems not decommissioned: a fixed number of queries
    however many departments (the bureau's overview lists 200)."""
    systems = _live_systems(session, department_ids)
    ids = [root.id for found in systems.values() for root, _ in found]
    marks = {m.system_id: m for m in session.scalars(select(ImportantSystem).where(ImportantSystem.system_id.in_(ids)))}
    agreements = {}
    for a in session.scalars(select(ConfidentialityAgreement).where(ConfidentialityAgreement.system_id.in_(ids))
                             .order_by(ConfidentialityAgreement.expires_on.desc(), ConfidentialityAgreement.id)):
        agreements.setdefault(a.system_id, []).append(a)
    out = {}
    for department_id, found in systems.items():
        out[department_id] = []
        for root, requests in found:
            mine = agreements.get(root.id, [])
            out[department_id].append(SystemDuty(root, _level(requests), marks.get(root.id), mine,
                                                 next((a for a in mine if agreement_valid(a, today)), None)))
    return out


def missing_agreements(session, user, today):
    """The important systems (of the departments user may see) without a valid agreement."""
    departments = list(session.scalars(scoped(select(Department), user).order_by(Department.code)))
    duties = duties_by_department(session, [d.id for d in departments], today)
    return [(d, duty) for d in departments for duty in duties[d.id] if duty.important and duty.valid is None]


def mark_important(session, ctx, department_id, system_id, important, reason=""):
    """Mark a system important whatever its level (the department or the bureau); only the bureau
    (and the system administrator) lifts a mark."""
    department = _editable_department(session, ctx.actor, department_id)
    if not important and ctx.actor.role not in CLEAR_ROLES:
        raise Forbidden()  # only the bureau lifts a mark: a department cannot shed an agreement it needs
    system = _system_of(session, ctx.actor, department, system_id)
    row = session.scalar(select(ImportantSystem).where(ImportantSystem.system_id == system.id))
    if important and row is None:
        row = ImportantSystem(system_id=system.id, department_id=department.id, reason=reason[:2000],
                              marked_by=ctx.actor.username)
        session.add(row)
    elif not important and row is not None:
        session.delete(row)
    else:
        return row
    record_event(session, ctx, "contacts.system_important", object_type="resource_request", object_id=system.id,
                 department_id=department.id, before={"important": not important},
                 after={"important": important, "reason": reason[:2000]})
    session.commit()
    return row


def add_agreement(session, ctx, settings, department_id, data, filename, stream, upload_dir):
    """Record a confidentiality agreement of a system with its signed document (PDF, Word, Excel);
    the department its own, the bureau any. Audited, the bureau told, committed."""
    from .resource_requests import save_document
    department = _editable_department(session, ctx.actor, department_id)
    system = _system_of(session, ctx.actor, department, data.get("system_id"))
    parties = (data.get("parties") or "").strip()
    if not parties or len(parties) > 500:
        raise ValidationFailed(_l("Name the parties (at most 500 characters)."), field="parties")
    signed_on, expires_on = data.get("signed_on"), data.get("expires_on")
    if not isinstance(signed_on, date) or not isinstance(expires_on, date):
        raise ValidationFailed(_l("Enter the date signed and the expiry date."), field="signed_on")
    if expires_on <= signed_on:
        raise ValidationFailed(_l("The agreement must expire after it was signed."), field="expires_on")
    if stream is None:
        raise ValidationFailed(_l("Upload the signed agreement."), field="document")
    saved = save_document(filename or "agreement", stream, upload_dir)
    agreement = ConfidentialityAgreement(department_id=department.id, system_id=system.id, parties=parties,
                                         signed_on=signed_on, expires_on=expires_on, filename=saved.name,
                                         stored_name=saved.stored_name, content_type=saved.content_type,
                                         size=saved.size, sha256=saved.sha256, created_by=ctx.actor.username)
    session.add(agreement)
    session.flush()
    record_event(session, ctx, "contacts.agreement_add", object_type="confidentiality_agreement",
                 object_id=agreement.id, department_id=department.id, after=agreement.snapshot())
    notify_roles(session, settings, (Role.BUREAU,), subject=f"[政务云] 保密协议登记：{department.name}",
                 body=(f"{department.name} 的系统“{system.system_name}”登记了保密协议，"
                       f"有效期 {signed_on.isoformat()} 至 {expires_on.isoformat()}。\n"),
                 topic=f"agreement:{agreement.id}", link=f"/contacts/departments/{department.id}",
                 department_id=department.id)
    session.commit()
    return agreement


def get_agreement(session, user, agreement_id):
    agreement = get_scoped(session, ConfidentialityAgreement, agreement_id, user, kind=_l("Agreement"))
    return agreement


# -- overview, reminders and the overdue list ---------------------------------------------------

@dataclass
class DepartmentDuty:
    department: object
    due: Due
    missing: int  # important systems without a valid agreement


def overview(session, user, duty, today):
    """Every department user may see with its confirmation's due day and missing agreements."""
    departments = list(session.scalars(scoped(select(Department), user).order_by(Department.code)))
    duties = duties_by_department(session, [d.id for d in departments], today)
    return [DepartmentDuty(d, confirmation_due(d, duty, today),
                           sum(1 for s in duties[d.id] if s.important and s.valid is None))
            for d in departments]


def _threshold(days_left, thresholds):
    """The tightest reminder threshold reached (days before the due day), or None."""
    reached = [t for t in thresholds if 0 <= days_left <= t]
    return min(reached) if reached else None


def _once(session, kind, object_id, due_on, threshold, department_id, now, send):
    """Record a notice and send it, unless it was sent already (the unique key decides)."""
    exists = session.scalar(select(DutyNotice.id).where(
        DutyNotice.kind == kind, DutyNotice.object_id == object_id, DutyNotice.due_on == due_on,
        DutyNotice.threshold == threshold))
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            notice = DutyNotice(kind=kind, object_id=object_id, due_on=due_on, threshold=threshold,
                                department_id=department_id, sent_at=now)
            session.add(notice)
            session.flush()
            notice.recipients = len(send())
    except IntegrityError:
        return False
    return True


def _tell_department_and_bureau(session, settings, department_id, subject, body, topic, link):
    """Notify the department's users and the bureau alike; return how many notifications were queued."""
    return (notify_department(session, settings, department_id, subject=subject, body=body, topic=topic, link=link)
            + notify_roles(session, settings, (Role.BUREAU,), subject=subject, body=body, topic=topic, link=link,
                           department_id=department_id))


def send_notices(session, settings, now, duty=None):
    """The reminders and overdue notices due at now, each once. Commits; returns the counts
    {confirm_remind, confirm_overdue, agreement_remind, agreement_expired}."""
    duty = duty or DutySettings.from_config(settings)
    today = beijing_day(now)
    counts = dict.fromkeys(("confirm_remind", "confirm_overdue", "agreement_remind", "agreement_expired"), 0)
    for department in session.scalars(select(Department).order_by(Department.id)):
        due = confirmation_due(department, duty, today)
        day = due.due_on.isoformat()
        link = f"/contacts/departments/{department.id}"
        if due.overdue:
            def send(d=department, day=day, link=link):
                subject = f"[政务云] 联系人确认已逾期：{d.name}"
                body = f"{d.name} 的联系人确认已于 {day} 到期，尚未确认。\n"
                return _tell_department_and_bureau(session, settings, d.id, subject, body,
                                                   f"contacts-confirm:{d.id}", link)
            counts["confirm_overdue"] += _once(session, "confirm_overdue", department.id, due.due_on, 0,
                                               department.id, now, send)
            continue
        threshold = _threshold(due.days_left, duty.remind_days)
        if threshold is not None:
            def send(d=department, day=day, left=due.days_left, link=link):
                return notify_department(
                    session, settings, d.id, subject="[政务云] 请确认联系人信息",
                    body=(f"请于 {day}（北京时间当日 24:00）前在政务云门户确认本单位的信息化负责人、"
                          f"相关工作人员和紧急联系人仍然正确（剩余 {left} 天）。\n"),
                    topic=f"contacts-confirm:{d.id}", link=link)
            counts["confirm_remind"] += _once(session, "confirm_remind", department.id, due.due_on, threshold,
                                              department.id, now, send)
    retired = retired_systems(session)
    for agreement in session.scalars(select(ConfidentialityAgreement).order_by(ConfidentialityAgreement.id)):
        if agreement.system_id in retired or _superseded(session, agreement):  # decommissioned or renewed
            continue
        due = Due(agreement.expires_on, today)
        name = agreement.system.system_name
        link = f"/contacts/departments/{agreement.department_id}"
        if due.overdue:
            def send(a=agreement, name=name, link=link):
                subject = f"[政务云] 保密协议已到期：{name}"
                body = f"系统“{name}”的保密协议已于 {a.expires_on.isoformat()} 到期，请尽快续签。\n"
                return _tell_department_and_bureau(session, settings, a.department_id, subject, body,
                                                   f"agreement:{a.id}", link)
            counts["agreement_expired"] += _once(session, "agreement_expired", agreement.id, due.due_on, 0,
                                                 agreement.department_id, now, send)
            continue
        threshold = _threshold(due.days_left, duty.agreement_days)
        if threshold is not None:
            def send(a=agreement, name=name, left=due.days_left, link=link):
                return notify_department(
                    session, settings, a.department_id, subject=f"[政务云] 保密协议即将到期：{name}",
                    body=f"系统“{name}”的保密协议将于 {a.expires_on.isoformat()} 到期（剩余 {left} 天），请及时续签。\n",
                    topic=f"agreement:{a.id}", link=link)
            counts["agreement_remind"] += _once(session, "agreement_remind", agreement.id, due.due_on, threshold,
                                                agreement.department_id, now, send)
    session.commit()
    return counts


def _superseded(session, agreement):
    """A later agreement of the same system that expires later replaces this one (no reminders)."""
    return session.scalar(select(ConfidentialityAgreement.id).where(
        ConfidentialityAgreement.system_id == agreement.system_id,
        ConfidentialityAgreement.expires_on > agreement.expires_on)) is not None


# -- export -------------------------------------------------------------------------------------

EXPORT_HEADINGS = ("单位编码", "单位名称", "角色", "系统", "姓名", "职务", "电话", "电子邮箱")


def export_rows(session, user):
    """The contacts of every department user may see, masked where user may not see them."""
    visible = clear_department_ids(session, user)
    rows = []
    for d in session.scalars(scoped(select(Department), user).order_by(Department.code)):
        for p in department_people(session, d, sees_clear(visible, d.id)):
            rows.append((d.code, d.name, ROLE_NAMES_ZH[p.role], p.system_name, p.name, p.title, p.phone, p.email))
    return rows


def export_xlsx(session, user):
    """The contacts as XLSX; every cell text (a phone stays text, leading zeros and all)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = "联系人"
    ws.append(list(EXPORT_HEADINGS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in export_rows(session, user):
        ws.append([str(v or "") for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def as_of(now=None):
    """Today in Beijing."""
    return beijing_day(now or utcnow())


def local_datetime_text(moment):
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else ""
