"""API of the vendor's evaluation (第二十八条), the annual assessment (第四条(三)) and the security
monitoring reports (第六条(五)): the same services, roles and scoping as the pages (/evaluation,
/security-reports). A department reads and writes only its own ratings and reads its own reports;
a second rating of a quarter is 409; a signed assessment is frozen (recompute and sign: 409)."""
from flask import Response, current_app, g

from ..audit_hooks import mark_download
from ..extensions import db
from ..models.accounts import Role
from ..pagination import paginate
from ..schemas import evaluation as schemas
from ..schemas.base import Listing
from ..services import evaluation as svc, security_reports as reports
from .common import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, allow, bp, ctx
from .routing import dump, operation

RATINGS = Listing[schemas.RatingOut]
REPORTS = Listing[schemas.SecurityReportOut]
ASSESSMENTS = Listing[schemas.AssessmentSummary]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(listing, out, page):
    return dump(listing(items=[out.model_validate(x) for x in page.items], page=page.page, pages=page.pages,
                        total=page.total))


@operation(bp, "/evaluation/ratings", "GET", "listVendorRatings",
           "List the vendor's quarterly ratings you may see (a department: its own), newest quarter first",
           tag="evaluation", query=schemas.RatingQuery, response=RATINGS, errors=LIST_ERRORS)
def list_ratings(query):
    allow(*svc.RATING_READERS)
    stmt = svc.ratings_select(g.api_user, year=query.year, quarter=query.quarter)
    return _page(RATINGS, schemas.RatingOut, paginate(db.session, stmt, query.page, query.per_page))


@operation(bp, "/evaluation/ratings", "POST", "rateVendor",
           "A department rates the vendor for the quarter whose window is open (once per quarter: a second is 409; "
           "an aspect at or below EVALUATION_LOW_SCORE needs low_reason)", tag="evaluation",
           body=schemas.RatingCreate, response=schemas.RatingOut, status=201, errors=WRITE_ERRORS)
def rate_vendor(body):
    allow(Role.DEPARTMENT)
    rating = svc.rate(db.session, ctx(), current_app.config, **body.model_dump())
    return dump(schemas.RatingOut.model_validate(rating)), 201


@operation(bp, "/evaluation/ratings/<int:rating_id>", "GET", "getVendorRating", "Read a rating",
           tag="evaluation", response=schemas.RatingOut, errors=READ_ERRORS)
def get_rating(rating_id):
    allow(*svc.RATING_READERS)
    return dump(schemas.RatingOut.model_validate(svc.get_rating(db.session, g.api_user, rating_id)))


@operation(bp, "/evaluation/assessments", "GET", "listAssessments",
           "List the annual assessments (the bureau, the vendor, the auditors, the admin)", tag="evaluation",
           response=ASSESSMENTS, errors=LIST_ERRORS)
def list_assessments():
    allow(*svc.ASSESSMENT_READERS)
    items = svc.list_assessments(db.session, g.api_user)
    return dump(ASSESSMENTS(items=[schemas.AssessmentSummary.model_validate(a) for a in items], page=1, pages=1,
                            total=len(items)))


@operation(bp, "/evaluation/assessments", "POST", "computeAssessment",
           "The bureau computes a year's assessment, or recomputes its draft (a signed one: 409)", tag="evaluation",
           body=schemas.AssessmentCreate, response=schemas.AssessmentOut, errors=WRITE_ERRORS)
def compute_assessment(body):
    allow(Role.BUREAU)
    weights = body.weights.model_dump() if body.weights is not None else None
    item = svc.compute(db.session, ctx(), current_app.config, body.year, weights)
    return dump(schemas.AssessmentOut.model_validate(item))


@operation(bp, "/evaluation/assessments/<int:assessment_id>", "GET", "getAssessment",
           "Read an assessment with the figures behind every point", tag="evaluation",
           response=schemas.AssessmentOut, errors=READ_ERRORS)
def get_assessment(assessment_id):
    allow(*svc.ASSESSMENT_READERS)
    return dump(schemas.AssessmentOut.model_validate(svc.get_assessment(db.session, g.api_user, assessment_id)))


@operation(bp, "/evaluation/assessments/<int:assessment_id>/recompute", "POST", "recomputeAssessment",
           "The bureau recomputes a draft with its weights (signed: 409, frozen)", tag="evaluation",
           response=schemas.AssessmentOut, errors=WRITE_ERRORS)
def recompute_assessment(assessment_id):
    allow(Role.BUREAU)
    item = svc.get_assessment(db.session, g.api_user, assessment_id)
    item = svc.compute(db.session, ctx(), current_app.config, item.year, item.weights)
    return dump(schemas.AssessmentOut.model_validate(item))


@operation(bp, "/evaluation/assessments/<int:assessment_id>/sign", "POST", "signAssessment",
           "The bureau signs the assessment: frozen from then on (a second sign: 409)", tag="evaluation",
           body=schemas.AssessmentSign, response=schemas.AssessmentOut, errors=WRITE_ERRORS)
def sign_assessment(assessment_id, body):
    allow(Role.BUREAU)
    item = svc.sign(db.session, ctx(), current_app.config, assessment_id, body.comment)
    return dump(schemas.AssessmentOut.model_validate(item))


def _download(body, mimetype, filename):
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


@operation(bp, "/evaluation/assessments/<int:assessment_id>/export.xlsx", "GET", "exportAssessmentXlsx",
           "Download the score sheet as an Excel workbook", tag="evaluation", errors=READ_ERRORS, binary=XLSX)
def export_assessment_xlsx(assessment_id):
    allow(*svc.ASSESSMENT_READERS)
    item = svc.get_assessment(db.session, g.api_user, assessment_id)
    mark_download("vendor_assessment", item.id)
    return _download(*svc.export(item, "xlsx"))


@operation(bp, "/security-reports", "GET", "listSecurityReports",
           "List the security monitoring reports you may see (a department: its own), newest period first",
           tag="evaluation", query=schemas.SecurityReportQuery, response=REPORTS, errors=LIST_ERRORS)
def list_security_reports(query):
    allow(*reports.READERS)
    stmt = reports.reports_select(g.api_user, period=query.period)
    return _page(REPORTS, schemas.SecurityReportOut, paginate(db.session, stmt, query.page, query.per_page))


@operation(bp, "/security-reports/<int:report_id>", "GET", "getSecurityReport",
           "Read a security monitoring report's figures (personal information masked)", tag="evaluation",
           response=schemas.SecurityReportOut, errors=READ_ERRORS)
def get_security_report(report_id):
    allow(*reports.READERS)
    return dump(schemas.SecurityReportOut.model_validate(reports.get_report(db.session, g.api_user, report_id)))


@operation(bp, "/security-reports/<int:report_id>/export.pdf", "GET", "exportSecurityReportPdf",
           "Download a security monitoring report as PDF", tag="evaluation", errors=READ_ERRORS,
           binary="application/pdf")
def export_security_report_pdf(report_id):
    allow(*reports.READERS)
    report = reports.get_report(db.session, g.api_user, report_id)
    mark_download("security_report", report.id, department_id=report.department_id)
    return _download(*reports.export(report, "pdf"))
