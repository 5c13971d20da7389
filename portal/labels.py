"""Translated names of roles, levels and audit actions (GLOSSARY.md terms)."""
from .text import _l

from .models import DepartmentLevel, Role

ROLE_LABELS = {
    Role.DEPARTMENT: _l("Department"),
    Role.BUREAU: _l("Big-data bureau"),
    Role.VENDOR: _l("Cloud vendor"),
    Role.AUDITOR: _l("Auditor"),
    Role.ADMIN: _l("System administrator"),
}
LEVEL_LABELS = {
    DepartmentLevel.CITY: _l("City department"),
    DepartmentLevel.COUNTY: _l("County government"),
    DepartmentLevel.SUB_UNIT: _l("Sub-unit"),
}
ACTION_LABELS = {
    "auth.login": _l("Login"),
    "auth.logout": _l("Logout"),
    "auth.login_failed": _l("Failed login"),
    "auth.login_locked": _l("Login while locked"),
    "auth.login_rate_limited": _l("Login rate limited"),
    "auth.lockout": _l("Account locked"),
    "auth.password_change": _l("Password change"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "department.create": _l("Department registered"),
    "department.update": _l("Department changed"),
    "department.contacts_update": _l("Contacts changed"),
    "audit.export": _l("Audit log exported"),
}
OBJECT_LABELS = {"user": _l("User"), "department": _l("Department"), "audit_log": _l("Audit log")}
OUTCOME_LABELS = {"success": _l("Success"), "failure": _l("Failure"), "denied": _l("Denied")}


def label(mapping, value):
    """Return the translated label of value, or value itself when unknown."""
    return mapping.get(value, value)
