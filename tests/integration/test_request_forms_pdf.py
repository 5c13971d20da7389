"""附件1 and 附件2 as printable PDFs (issue 17): a new request's 市政务云资源需求申请表 with its
resources, documents and signature lines; a change's 变更/注销申请单 with what changes; a decommission's
with what is deleted. Read back with pdftotext; another department gets 404."""
import subprocess

from portal.models.requests import ResourceRequest

SPEC = {"servers": [{"name": "web", "flavor": "m1.small", "image": "cirros-devcloud", "count": 2}],
        "volumes": [{"name": "data", "size_gb": 50, "attach_to": "web-1"}],
        "rules": [{"port": "443", "protocol": "tcp", "source": "10.0.0.0/8"}], "floating_ips": 1,
        "bandwidth_mbps": 100}


def _text(data, tmp_path):
    path = tmp_path / "form.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_form_1_and_form_2_print_as_the_regulation_lays_them_out(app, seed, login_as, db_session, tmp_path):
    draft_id = seed.extra["request_id"][0]
    draft = db_session.get(ResourceRequest, draft_id)
    draft.spec, draft.purpose, draft.security_level = SPEC, "网上办事", 3
    system = ResourceRequest(number="ZWY-T-PDF-1", department_id=seed.dept_a, system_name="办公系统",
                             state="provisioned", spec=SPEC, approved_spec=SPEC)
    db_session.add(system)
    db_session.flush()
    bigger = {**SPEC, "servers": [{**SPEC["servers"][0], "flavor": "m1.medium"}]}
    change = ResourceRequest(number="ZWY-T-PDF-2", kind="change", department_id=seed.dept_a, system_id=system.id,
                             system_name="办公系统", spec=bigger, reason="访问量增加")
    retire = ResourceRequest(number="ZWY-T-PDF-3", kind="decommission", department_id=seed.dept_a,
                             system_id=system.id, system_name="办公系统", spec={}, reason="系统下线",
                             migration_note="数据已迁移至新平台")
    db_session.add_all([change, retire])
    db_session.commit()
    dept = login_as("dept")

    response = dept.get(f"/requests/{draft_id}/form.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    form1 = _text(response.data, tmp_path)
    for words in ("市政务云资源需求申请表", "办公系统", "网上办事", "m1.small", "cirros-devcloud", "50 GB",
                  "100 Mbps", "建设方案", "自测报告", "443", "申请单位（盖章）"):
        assert words in form1, words
    assert f'href="/requests/{draft_id}/form.pdf"' in dept.get(f"/requests/{draft_id}").get_data(as_text=True)

    form2 = _text(dept.get(f"/requests/{change.id}/form.pdf").data, tmp_path)
    assert "变更/注销申请单" in form2 and "访问量增加" in form2 and "m1.medium" in form2 and "m1.small" in form2
    retired = _text(dept.get(f"/requests/{retire.id}/form.pdf").data, tmp_path)
    assert "变更/注销申请单" in retired and "数据已迁移至新平台" in retired and "已删除" in retired

    assert login_as("dept_b").get(f"/requests/{draft_id}/form.pdf").status_code == 404
    assert login_as("bureau").get(f"/requests/{draft_id}/form.pdf").status_code == 200


def test_a_name_with_markup_characters_prints_as_written(app, seed, login_as, db_session, tmp_path):
    """The PDF renderer reads text as markup: a system called 「A&B <新>」 once gave a 500 instead of the form."""
    draft = db_session.get(ResourceRequest, seed.extra["request_id"][0])
    draft.spec, draft.system_name, draft.purpose = SPEC, "A&B <新>系统", "第一行\n第二行 <b>"
    db_session.commit()
    response = login_as("dept").get(f"/requests/{draft.id}/form.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _text(response.data, tmp_path)
    assert "A&B <新>系统" in text and "<b>" in text
