"""The gate of 附件1 第七条(七) and 第九条 between projects and cloud resources: a new system's request
names a project of its department that passed the design review; a system is 试运行 until its project
passed acceptance (第十五条). Models only (resource_requests and projects both use it)."""
from sqlalchemy import select

from ..models.projects import ACCEPTED, DESIGN_PASSED, PROJECTS, Project
from ..text import _l
from ..workflow import RequestKind

TRIAL = "trial"  # 试运行: its project has not passed acceptance
IN_USE = "in_use"


def system_phase(system):
    """"trial" (试运行) while the system's project has not passed acceptance, "in_use" once marked so,
    "" for a system without a project (before issue 19) not marked."""
    project = system.project
    if system.in_use_at is not None:
        return IN_USE
    if project is not None and project.state not in ACCEPTED:
        return TRIAL
    return ""


def gate_problems(session, request):
    """(field, message) problems of the gate for a new system's request: it names a project of its
    department that passed the design review (第七条(七)), or it moves a system already in use
    (第四条: migration, with what it is in project_ref)."""
    if request.kind != RequestKind.NEW:
        return []  # a change or decommission of a system: operation of what exists
    if request.project_id is None:
        if request.existing_system:
            if not request.project_ref:
                return [("project_ref", _l("Name the system already in use that moves to the government cloud, "
                                           "and its original project."))]
            return []
        return [("project_id", _l(
            "A new system's cloud resource request must name an informatization project that passed the review "
            "of its preliminary design and estimate (regulation 1, article 7(7)); a system already built and in "
            "use that moves to the cloud is marked as such."))]
    project = session.get(Project, request.project_id)
    if project is None or project.department_id != request.department_id:
        return [("project_id", _l("Choose a project of your department."))]
    if project.state not in DESIGN_PASSED:
        return [("project_id", _l(
            "The project %(name)s has not passed the review of its preliminary design and estimate (now: "
            "%(state)s): no cloud resources may be requested for it yet (regulation 1, article 7(7)).",
            name=project.name, state=PROJECTS.labels.get(project.state, project.state)))]
    return []


def requestable_projects(session, department_id):
    """The department's projects a new system's request may name (design review passed)."""
    return list(session.scalars(select(Project).where(Project.department_id == department_id,
                                                      Project.state.in_(DESIGN_PASSED)).order_by(Project.id.desc())))
