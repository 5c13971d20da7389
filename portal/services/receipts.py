"""Delivery receipts (资源交付回执单, 附件3): show, confirm (签收), PDF."""
import io
from xml.sax.saxutils import escape

from sqlalchemy import select

from ..database import utcnow
from ..errors import Forbidden, WrongState
from ..models.accounts import Role
from ..models.requests import DeliveryReceipt
from ..scoping import get_scoped
from ..text import _l
from ..workflow import REQUESTS, RequestState
from .audit import record_event
from .reports import cjk_font_path
from .resource_requests import delivered_resources
from .transitions import lock, transition


def issue_receipt(session, request, operator):
    """Write the delivery receipt (附件3) of a provisioned request from the system's live resources
    (once; the worker calls it as the job's last step)."""
    receipt = session.scalar(select(DeliveryReceipt).where(DeliveryReceipt.request_id == request.id))
    if receipt is not None:
        return receipt
    rows = delivered_resources(session, request.department_id, request.system_root_id, with_deleted=True)
    server_names = {r.openstack_id: r.name for r in rows if r.kind == "server" and r.openstack_id}
    items = []
    for r in rows:
        item = {"kind": r.kind, "name": r.name, "openstack_id": r.openstack_id, "status":
                "deleted" if r.deleted else "active", **(r.attributes or {})}
        if item.get("attached_to"):  # the server's name, not its UUID
            item["attached_to_name"] = server_names.get(item["attached_to"], item["attached_to"])
        items.append(item)
    receipt = DeliveryReceipt(number=f"tmp-{request.id}", request_id=request.id, department_id=request.department_id,
                              operator=operator_name(request) or operator, items=items, issued_at=utcnow())
    session.add(receipt)
    session.flush()
    receipt.number = f"HZ-{receipt.issued_at:%Y%m%d}-{receipt.id:05d}"
    return receipt


def operator_name(request):
    """The person who handled the request for the receipt's 经办人: the reviewer who approved it (the
    worker that ran it is a process, named in the audit log), by full name."""
    user = request.reviewed_by
    return (user.full_name or user.username) if user is not None else ""


def get_receipt(session, user, receipt_id):
    return get_scoped(session, DeliveryReceipt, receipt_id, user, kind=_l("Receipt"))


def receipt_for_request(session, request_id):
    return session.scalar(select(DeliveryReceipt).where(DeliveryReceipt.request_id == request_id))


def confirm_receipt(session, ctx, receipt_id):
    """The department confirms the receipt (签收); the request becomes delivered."""
    receipt = get_receipt(session, ctx.actor, receipt_id)
    if ctx.actor.role != Role.DEPARTMENT:
        raise Forbidden()
    # two people confirming at once: the second waits for the first's row lock, then sees it confirmed
    lock(session, receipt)
    if receipt.confirmed_at is not None:
        raise WrongState(_l("The receipt has already been confirmed."))
    receipt.confirmed_at = utcnow()
    receipt.confirmed_by_id = ctx.actor.id
    record_event(session, ctx, "receipt.confirm", object_type="delivery_receipt", object_id=receipt.id,
                 department_id=receipt.department_id, after={"number": receipt.number})
    if receipt.request.state == RequestState.PROVISIONED:
        transition(session, ctx, REQUESTS, receipt.request, "confirm_receipt", after={"receipt": receipt.number})
    session.commit()
    return receipt


def receipt_pdf(receipt, labels):
    """Render the receipt as a PDF with an embedded CJK font; labels maps English keys to shown text."""
    from reportlab.lib.units import mm
    rows = [labels["row"](item) for item in receipt.items]
    return form_pdf(labels["title"], labels["header"],
                    [("", labels["columns"], rows, [22 * mm, 55 * mm, 62 * mm, 30 * mm, 20 * mm, 50 * mm, 25 * mm])],
                    labels["footer"], landscape_page=True)


def form_pdf(title, header, tables, footer, landscape_page=False):
    """Render one of the regulation's forms (附件1-3) as a PDF with an embedded CJK font: a title, the
    header lines (label, value), tables (caption, column headings, rows, column widths or None) and
    the footer lines (signatures)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if "GovCJK" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("GovCJK", cjk_font_path(), subfontIndex=0))
    heading = ParagraphStyle("t", fontName="GovCJK", fontSize=16, leading=22, alignment=1)
    caption_style = ParagraphStyle("h", fontName="GovCJK", fontSize=10.5, leading=14)
    body = ParagraphStyle("b", fontName="GovCJK", fontSize=9, leading=12)
    cell = ParagraphStyle("c", fontName="GovCJK", fontSize=7.5, leading=9.5)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4) if landscape_page else A4, leftMargin=12 * mm,
                            rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm, title=title)
    def para(value, style):
        # Paragraph reads its text as markup: a department's "A&B <系统>" is text, and a line break stays one
        return Paragraph(escape(str(value)).replace("\n", "<br/>"), style)

    story = [para(title, heading), Spacer(1, 4 * mm)]
    for key, value in header:
        story.append(para(f"{key}：{value}", body))
    for caption, columns, rows, widths in tables:
        story.append(Spacer(1, 4 * mm))
        if caption:
            story.append(para(caption, caption_style))
        data = [[para(h, cell) for h in columns]] + [[para(v, cell) for v in row] for row in rows]
        table = Table(data, repeatRows=1, colWidths=widths)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    story.append(Spacer(1, 6 * mm))
    for line in footer:
        story.append(para(line, body))
    doc.build(story)
    return buf.getvalue()
