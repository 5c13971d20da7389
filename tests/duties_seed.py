"""Rows of the duties' pages (issue 20) for the seeded departments (used by the access walk and the
Chinese page walk): per department a plan of its provisioned system (version 1 approved, with its
document), a drill done with its timeline and an open follow-up, a rectification notice answered
with evidence and accepted; the platform's plan and an approved key change of the vendor. Nothing
waits on anyone (the workbenches' counts stay those of the other seeds)."""
import os
from datetime import timedelta

PDF = b"%PDF-1.4\n% seed\n"


def _document(row, uploads, name):
    stored = f"seed-duty-{name}-{os.urandom(4).hex()}.pdf"
    with open(os.path.join(uploads, stored), "wb") as fh:
        fh.write(PDF)
    row.document_name, row.document_stored, row.document_type = "应急预案.pdf", stored, "application/pdf"
    row.document_size, row.document_sha256 = len(PDF), "0" * 64


def seed_duties(session, seed, instance_path):
    """Returns {url argument: (id in department A, id in department B)}."""
    from sqlalchemy import select

    from portal.database import utcnow
    from portal.models.duties import (Drill, DrillFollowUp, DrillStep, EmergencyPlan, EmergencyPlanVersion, KeyChange,
                                      Rectification, RectificationAnswer)
    from portal.models.requests import ResourceRequest
    from portal.workdays import CHINA

    uploads = os.path.join(instance_path, "uploads", "duties")
    os.makedirs(uploads, exist_ok=True)
    now = utcnow()
    today = now.astimezone(CHINA).date()
    out = {k: [] for k in ("plan_id", "version_id", "drill_id", "follow_up_id", "rect_id", "answer_id")}

    def content(**kw):
        return dict(scenario="机房断电导致业务中断", roles=[{"role": "总指挥", "duty": "决定启动预案"},
                                                    {"role": "技术组", "duty": "恢复系统"}],
                    steps=["报告事件", "切换备用系统", "从备份恢复数据", "验证业务"], rto_minutes=240,
                    rpo_minutes=1440, **kw)

    platform = EmergencyPlan(scope="platform", title="政务云总体应急预案", drill_interval_months=12)
    platform.versions.append(EmergencyPlanVersion(number=1, state="approved", approved_at=now - timedelta(days=30),
                                                  **content()))
    session.add(platform)
    for dept_id, user_key in ((seed.dept_a, "dept"), (seed.dept_b, "dept_b")):
        system = session.scalars(select(ResourceRequest).where(
            ResourceRequest.department_id == dept_id, ResourceRequest.state == "provisioned")).first()
        plan = EmergencyPlan(scope="system", department_id=dept_id, system_id=system.id, title="门户网站专项应急预案",
                             drill_interval_months=12, created_by_id=seed.user_ids[user_key])
        version = EmergencyPlanVersion(number=1, state="approved", department_id=dept_id,
                                       approved_at=now - timedelta(days=40), submitted_at=now - timedelta(days=41),
                                       **content())
        _document(version, uploads, f"plan-{dept_id}")
        plan.versions.append(version)
        session.add(plan)
        session.flush()
        drill = Drill(plan_id=plan.id, plan_version_id=version.id, department_id=dept_id, title="门户网站恢复演练",
                      scenario="数据库损坏", scheduled_for=today - timedelta(days=10), state="completed",
                      participants=["张三（信息中心）", "李四（云服务商）"], started_at=now - timedelta(days=10, hours=2),
                      ended_at=now - timedelta(days=10), result="partial", summary="恢复成功，但通知晚了",
                      problems="值班电话未接通", restore_seconds=95.5, backup_age_minutes=300.0, rto_minutes=240,
                      rpo_minutes=1440, rto_met=True, rpo_met=True)
        drill.steps.append(DrillStep(at=now - timedelta(days=10, hours=2), title="报告事件", actor="张三",
                                     outcome="ok"))
        drill.steps.append(DrillStep(at=now - timedelta(days=10, hours=1), title="通知值班人员", actor="李四",
                                     outcome="problem", note="电话未接通"))
        follow_up = DrillFollowUp(department_id=dept_id, description="更新值班电话", owner="张三",
                                  due_date=today + timedelta(days=20))
        drill.follow_ups.append(follow_up)
        rect = Rectification(number=f"ZG-T-{dept_id:04d}", target="department", department_id=dept_id,
                             title="备份策略缺失", finding="门户网站没有备份策略", requirement="建立每日备份策略",
                             due_date=today + timedelta(days=7), state="accepted", rounds=1,
                             issued_at=now - timedelta(days=3), issued_by_id=seed.user_ids["bureau"],
                             answered_at=now - timedelta(days=1), closed_at=now - timedelta(hours=2),
                             decided_at=now - timedelta(hours=2), decision_note="同意")
        answer = RectificationAnswer(department_id=dept_id, round=1, text="已建立每日备份策略",
                                     answered_at=now - timedelta(days=1), answered_by_id=seed.user_ids[user_key],
                                     decision="accepted", decision_note="同意", decided_at=now - timedelta(hours=2))
        _document(answer, uploads, f"answer-{dept_id}")
        rect.answers.append(answer)
        session.add_all([drill, rect])
        session.flush()
        for key, row in (("plan_id", plan), ("version_id", version), ("drill_id", drill),
                         ("follow_up_id", follow_up), ("rect_id", rect), ("answer_id", answer)):
            out[key].append(row.id)
    change = KeyChange(kind="upgrade", state="approved", decided_at=now, title="云平台版本升级", description="升级计算节点",
                       impact="升级期间部分服务短暂不可用", rollback_plan="回退到原版本",
                       starts_at=now + timedelta(days=5), ends_at=now + timedelta(days=5, hours=4),
                       security_confirmed=True, applied_by_id=seed.user_ids["vendor"])
    session.add(change)
    session.commit()
    result = {name: tuple(ids) for name, ids in out.items()}
    result["change_id"] = (change.id, change.id)
    result["platform_plan_id"] = (platform.id, platform.id)
    return result
