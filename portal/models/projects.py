"""信息化及智慧城市建设项目 (regulation 附件1): the 申报表, its documents, every decision on it, the
experts' opinions, milestones and acceptance; the flow of 第七条 as a state machine (data).

Outside bodies (发改委, 财政局, 市政府, a third-party reviewer) are not users: their decisions are
recorded by the bureau as ProjectDecision rows with the document number and date.
"""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto.fields import SealedText
from ..crypto.masking import mask
from ..database import Base, UTCDateTime, utcnow
from ..statemachine import StateMachine
from ..text import _l


def _in(values):
    return ", ".join(f"'{v.value}'" for v in values)


class ProjectType(StrEnum):
    """第二条: what the project builds."""

    INFRASTRUCTURE = "infrastructure"  # 信息基础设施
    SOFTWARE = "software"  # 信息化软件系统
    SECURITY = "security"  # 信息安全防护系统
    DATA = "data"  # 信息资源开发利用


class ConstructionKind(StrEnum):
    NEW = "new"  # 新建
    EXTENSION = "extension"  # 改(扩)建
    OPERATION = "operation"  # 运维


class FundingSource(StrEnum):
    """第三条: 财政资金、上级专项资金、政府融资资金、自筹资金."""

    FISCAL = "fiscal"
    SUPERIOR = "superior"
    FINANCING = "financing"
    SELF = "self"
    MIXED = "mixed"


class ProjectState(StrEnum):
    DRAFT = "draft"
    DECLARED = "declared"  # 已申报 (in the window, or urgent with a reason, 第八条)
    PRELIMINARY_REVIEW = "preliminary_review"  # 初审中 (第七条(二))
    RETURNED = "returned"  # 退回修改
    REJECTED = "rejected"  # 不予通过
    WITHDRAWN = "withdrawn"  # 撤回
    REVIEWED = "reviewed"  # 通过初审
    PLANNED = "planned"  # 列入年度计划 (第七条(三)), awaiting 市政府
    PLAN_APPROVED = "plan_approved"  # 市政府审定 (or admitted as urgent, 第八条)
    APPROVED = "approved"  # 发改委 可研评审通过 and 立项 (第七条(四))
    DESIGN_REVIEW = "design_review"  # 初步设计及概算评审中 (第七条(六))
    DESIGN_APPROVED = "design_approved"  # 通过设计评审: cloud resources may be requested (第七条(七))
    PROCURED = "procured"  # 招标采购完成 (第十条)
    CONSTRUCTION = "construction"  # 建设中
    ACCEPTANCE = "acceptance"  # 待验收 (第十四条)
    RECTIFICATION = "rectification"  # 限期整改 (第十五条)
    IN_USE = "in_use"  # 验收合格, 交付使用; warranty ≥ 3 years (第十六条)
    EVALUATED = "evaluated"  # 绩效评估 (第十七条)


