"""Rows of the project pages (issue 19) for the seeded departments: used by the access walk and the
every-page walk."""
import os
from datetime import date
from decimal import Decimal


def seed_projects(session, seed, instance_path):
    """Add to department A and to B a project that passed the design review (with a document, a
    decision and an expert's opinion on A's), and to A a declared one no expert is asked about.

    Returns {url argument: (id in department A, id in department B)}.
    """
    from portal.database import utcnow
    from portal.models.projects import ExpertAssignment, Project, ProjectDecision, ProjectDocument

    out = {"project_id": [], "document_id": []}
    uploads = os.path.join(instance_path, "uploads", "projects")
    os.makedirs(uploads, exist_ok=True)
    for dept_id, user_key in ((seed.dept_a, "dept"), (seed.dept_b, "dept_b")):
        project = Project(number=f"XM-T-{dept_id:04d}", department_id=dept_id, state="design_approved",
                          plan_year=2027, name="政务服务一网通办平台", project_type="software", construction_kind="new",
                          content="建设统一受理平台", necessity="群众办事多头跑", data_sharing="对接共享交换平台",
                          estimate=Decimal("1200000.00"), schedule="十二个月", responsible_person="张项目",
                          responsible_phone="13800000000", approved_estimate=Decimal("1150000.00"),
                          approved_scope="统一受理、电子证照对接", approval_document="酒发改审批〔2027〕12号",
                          approval_date=date(2027, 3, 1), created_by_id=seed.user_ids[user_key])
        session.add(project)
        session.flush()
        stored = f"seed-project-{project.id}.pdf"
        with open(os.path.join(uploads, stored), "wb") as fh:
            fh.write(b"%PDF-1.4\n% seed\n")
        document = ProjectDocument(project_id=project.id, purpose="feasibility", filename="可行性研究报告.pdf",
                                   stored_name=stored, content_type="application/pdf", size=16, sha256="0" * 64)
        session.add(document)
        session.add(ProjectDecision(project_id=project.id, stage="feasibility", body="ndrc", outcome="passed",
                                    action="feasibility_approved", document_number="酒发改审批〔2027〕12号",
                                    decided_on=date(2027, 3, 1), opinion="同意立项"))
        session.flush()
        out["project_id"].append(project.id)
        out["document_id"].append(document.id)
        if dept_id == seed.dept_a:
            session.add(ExpertAssignment(project_id=project.id, expert_id=seed.user_ids["expert"],
                                         stage="preliminary_review", conclusion="agree", opinion="符合规划，同意",
                                         opinion_at=utcnow(),
                                         checklist={"fits_plan": True, "on_cloud": True, "data_sharing": True,
                                                    "technology": True}))
            session.add(Project(number=f"XM-T-{dept_id:04d}-2", department_id=dept_id, state="declared",
                                plan_year=2027, name="智慧停车系统", estimate=Decimal("300000.00"),
                                created_by_id=seed.user_ids[user_key]))
    session.commit()
    return {name: tuple(ids) for name, ids in out.items()}
