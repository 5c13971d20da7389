"""Accounts: roles, departments (使用部门) and users."""
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto.fields import SealedText
from ..crypto.masking import mask
from ..database import Base, UTCDateTime, utcnow
from ..text import _l


class Role(StrEnum):
    DEPARTMENT = "department"
    BUREAU = "bureau"
    VENDOR = "vendor"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SECURITY = "security"
    EXPERT = "expert"  # 评审专家 (附件1 第七条): sees only the projects assigned to them


# 三权分立: the system administrator (admin), the security administrator (security) and the audit
# administrator (auditor); each account holds one role, so nobody holds two of these
ADMINISTRATORS = (Role.ADMIN, Role.SECURITY, Role.AUDITOR)
BUSINESS_ROLES = (Role.DEPARTMENT, Role.BUREAU, Role.VENDOR, Role.EXPERT)  # the system administrator manages these
# who sees the business pages (requests, operations, fees, grants, backups, departments): everyone but
# the security administrator, who approves, reviews and reads no business, and the experts, who see
# only the projects assigned to them (portal/projects)
BUSINESS_VIEWERS = tuple(r for r in Role if r not in (Role.SECURITY, Role.EXPERT))


class DepartmentLevel(StrEnum):
    CITY = "city"
    COUNTY = "county"
    SUB_UNIT = "sub_unit"


def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


def new_session_token():
    """Return a random value for the legacy session_token column (sessions are user_session rows)."""
    return secrets.token_urlsafe(32)


def _snapshot(obj, fields, sealed):
    """The audited fields of obj; sealed ones masked (an audit record never holds them in clear)."""
    return {f: mask(f, getattr(obj, f)) if f in sealed else getattr(obj, f) for f in fields}


ROLE_LABELS = {
    Role.DEPARTMENT: _l("Department"),
    Role.BUREAU: _l("Big-data bureau"),
    Role.VENDOR: _l("Cloud vendor"),
    Role.AUDITOR: _l("Audit administrator"),
    Role.ADMIN: _l("System administrator"),
    Role.SECURITY: _l("Security administrator"),
    Role.EXPERT: _l("Review expert"),
}
LEVEL_LABELS = {
    DepartmentLevel.CITY: _l("City department"),
    DepartmentLevel.COUNTY: _l("County government"),
    DepartmentLevel.SUB_UNIT: _l("Sub-unit"),
}