P = ProjectState
# (from, action) -> to
PROJECT_TRANSITIONS = {
    (P.DRAFT, "declare"): P.DECLARED,
    (P.RETURNED, "declare"): P.DECLARED,
    (P.DRAFT, "withdraw"): P.WITHDRAWN,
    (P.RETURNED, "withdraw"): P.WITHDRAWN,
    (P.DECLARED, "withdraw"): P.WITHDRAWN,
    (P.DECLARED, "start_review"): P.PRELIMINARY_REVIEW,
    (P.DECLARED, "return"): P.RETURNED,
    (P.PRELIMINARY_REVIEW, "return"): P.RETURNED,
    (P.DECLARED, "reject"): P.REJECTED,
    (P.PRELIMINARY_REVIEW, "reject"): P.REJECTED,
    (P.PRELIMINARY_REVIEW, "pass_review"): P.REVIEWED,
    (P.REVIEWED, "add_to_plan"): P.PLANNED,
    (P.REVIEWED, "admit_urgent"): P.PLAN_APPROVED,  # 第八条: out of the plan, urgent
    (P.REVIEWED, "reject"): P.REJECTED,  # not chosen for the plan
    (P.PLANNED, "remove_from_plan"): P.REVIEWED,
    (P.PLANNED, "plan_approved"): P.PLAN_APPROVED,  # 市政府审定 the year's plan
    (P.PLANNED, "plan_refused"): P.REJECTED,
    (P.PLAN_APPROVED, "feasibility_approved"): P.APPROVED,  # 发改委 立项
    (P.PLAN_APPROVED, "feasibility_refused"): P.REJECTED,
    (P.APPROVED, "submit_design"): P.DESIGN_REVIEW,
    (P.DESIGN_REVIEW, "design_passed"): P.DESIGN_APPROVED,
    (P.DESIGN_REVIEW, "design_returned"): P.APPROVED,  # revise the design and submit again
    (P.DESIGN_APPROVED, "record_procurement"): P.PROCURED,
    (P.PROCURED, "start_construction"): P.CONSTRUCTION,
    (P.CONSTRUCTION, "request_acceptance"): P.ACCEPTANCE,
    (P.RECTIFICATION, "request_acceptance"): P.ACCEPTANCE,  # 重新验收
    (P.ACCEPTANCE, "accept"): P.IN_USE,
    (P.ACCEPTANCE, "require_rectification"): P.RECTIFICATION,
    (P.IN_USE, "evaluate"): P.EVALUATED,
}
PROJECT_STATE_LABELS = {
    P.DRAFT: _l("Draft"),
    P.DECLARED: _l("Declared"),
    P.PRELIMINARY_REVIEW: _l("Preliminary review"),
    P.RETURNED: _l("Returned for revision"),
    P.REJECTED: _l("Not approved"),
    P.WITHDRAWN: _l("Withdrawn"),
    P.REVIEWED: _l("Passed the preliminary review"),
    P.PLANNED: _l("In the annual plan"),
    P.PLAN_APPROVED: _l("Plan approved by the city government"),
    P.APPROVED: _l("Project approved (feasibility)"),
    P.DESIGN_REVIEW: _l("Design and estimate under review"),
    P.DESIGN_APPROVED: _l("Design and estimate approved"),
    P.PROCURED: _l("Procurement done"),
    P.CONSTRUCTION: _l("Under construction"),
    P.ACCEPTANCE: _l("Awaiting acceptance"),
    P.RECTIFICATION: _l("Rectification"),
    P.IN_USE: _l("In use"),
    P.EVALUATED: _l("Performance evaluated"),
}
PROJECTS = StateMachine("project", "project", PROJECT_TRANSITIONS, PROJECT_STATE_LABELS, kind=_l("project"),
                        stamps={P.DECLARED: "declared_at"}, changed_at="state_changed_at", snapshots=True)

EDITABLE = frozenset({P.DRAFT, P.RETURNED})
# the design review passed: the department may ask for cloud resources (第七条(七)) and build (第九条)
DESIGN_PASSED = frozenset({P.DESIGN_APPROVED, P.PROCURED, P.CONSTRUCTION, P.ACCEPTANCE, P.RECTIFICATION,
                           P.IN_USE, P.EVALUATED})
# accepted: its systems may be used (第十五条); before that they are 试运行
ACCEPTED = frozenset({P.IN_USE, P.EVALUATED})
CLOSED = frozenset({P.REJECTED, P.WITHDRAWN})
# the stages of the bureau's pipeline, in order (a column each)
PIPELINE = (P.DECLARED, P.PRELIMINARY_REVIEW, P.REVIEWED, P.PLANNED, P.PLAN_APPROVED, P.APPROVED,
            P.DESIGN_REVIEW, P.DESIGN_APPROVED, P.PROCURED, P.CONSTRUCTION, P.ACCEPTANCE, P.RECTIFICATION,
            P.IN_USE, P.EVALUATED)

PROJECT_TYPE_LABELS = {
    ProjectType.INFRASTRUCTURE: _l("Information infrastructure"),
    ProjectType.SOFTWARE: _l("Software system"),
    ProjectType.SECURITY: _l("Information security"),
    ProjectType.DATA: _l("Data resources"),
}
CONSTRUCTION_KIND_LABELS = {
    ConstructionKind.NEW: _l("New construction"),
    ConstructionKind.EXTENSION: _l("Extension or renovation"),
    ConstructionKind.OPERATION: _l("Operation and maintenance"),
}
FUNDING_SOURCE_LABELS = {
    FundingSource.FISCAL: _l("City budget"),
    FundingSource.SUPERIOR: _l("Special funds from above"),
    FundingSource.FINANCING: _l("Government financing"),
    FundingSource.SELF: _l("Own funds"),
    FundingSource.MIXED: _l("Several sources"),
}


