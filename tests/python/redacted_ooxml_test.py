"""Redacted .docx, .xlsx and .pptx copies, checked with independent readers.

    python tests/python/redacted_ooxml_test.py target/debug/mishen

Writes a Word document, a workbook and a PowerPoint deck with python-docx,
openpyxl and python-pptx (a phone number and a resident ID in body text, a
table cell, a header, a run split in the middle of the value, bold
formatting; text cells of two sheets, one of them bold; a slide and its
notes), runs `mishen screen --redact-to`, opens the copies with the same
libraries and checks: the copy is a package of its own format under the
input's name, no planted value is left anywhere in it (text, tables, headers,
notes, and every XML part's raw bytes), the masked text has as many
characters as the original, and the formatting of the runs is kept.
"""

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import docx
import openpyxl
from openpyxl.styles import Font
from pptx import Presentation
from pptx.util import Inches

PHONE = "13812345678"
RESIDENT_ID = "11010519491231002X"
PLANTED = [PHONE, RESIDENT_ID]


def make_docx(path: Path) -> None:
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = f"联系电话：{PHONE}"
    d.add_paragraph("关于办理政府信息公开申请的答复")
    p = d.add_paragraph("申请人身份证号码：")
    # The value split across two runs, the second one bold.
    p.add_run(RESIDENT_ID[:9])
    bold = p.add_run(RESIDENT_ID[9:])
    bold.bold = True
    p.add_run("，请予核实。")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text = "联系电话"
    t.cell(0, 1).text = "备注"
    t.cell(1, 0).text = PHONE
    t.cell(1, 1).text = "无"
    d.add_paragraph("现将有关情况答复如下。")
    d.save(path)


def docx_text(d) -> str:
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    for s in d.sections:
        parts.extend(p.text for p in s.header.paragraphs)
    return "\n".join(parts)


def make_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["序号", "姓名", "联系电话", "身份证号码"])
    ws.append([1, "欧阳春花", PHONE, RESIDENT_ID])
    ws["C2"].font = Font(bold=True)
    ws2 = wb.create_sheet("备注")
    ws2["A1"] = f"联系电话：{PHONE}"
    ws2["A2"] = "本表依申请公开。"
    wb.save(path)


def xlsx_text(wb) -> str:
    parts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            parts.extend("" if v is None else str(v) for v in row)
    return "\n".join(parts)


def make_pptx(path: Path) -> None:
    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    slide.shapes.title.text = "政府信息公开工作情况"
    box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(1)).text_frame
    box.text = f"联系电话：{PHONE}"
    slide.notes_slide.notes_text_frame.text = f"身份证号码：{RESIDENT_ID}"
    prs.save(path)


def pptx_text(prs) -> str:
    parts = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
        if slide.has_notes_slide:
            parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


def no_value_in_any_part(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            raw = z.read(name)
            for v in PLANTED:
                assert v.encode() not in raw, f"{path.name}: {v} left in {name}"


def main() -> None:
    mishen = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "in"
        out = tmp / "out"
        src.mkdir()
        make_docx(src / "reply.docx")
        make_pptx(src / "deck.pptx")
        make_xlsx(src / "list.xlsx")
        before_xlsx = xlsx_text(openpyxl.load_workbook(src / "list.xlsx"))
        before_docx = docx_text(docx.Document(src / "reply.docx"))
        before_pptx = pptx_text(Presentation(src / "deck.pptx"))
        for v in PLANTED:
            assert v in before_docx + before_pptx, "the planted values are in the inputs"
        r = subprocess.run([mishen, "screen", "--fail-on", "never", "--redact-to", str(out), str(src)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        manifest = [json.loads(line) for line in (out / "mishen-manifest.jsonl").read_text().splitlines()]
        by_name = {Path(e["path"]).name: e for e in manifest}
        for name in ["reply.docx", "deck.pptx", "list.xlsx"]:
            e = by_name[name]
            assert e["status"] == "written" and e["output"] == name and "text_copy" not in e, e
            no_value_in_any_part(out / name)

        d = docx.Document(out / "reply.docx")
        after = docx_text(d)
        for v in PLANTED:
            assert v not in after, f"{v} readable in the redacted docx"
        assert "■" in after
        assert len(after) == len(before_docx), "one mask character per character"
        assert "关于办理政府信息公开申请的答复" in after and "现将有关情况答复如下。" in after
        # The bold run is still bold, and masked.
        runs = [r for p in d.paragraphs for r in p.runs if r.bold]
        assert runs and all(set(r.text) <= {"■"} for r in runs), [r.text for r in runs]

        prs = Presentation(out / "deck.pptx")
        after = pptx_text(prs)
        for v in PLANTED:
            assert v not in after, f"{v} readable in the redacted pptx"
        assert "■" in after and len(after) == len(before_pptx)
        assert "政府信息公开工作情况" in after
        wb = openpyxl.load_workbook(out / "list.xlsx")
        after = xlsx_text(wb)
        for v in PLANTED:
            assert v not in after, f"{v} readable in the redacted xlsx"
        assert "■" in after and len(after) == len(before_xlsx), (after, before_xlsx)
        assert "本表依申请公开。" in after and "序号" in after
        assert wb["名单"]["C2"].font.bold and set(wb["名单"]["C2"].value) == {"■"}
    print("redacted docx/xlsx/pptx read by python-docx, openpyxl and python-pptx: ok")


if __name__ == "__main__":
    main()