class Department(Base):
    """A 使用部门(单位): city department, county government or sub-unit."""

    __tablename__ = "department"
    __table_args__ = (
        CheckConstraint(f"level IN ({_in(DepartmentLevel)})", name="level"),
        CheckConstraint("(level = 'sub_unit') = (parent_id IS NOT NULL)", name="parent_iff_sub_unit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    # 第十七条: security officer
    security_officer_name: Mapped[str] = mapped_column(String(64), default="")
    security_officer_phone: Mapped[str] = mapped_column(SealedText(32), default="")  # sealed at rest
    # 第二十六条: IT lead and emergency contact
    it_lead_name: Mapped[str] = mapped_column(String(64), default="")
    it_lead_phone: Mapped[str] = mapped_column(SealedText(32), default="")  # sealed at rest
    it_lead_email: Mapped[str] = mapped_column(SealedText(120), default="")  # sealed at rest
    emergency_contact_name: Mapped[str] = mapped_column(String(64), default="")
    emergency_contact_phone: Mapped[str] = mapped_column(SealedText(32), default="")  # sealed at rest
    # issue 20: the officer's and the emergency contact's e-mail, a backup emergency contact, and the
    # department's last "still correct" confirmation of all its contacts (第二十六条)
    security_officer_email: Mapped[str] = mapped_column(SealedText(120), default="")  # sealed at rest
    emergency_contact_email: Mapped[str] = mapped_column(SealedText(120), default="")  # sealed at rest
    backup_contact_name: Mapped[str] = mapped_column(String(64), default="")
    backup_contact_phone: Mapped[str] = mapped_column(SealedText(32), default="")  # sealed at rest
    backup_contact_email: Mapped[str] = mapped_column(SealedText(120), default="")  # sealed at rest
    contacts_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacts_confirmed_by: Mapped[str] = mapped_column(String(64), default="")
    # one OpenStack project per department (第十八条); set when the project is created
    openstack_project_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped["Department | None"] = relationship(remote_side=[id])
    users: Mapped[list["User"]] = relationship(back_populates="department")

    # scoping.scoped() filters this column for department users
    __scope_column__ = "id"

    CONTACT_FIELDS = ("security_officer_name", "security_officer_phone", "it_lead_name",
                      "it_lead_phone", "it_lead_email", "emergency_contact_name",
                      "emergency_contact_phone", "security_officer_email", "emergency_contact_email",
                      "backup_contact_name", "backup_contact_phone", "backup_contact_email")
    FIELDS = ("name", "code", "level", "parent_id", "openstack_project_id") + CONTACT_FIELDS
    SEALED_FIELDS = ("security_officer_phone", "it_lead_phone", "it_lead_email", "emergency_contact_phone",
                     "security_officer_email", "emergency_contact_email", "backup_contact_phone",
                     "backup_contact_email")

    def snapshot(self):
        """Return the audited fields as a plain dict (phones and e-mails masked)."""
        return _snapshot(self, self.FIELDS, self.SEALED_FIELDS)

    def __repr__(self):
        return f"<Department {self.code}>"


class User(Base):
    """A person who logs in; department users belong to exactly one department."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"role IN ({_in(Role)})", name="role"),
        CheckConstraint("(role = 'department') = (department_id IS NOT NULL)",
                        name="department_iff_department_role"),
        CheckConstraint("NOT is_department_admin OR role = 'department'", name="admin_flag_only_department"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(SealedText(120), default="")  # sealed at rest
    phone: Mapped[str] = mapped_column(SealedText(32), default="")
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    is_department_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    # legacy (before 0011b the cookie carried it); unused now, kept until a migration drops it
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # shown to the user
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # issue 16: addresses of the logins shown to the user, forced password change, re-enabling
    last_login_addr: Mapped[str] = mapped_column(String(64), default="")
    previous_login_addr: Mapped[str] = mapped_column(String(64), default="")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # re-enabled by an admin
    # second factor (TOTP, RFC 6238); the secret is set at enrolment, active once totp_enabled_at is
    totp_secret_sealed: Mapped[str | None] = mapped_column(SealedText())  # sealed at rest
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # the newest time step used (no replay)

    department: Mapped[Department | None] = relationship(back_populates="users")

    __scope_column__ = "department_id"

    FIELDS = ("username", "full_name", "email", "phone", "role", "department_id",
              "is_department_admin", "is_active_account")

    # The Flask-Login user interface, without importing Flask here. The cookie carries the random
    # id of a server-side session (UserSession), never the primary key; the loader sets it here.
    is_authenticated = True
    is_anonymous = False
    current_session_id = None

    def get_id(self):
        return self.current_session_id

    @property
    def totp_enabled(self):
        return self.totp_enabled_at is not None

    @property
    def is_active(self):
        return self.is_active_account

    def has_role(self, *roles):
        return self.role in roles

    @property
    def is_dept_admin(self):
        return self.role == Role.DEPARTMENT and self.is_department_admin

    SEALED_FIELDS = ("email", "phone")

    def snapshot(self):
        return _snapshot(self, self.FIELDS, self.SEALED_FIELDS)

    def __repr__(self):
        return f"<User {self.username} {self.role}>"


class _OfUser:
    """Columns of a row that belongs to one user (and goes with the account)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(_OfUser, Base):
    """A login's server-side session: the cookie carries a random id, the table its SHA-256.

    It ends at logout, after SESSION_IDLE_MINUTES without a request, SESSION_ABSOLUTE_HOURS after
    the login, and when the user's password changes or the account is disabled.
    """

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(String(32), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()

    def __repr__(self):
        return f"<UserSession {self.id} user={self.user_id}>"


class PasswordHistory(_OfUser, Base):
    """A user's former password hashes: a new password may not repeat the last few."""

    __tablename__ = "password_history"

    password_hash: Mapped[str] = mapped_column(String(255))


class RecoveryCode(_OfUser, Base):
    """A one-time recovery code of the second factor, kept as its SHA-256."""

    __tablename__ = "totp_recovery_code"

    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
