"""The files of a project (issue 19): the 申报表, the annual plan and the dossier as XLSX (opened with
openpyxl) and PDF (read back with pdftotext), in Chinese, with the figures of the project."""
import io
import re
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.models.accounts import User
from portal.services import project_exports as ex
from tests.project_money_support import make_project, rich_project

# English words that may stay in a Chinese file: none but file formats and the hash's name
ALLOWED = {"SHA"}


def pdf_text(data, tmp_path):
    path = tmp_path / "file.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def english_words(text):
    """Words of four or more Latin letters, but for the data typed in (hashes, file name extensions)."""
    return sorted({w for w in re.findall(r"[A-Za-z]{4,}", text)
                   if w not in ALLOWED and not re.fullmatch(r"[0-9a-f]+", w) and w not in ("xlsx", "docx")})


def num(value):
    """A workbook's number as the decimal it was written from (openpyxl reads floats back)."""
    return Decimal(str(value))


def cells(workbook):
    return [str(c) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]


@pytest.fixture
def project(db_session, seed):
    return rich_project(db_session, seed)


def test_the_declaration_form(project, tmp_path):
    data, mimetype, name = ex.declaration(project, "xlsx")
    sheet = load_workbook(io.BytesIO(data))["申报表"]
    assert sheet["A1"].value == "酒泉市信息化及智慧城市建设项目申报表" and name.endswith("-declaration.xlsx")
    form = {row[0]: row[1] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert form["项目名称"] == "城市智慧停车平台" and form["申报单位"] == "甲局"
    assert num(form["投资估算（元）"]) == Decimal("1000000.00")  # a number in the workbook
    assert form["依托政务云部署运行（第四条）"] == "是" and form["项目责任人（第十三条）"] == "张责任"
    text = pdf_text(ex.declaration(project, "pdf")[0], tmp_path)
    for words in ("酒泉市信息化及智慧城市建设项目申报表", project.number, "城市智慧停车平台", "1,000,000.00",
                  "向共享交换平台提供泊位数据", "申报单位（盖章）", "市大数据管理局初审意见"):
        assert words in text, words
    assert english_words(text) == []


def test_the_annual_plan_lists_the_year_and_its_decision(db_session, seed, project, tmp_path):
    other = make_project(db_session, seed.dept_b, state="planned", name="乙局数据共享平台", plan_year=2026,
                         approved_estimate=None, estimate=Decimal("300000.00"))
    make_project(db_session, seed.dept_b, state="declared", name="未列入计划", plan_year=2026)  # not chosen yet
    make_project(db_session, seed.dept_b, state="planned", name="下一年度", plan_year=2027)
    bureau = db_session.scalar(select(User).where(User.id == seed.user_ids["bureau"]))
    data, _mimetype, name = ex.annual_plan(db_session, bureau, 2026, "xlsx")
    book = load_workbook(io.BytesIO(data))
    sheet = book["年度计划"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert sheet["A1"].value == "2026年度政府投资信息化及智慧城市项目建设计划" and name == "annual-plan-2026.xlsx"
    assert [r[3] for r in rows[:-1]] == [project.name, other.name]
    assert rows[-1][0] == "合计" and num(rows[-1][6]) == Decimal("1300000.00")
    notes = {r[0]: r[1] for r in book["说明"].iter_rows(min_row=3, values_only=True)}
    assert notes["市政府审定文号"] == "酒政发〔2025〕88号（2025-11-20）" and notes["计划状态"] == "市政府已审定"
    text = pdf_text(ex.annual_plan(db_session, bureau, 2026, "pdf")[0], tmp_path)
    for words in ("2026年度政府投资信息化及智慧城市项目建设计划", "城市智慧停车平台", "乙局数据共享平台", "1,300,000.00",
                  "酒政发〔2025〕88号", "提交市政府审定"):
        assert words in text, words
    assert "未列入计划" not in text and "下一年度" not in text
    assert english_words(text) == []


def test_the_dossier_has_every_part_of_the_project(db_session, project, tmp_path):
    data, _mimetype, _name = ex.dossier(db_session, project, "xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["基本信息", "决策记录", "项目文件", "资金", "合同", "支付", "投资变更", "应用系统", "政务云费用",
                               "可用率", "验收", "绩效评估"]
    money = {r[0]: r[1] for r in book["资金"].iter_rows(min_row=3, values_only=True)}
    assert [num(money[k]) for k in ("批复概算（元）", "当前有效投资（元）", "合同金额合计（元）", "已支付（元）",
                                   "政务云费用累计（元）")] == [Decimal(v) for v in ("1000000", "1000000", "900000",
                                                                            "270000", "321.45")]
    assert money["待审批的投资变更"] == "调整为 1,200,000.00 元，待市大数据管理局审批"
    contract = list(book["合同"].iter_rows(min_row=3, values_only=True))[0]
    assert contract[:3] == ("HT-2027-01", "平台开发", "甘肃某信息技术有限公司") and num(contract[3]) == 900000
    assert num(contract[6]) == Decimal("630000.00")  # unpaid
    assert [r[4] for r in book["投资变更"].iter_rows(min_row=3, values_only=True)] == ["待市大数据管理局批准"]
    systems = list(book["应用系统"].iter_rows(min_row=3, values_only=True))
    assert [(r[1], r[3]) for r in systems] == [("智慧停车", "已投入使用")]
    assert len(list(book["决策记录"].iter_rows(min_row=3))) == 7 and len(list(book["项目文件"].iter_rows(min_row=3))) == 4
    assert [r[0] for r in book["验收"].iter_rows(min_row=3, values_only=True)] == [1, 2]
    assert num(list(book["绩效评估"].iter_rows(min_row=3, values_only=True))[0][3]) == Decimal("86.50")
    assert english_words(" ".join(cells(book))) == []
    text = pdf_text(ex.dossier(db_session, project, "pdf")[0], tmp_path)
    for words in ("信息化项目档案：城市智慧停车平台", "审查、审批与决策记录", "酒发改审批〔2026〕12号", "可行性研究报告.pdf",
                  "HT-2027-01", "首付款30%", "+20.00%", "已投入使用", "2026年4月", "321.45", "完成等保测评",
                  "达到预期目标", "质量保修期", "2029-06-30"):
        assert words in text, words
    assert english_words(text) == []
