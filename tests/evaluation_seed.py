"""Rows of the evaluation and security report pages for the seeded departments (used by the access walk)."""


def seed_evaluation(session, seed):
    """Add a rating of 2026 Q2 and a security report of 2026-10 to department A and to B, and a draft
    assessment of 2024. Returns {url argument: (id in department A, id in department B)}."""
    from portal.database import utcnow
    from portal.models.accounts import Department
    from portal.models.evaluation import SecurityReport, VendorAssessment, VendorRating
    from portal.services import evaluation, security_reports
    from portal.settings import DEFAULTS

    out = {"rating_id": [], "security_report_id": []}
    for dept_id, key in ((seed.dept_a, "dept"), (seed.dept_b, "dept_b")):
        rating = VendorRating(department_id=dept_id, year=2026, quarter=2, attitude=4, response=3, resolution=2,
                              comment="响应及时", low_reason="问题解决偏慢", rated_by_id=seed.user_ids[key])
        start, end = security_reports.period_bounds(1, 2026, 10)
        data = security_reports.figures(session, session.get(Department, dept_id), start, end)
        report = SecurityReport(department_id=dept_id, period="2026-10", months=1, starts_at=start, ends_at=end,
                                figures=data, content_hash="0" * 64)
        session.add_all([rating, report])
        session.flush()
        out["rating_id"].append(rating.id)
        out["security_report_id"].append(report.id)
    weights = evaluation.default_weights(DEFAULTS)
    indicators, total, targets = evaluation.compute_indicators(session, DEFAULTS, 2024, weights)
    assessment = VendorAssessment(year=2024, weights=weights, targets=targets, indicators=indicators, total=total,
                                  content_hash="0" * 64, computed_at=utcnow())
    session.add(assessment)
    session.commit()
    extra = {name: tuple(ids) for name, ids in out.items()}
    extra.update(assessment_id=(assessment.id, assessment.id), file_format=("pdf", "pdf"))
    return extra
