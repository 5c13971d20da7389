"""A real browser fills in the application form (附件1), sees its Chinese errors, submits, and the
bureau reviews it with an adjustment. Screenshots: test-artifacts/screenshots/requests-*.png."""
import pytest

from tests.browser.test_portal_browser import SHOTS, browser, live_portal, log_in, page  # noqa: F401
from tests.documents import PDF, REQUIRED

pytestmark = pytest.mark.devcloud  # the form lists the dev cloud's flavors and images


def test_application_form_and_review_page(live_portal, browser):  # noqa: F811
    base, _seed = live_portal
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    dept = context.new_page()
    problems = []
    dept.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    log_in(dept, base, "a-user")
    dept.goto(base + "/requests/new")
    assert dept.inner_text("h1") == "政务云资源需求申请"
    dept.fill("input[name=system_name]", "不动产登记系统")
    dept.fill("textarea[name=purpose]", "不动产登记业务办理")
    dept.fill("input[name=servers-1-name]", "web")
    dept.select_option("select[name=servers-1-flavor]", "m1.small")
    dept.select_option("select[name=servers-1-image]", "cirros-devcloud")
    dept.fill("input[name=servers-1-count]", "3")
    dept.fill("input[name=servers-1-data_volumes]", "20")
    dept.fill("input[name=volumes-1-name]", "archive")
    dept.fill("input[name=volumes-1-size_gb]", "100")
    dept.fill("input[name=volumes-1-attach_to]", "web-9")  # not a requested server: an error on submit
    dept.fill("input[name=rules-1-port]", "443")
    dept.fill("input[name=rules-1-source]", "0.0.0.0/0")
    dept.fill("input[name=rules-2-port]", "22")
    dept.fill("input[name=rules-2-source]", "10.0.0.0/8")
    dept.click("#save-draft")
    dept.wait_for_load_state()
    assert "已保存" in dept.inner_text(".alert-success")
    for purpose, name in REQUIRED:  # 附件1: the construction plan and the self-test report, by type
        dept.select_option("#upload-form select[name=purpose]", purpose)
        dept.set_input_files("#upload-form input[name=document]",
                             files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF}])
        dept.click("#upload-form [type=submit]")
        dept.wait_for_load_state()
        assert name in dept.inner_text("#documents")
    dept.click("#save-submit")
    dept.wait_for_load_state()
    errors = dept.inner_text("main")
    assert "申请暂不能提交" in errors and "云硬盘 1：请挂载到所申请的云主机之一（如 web-1）。" in errors
    dept.screenshot(path=str(SHOTS / "requests-form-errors.png"), full_page=True)

    dept.fill("input[name=volumes-1-attach_to]", "web-1")
    dept.click("#save-submit")
    dept.wait_for_load_state()
    assert dept.inner_text("#request-state") == "已提交"
    detail_url = dept.url

    bureau_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    bureau = bureau_context.new_page()
    log_in(bureau, base, "bureau1")
    bureau.goto(base + "/reviews/")
    bureau.click("#review-queue a")
    bureau.wait_for_load_state()
    assert "容量核查" in bureau.inner_text("main")
    bureau.fill("input[name=count-web]", "2")
    bureau.fill("textarea[name=comment]", "先开通两台，视负载再扩容")
    bureau.screenshot(path=str(SHOTS / "requests-review.png"), full_page=True)
    bureau.click("#approve")
    bureau.wait_for_load_state()
    assert bureau.inner_text("#request-state") == "已批准"
    dept.goto(detail_url)
    adjustment = dept.inner_text("#adjustment")
    assert "云主机 web" in adjustment and "数量" in adjustment and "3" in adjustment and "2" in adjustment
    dept.screenshot(path=str(SHOTS / "requests-detail-approved.png"), full_page=True)
    # the printable receipt (附件3) of the seeded provisioned request, and its signing
    dept.goto(base + f"/requests/receipts/{_seed.extra['receipt_id'][0]}")
    assert dept.inner_text("h1") == "政务云资源交付回执单"
    assert "尚未签收" in dept.inner_text("#receipt-confirmation")
    dept.click("#confirm-receipt")
    dept.wait_for_load_state()
    assert "a-user 于" in dept.inner_text("#receipt-confirmation")
    dept.screenshot(path=str(SHOTS / "requests-receipt.png"), full_page=True)
    assert problems == []
    bureau_context.close()
    context.close()