class Project(Base):
    """A 信息化项目 with its 申报表 (第七条(一), 第十三条) and where it stands in the flow of 第七条."""

    __tablename__ = "project"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(ProjectState)})", name="state"),
        CheckConstraint(f"project_type IN ({_in(ProjectType)})", name="project_type"),
        CheckConstraint(f"construction_kind IN ({_in(ConstructionKind)})", name="construction_kind"),
        CheckConstraint(f"funding_source IN ({_in(FundingSource)})", name="funding_source"),
        CheckConstraint("estimate >= 0", name="estimate"),
        CheckConstraint("warranty_years >= 3", name="warranty_years"),  # 第十六条
        Index("ix_project_plan_year_state", "plan_year", "state"),
        Index("ix_project_department_id_id", "department_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # XM-2027-0001
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(24), default=ProjectState.DRAFT, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    plan_year: Mapped[int] = mapped_column(Integer)  # the year it is built (declared in September before)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # 第八条: out of the plan, urgent
    urgent_reason: Mapped[str] = mapped_column(Text, default="")
    # the 申报表
    name: Mapped[str] = mapped_column(String(200))
    project_type: Mapped[str] = mapped_column(String(16), default=ProjectType.SOFTWARE)
    construction_kind: Mapped[str] = mapped_column(String(16), default=ConstructionKind.NEW)
    content: Mapped[str] = mapped_column(Text, default="")  # 建设内容
    necessity: Mapped[str] = mapped_column(Text, default="")  # 必要性
    on_government_cloud: Mapped[bool] = mapped_column(Boolean, default=True)  # 第四条
    cloud_exemption: Mapped[str] = mapped_column(Text, default="")  # why not on the cloud (law, superior rule)
    data_sharing: Mapped[str] = mapped_column(Text, default="")  # 数据资源共享和开放
    estimate: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))  # 投资估算 (yuan)
    funding_source: Mapped[str] = mapped_column(String(16), default=FundingSource.FISCAL)
    funding_note: Mapped[str] = mapped_column(Text, default="")
    schedule: Mapped[str] = mapped_column(Text, default="")  # 建设周期 / 进度安排
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    responsible_person: Mapped[str] = mapped_column(String(64), default="")  # 项目责任人 (第十三条)
    responsible_phone: Mapped[str] = mapped_column(SealedText(32), default="")  # sealed at rest
    leader: Mapped[str] = mapped_column(String(64), default="")  # 主管领导
    # set by the reviews
    approved_estimate: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 批复概算 (design review)
    approved_scope: Mapped[str] = mapped_column(Text, default="")  # 批准的建设内容 (design review)
    approval_document: Mapped[str] = mapped_column(String(120), default="")  # 发改委 立项批复文号
    approval_date: Mapped[date | None] = mapped_column(Date)
    # procurement (第十条)
    procurement_method: Mapped[str] = mapped_column(String(32), default="")
    supplier: Mapped[str] = mapped_column(String(200), default="")
    contract_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    supervisor: Mapped[str] = mapped_column(String(200), default="")  # 监理单位
    procured_on: Mapped[date | None] = mapped_column(Date)
    # acceptance and warranty (第十五条, 第十六条)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    warranty_years: Mapped[int] = mapped_column(Integer, default=3)
    warranty_ends_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department = relationship("Department")
    created_by = relationship("User", foreign_keys=[created_by_id])
    documents: Mapped[list["ProjectDocument"]] = relationship(back_populates="project",
                                                              order_by="ProjectDocument.id")
    decisions: Mapped[list["ProjectDecision"]] = relationship(back_populates="project",
                                                              order_by="ProjectDecision.id")
    assignments: Mapped[list["ExpertAssignment"]] = relationship(back_populates="project",
                                                                 order_by="ExpertAssignment.id")
    milestones: Mapped[list["ProjectMilestone"]] = relationship(back_populates="project",
                                                                order_by="ProjectMilestone.id")
    acceptances: Mapped[list["ProjectAcceptance"]] = relationship(back_populates="project",
                                                                  order_by="ProjectAcceptance.round")

    __scope_column__ = "department_id"

    @staticmethod
    def __expert_clause__(user_id):
        """An expert sees the projects assigned to them (scoping.scoped)."""
        return Project.id.in_(select(ExpertAssignment.project_id).where(ExpertAssignment.expert_id == user_id))

    FIELDS = ("number", "state", "version", "plan_year", "urgent", "name", "project_type", "construction_kind",
              "estimate", "funding_source", "on_government_cloud", "responsible_person", "responsible_phone",
              "approved_estimate", "approval_document", "supplier", "contract_amount", "accepted_on",
              "warranty_ends_on")
    SEALED_FIELDS = ("responsible_phone",)

    @property
    def design_passed(self):
        return self.state in DESIGN_PASSED

    @property
    def accepted(self):
        return self.state in ACCEPTED

    def snapshot(self):
        """The audited fields (the phone masked; amounts and dates as text)."""
        out = {}
        for f in self.FIELDS:
            value = getattr(self, f)
            if f in self.SEALED_FIELDS:
                value = mask(f, value)
            elif isinstance(value, (Decimal, date)):
                value = str(value) if isinstance(value, Decimal) else value.isoformat()
            out[f] = value
        return out

    def __repr__(self):
        return f"<Project {self.number} {self.state}>"


