"""A statement per seeded department and a monthly report (used by the access walk)."""


def seed_billing(session, seed):
    """Add a draft statement to department A and to B, and one monthly report.

    Returns {url argument: (id in department A, id in department B)}.
    """
    from portal.models.billing import MonthlyReport, MonthlyReportEntry, Statement

    ids = []
    for dept_id in (seed.dept_a, seed.dept_b):
        statement = Statement(department_id=dept_id, year=2026, month=1, version=1)
        session.add(statement)
        session.flush()
        ids.append(statement.id)
    report = MonthlyReport(year=2026, month=1, generated_by="scheduler")
    report.entries = [MonthlyReportEntry(department_id=d, figures={"department": "甲局"})
                      for d in (seed.dept_a, seed.dept_b)]
    session.add(report)
    session.commit()
    return {"statement_id": tuple(ids), "report_id": (report.id, report.id)}