class DocumentPurpose(StrEnum):
    FEASIBILITY = "feasibility"  # 可行性研究报告
    ESTIMATE = "estimate"  # 投资概算
    FUNDING_PLAN = "funding_plan"  # 资金筹措计划
    DESIGN = "design"  # 初步设计 / 实施方案
    DECISION = "decision"  # a decision's document (批复, 评审意见, 验收报告)
    OTHER = "other"


DOCUMENT_PURPOSE_LABELS = {
    DocumentPurpose.FEASIBILITY: _l("Feasibility study report"),
    DocumentPurpose.ESTIMATE: _l("Investment estimate"),
    DocumentPurpose.FUNDING_PLAN: _l("Funding plan"),
    DocumentPurpose.DESIGN: _l("Preliminary design / implementation plan"),
    DocumentPurpose.DECISION: _l("Decision document"),
    DocumentPurpose.OTHER: _l("Other document"),
}
# what a declaration carries (第七条(一)); the design comes before the design review (第七条(五))
DECLARATION_DOCUMENTS = (DocumentPurpose.FEASIBILITY, DocumentPurpose.ESTIMATE, DocumentPurpose.FUNDING_PLAN)


class ProjectDocument(Base):
    """An uploaded document of a project, stored in the instance folder like a request's attachment."""

    __tablename__ = "project_document"
    __table_args__ = (CheckConstraint(f"purpose IN ({_in(DocumentPurpose)})", name="purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="documents")
    uploaded_by = relationship("User")


class DecisionBody(StrEnum):
    BUREAU = "bureau"  # 市大数据管理局
    NDRC = "ndrc"  # 市发改委
    FINANCE = "finance"  # 市财政局
    CITY_GOVERNMENT = "city_government"  # 市政府
    EXPERT = "expert"  # 专家组
    THIRD_PARTY = "third_party"  # 第三方机构
    DEPARTMENT = "department"  # the applying unit (declaration, withdrawal)


class DecisionStage(StrEnum):
    DECLARATION = "declaration"
    PRELIMINARY_REVIEW = "preliminary_review"  # 初审 第七条(二)
    ANNUAL_PLAN = "annual_plan"  # 年度计划 第七条(三)
    URGENT = "urgent"  # 第八条
    FEASIBILITY = "feasibility"  # 可研评审 / 立项 第七条(四)
    DESIGN_REVIEW = "design_review"  # 初步设计及概算评审 第七条(六)
    PROCUREMENT = "procurement"  # 第十条
    CONSTRUCTION = "construction"
    ACCEPTANCE = "acceptance"  # 第十四条, 第十五条
    EVALUATION = "evaluation"  # 第十七条
    CHANGE = "change"  # 第十二条


class DecisionOutcome(StrEnum):
    SUBMITTED = "submitted"
    PASSED = "passed"
    RETURNED = "returned"
    REJECTED = "rejected"
    RECTIFICATION = "rectification"
    RECORDED = "recorded"
    WITHDRAWN = "withdrawn"


DECISION_BODY_LABELS = {
    DecisionBody.BUREAU: _l("Big-data bureau"),
    DecisionBody.NDRC: _l("Development and reform commission"),
    DecisionBody.FINANCE: _l("Finance bureau"),
    DecisionBody.CITY_GOVERNMENT: _l("City government"),
    DecisionBody.EXPERT: _l("Expert panel"),
    DecisionBody.THIRD_PARTY: _l("Third-party reviewer"),
    DecisionBody.DEPARTMENT: _l("Applying unit"),
}
DECISION_STAGE_LABELS = {
    DecisionStage.DECLARATION: _l("Declaration"),
    DecisionStage.PRELIMINARY_REVIEW: _l("Preliminary review"),
    DecisionStage.ANNUAL_PLAN: _l("Annual plan"),
    DecisionStage.URGENT: _l("Urgent project outside the plan"),
    DecisionStage.FEASIBILITY: _l("Feasibility review and project approval"),
    DecisionStage.DESIGN_REVIEW: _l("Design and estimate review"),
    DecisionStage.PROCUREMENT: _l("Procurement"),
    DecisionStage.CONSTRUCTION: _l("Construction"),
    DecisionStage.ACCEPTANCE: _l("Acceptance"),
    DecisionStage.EVALUATION: _l("Performance evaluation"),
    DecisionStage.CHANGE: _l("Change"),
}
DECISION_OUTCOME_LABELS = {
    DecisionOutcome.SUBMITTED: _l("Submitted"),
    DecisionOutcome.PASSED: _l("Passed"),
    DecisionOutcome.RETURNED: _l("Returned"),
    DecisionOutcome.REJECTED: _l("Not approved"),
    DecisionOutcome.RECTIFICATION: _l("Rectification required"),
    DecisionOutcome.RECORDED: _l("Recorded"),
    DecisionOutcome.WITHDRAWN: _l("Withdrawn"),
}
# 第七条(二): what the preliminary review checks
REVIEW_CHECKLIST = ("fits_plan", "on_cloud", "data_sharing", "technology")
REVIEW_CHECKLIST_LABELS = {
    "fits_plan": _l("Fits the city's informatization and smart-city plan and principles"),
    "on_cloud": _l("Developed, deployed and run on the government cloud"),
    "data_sharing": _l("Data resource sharing and opening fully considered"),
    "technology": _l("Follows the trend of technology"),
}


class ProjectDecision(Base):
    """One decision on a project (or on a year's plan): who decided (the bureau, 发改委, 财政局, 市政府,
    experts, a third party), at which stage, the outcome, the document number and date, the opinion
    and the reason. Recorded by a user (recorded_by); never changed afterwards."""

    __tablename__ = "project_decision"
    __table_args__ = (
        CheckConstraint(f"body IN ({_in(DecisionBody)})", name="body"),
        CheckConstraint(f"stage IN ({_in(DecisionStage)})", name="stage"),
        CheckConstraint(f"outcome IN ({_in(DecisionOutcome)})", name="outcome"),
        CheckConstraint("project_id IS NOT NULL OR plan_id IS NOT NULL", name="of_something"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("annual_plan.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), default="")  # the state machine's action it carried
    document_number: Mapped[str] = mapped_column(String(120), default="")  # 文号
    decided_on: Mapped[date | None] = mapped_column(Date)  # the document's date
    reviewer: Mapped[str] = mapped_column(String(200), default="")  # the third party / panel named
    opinion: Mapped[str] = mapped_column(Text, default="")  # 评审意见
    reason: Mapped[str] = mapped_column(Text, default="")  # why (audited)
    checklist: Mapped[dict | None] = mapped_column(JSON)  # 第七条(二): {item: bool}
    document_id: Mapped[int | None] = mapped_column(ForeignKey("project_document.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project | None] = relationship(back_populates="decisions")
    plan = relationship("AnnualPlan", back_populates="decisions")
    document = relationship("ProjectDocument")
    recorded_by = relationship("User")


class AnnualPlan(Base):
    """年度政府投资信息化及智慧城市项目建设计划 (第七条(三)): the bureau's list for a year, approved by
    市政府 (recorded with its document). Its projects are those with plan_year = year in PLANNED and
    later states."""

    __tablename__ = "annual_plan"
    __table_args__ = (CheckConstraint("state IN ('draft', 'submitted', 'approved')", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    investment_limit: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 市级政府投资控制规模
    note: Mapped[str] = mapped_column(Text, default="")
    approved_document: Mapped[str] = mapped_column(String(120), default="")  # 市政府 文号
    approved_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    decisions: Mapped[list[ProjectDecision]] = relationship(back_populates="plan", order_by="ProjectDecision.id")


class ExpertConclusion(StrEnum):
    AGREE = "agree"  # 同意
    AGREE_WITH_CHANGES = "agree_with_changes"  # 修改后同意
    DISAGREE = "disagree"  # 不同意


EXPERT_CONCLUSION_LABELS = {
    ExpertConclusion.AGREE: _l("Agree"),
    ExpertConclusion.AGREE_WITH_CHANGES: _l("Agree after changes"),
    ExpertConclusion.DISAGREE: _l("Disagree"),
}


class ExpertAssignment(Base):
    """An expert asked by the bureau for an opinion on a project at one stage, and the opinion given.
    An expert sees only the projects assigned to them."""

    __tablename__ = "expert_assignment"
    __table_args__ = (
        UniqueConstraint("project_id", "expert_id", "stage", name="uq_expert_assignment_project_id"),
        CheckConstraint(f"stage IN ({_in(DecisionStage)})", name="stage"),
        CheckConstraint(f"conclusion IS NULL OR conclusion IN ({_in(ExpertConclusion)})", name="conclusion"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    stage: Mapped[str] = mapped_column(String(24))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date | None] = mapped_column(Date)
    # the expert's opinion
    conclusion: Mapped[str | None] = mapped_column(String(24))
    opinion: Mapped[str] = mapped_column(Text, default="")
    checklist: Mapped[dict | None] = mapped_column(JSON)  # 第七条(二) as the expert sees it
    score: Mapped[int | None] = mapped_column(Integer)  # optional (the performance evaluation adds its own)
    opinion_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[Project] = relationship(back_populates="assignments")
    expert = relationship("User", foreign_keys=[expert_id])
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])

    @property
    def answered(self):
        return self.opinion_at is not None


class ProjectMilestone(Base):
    """A construction milestone (建设进度): planned date, done date, note."""

    __tablename__ = "project_milestone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    planned_on: Mapped[date | None] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="milestones")


class AcceptanceOutcome(StrEnum):
    PASSED = "passed"  # 验收合格
    RECTIFICATION = "rectification"  # 不合格, 限期整改 (第十五条)


ACCEPTANCE_OUTCOME_LABELS = {
    AcceptanceOutcome.PASSED: _l("Passed"),
    AcceptanceOutcome.RECTIFICATION: _l("Rectification required"),
}


class ProjectAcceptance(Base):
    """One acceptance round (验收): passed, or rectification with a deadline and a re-acceptance after."""

    __tablename__ = "project_acceptance"
    __table_args__ = (
        UniqueConstraint("project_id", "round", name="uq_project_acceptance_project_id"),
        CheckConstraint(f"outcome IN ({_in(AcceptanceOutcome)})", name="outcome"),
        CheckConstraint("outcome = 'passed' OR rectification_deadline IS NOT NULL", name="deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)  # 1, then 2 for the re-acceptance, ...
    outcome: Mapped[str] = mapped_column(String(16))
    held_on: Mapped[date] = mapped_column(Date)
    opinion: Mapped[str] = mapped_column(Text, default="")
    rectification_items: Mapped[str] = mapped_column(Text, default="")  # 整改意见
    rectification_deadline: Mapped[date | None] = mapped_column(Date)  # 限期
    document_number: Mapped[str] = mapped_column(String(120), default="")
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("project_decision.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="acceptances")
    decision = relationship("ProjectDecision")
