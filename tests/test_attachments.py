"""Preserved evidence (取證留存): attachments in a .zip or a folder, checked by their first bytes,
stored once by sha256, part of the record and its history; a bad file refuses the whole import."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlmodel import Session, select

from scoring import workflows
from scoring.intake import attachments as intake
from scoring.store.accounts import Actor
from scoring.store.db import engine_for
from scoring.store.models import Attachment, Evidence, EvidenceHistory
from tests.cli import clean_env, gongkai
from tests.conftest import SCHEME_2017

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\n1 0 obj"
HTML = b"<!DOCTYPE html><html><body>\xe5\x85\xac\xe5\xbc\x80</body></html>"
MHTML = b"From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n"
WARC = b"WARC/1.1\r\nWARC-Type: response\r\n"
ME = Actor("tester", None)
TABLE = "單位,任務編號,發佈時間,附件\n濟南市,6.7,2017-06-10,shots/jinan.png\n青島市,6.7,2017-06-12,qingdao.pdf\n"


@pytest.mark.parametrize(("data", "kind"), [
    (PNG, "PNG"), (JPEG, "JPEG"), (PDF, "PDF"), (HTML, "HTML"), (b"\n  <html><head>", "HTML"),
    (MHTML, "MHTML"), (WARC, "WARC"), (__import__("gzip").compress(WARC, mtime=0), "WARC"),
    (b"GIF89a", None), (b"just text", None), (b"", None)])
def test_sniff(data, kind):
    assert intake.sniff(data) == kind


def _zip(table: str, files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("evidence.csv", (2017, 6, 1, 9, 0, 0)), table.encode("utf-8"))
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, (2017, 6, 11, 10, 30, 0)), data)
    return out.getvalue()


@pytest.fixture()
def site(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_ATTACHMENTS", str(tmp_path / "store"))
    workflows.load_scheme_file(db_url, actor=ME, path=SCHEME_2017)
    return db_url, tmp_path / "store"


def _records(url):
    with Session(engine_for(url)) as s:
        return list(s.exec(select(Evidence).order_by(Evidence.id)))  # type: ignore[arg-type]


def test_zip_import_stores_each_file_once_by_sha256(site):
    url, store = site
    bundle = _zip(TABLE + "煙台市,6.7,2017-06-13,shots/jinan.png\n",
                  {"shots/jinan.png": PNG, "qingdao.pdf": PDF})
    result = workflows.import_file(url, actor=ME, name="round1.zip", data=bundle)
    assert (result.new, result.total) == (3, 3)
    rows = {r.body: r for r in _records(url)}
    png, pdf = hashlib.sha256(PNG).hexdigest(), hashlib.sha256(PDF).hexdigest()
    assert (rows["jinan"].attachment, rows["qingdao"].attachment, rows["yantai"].attachment) == (png, pdf, png)
    assert str(rows["jinan"].captured_at) == "2017-06-11 10:30:00"
    assert sorted(p.name for p in store.rglob("*") if p.is_file()) == sorted([png, pdf])
    assert (store / png[:2] / png[2:4] / png).read_bytes() == PNG
    with Session(engine_for(url)) as s:
        kept = {a.sha256: (a.size, a.kind, a.name) for a in s.exec(select(Attachment))}
    assert kept == {png: (len(PNG), "PNG", "shots/jinan.png"), pdf: (len(PDF), "PDF", "qingdao.pdf")}
    again = workflows.import_file(url, actor=ME, name="round1.zip", data=bundle)
    assert (again.new, again.unchanged) == (0, 3)


def test_a_new_attachment_keeps_the_old_one_in_history(site):
    url, _ = site
    workflows.import_file(url, actor=ME, name="a.zip", data=_zip(TABLE, {"shots/jinan.png": PNG, "qingdao.pdf": PDF}))
    later = _zip(TABLE.replace("shots/jinan.png", "jinan.jpg"), {"jinan.jpg": JPEG, "qingdao.pdf": PDF})
    result = workflows.import_file(url, actor=ME, name="b.zip", data=later)
    assert (result.replaced, result.unchanged) == (1, 1)
    with Session(engine_for(url)) as s:
        old = list(s.exec(select(EvidenceHistory)))
    assert [(h.attachment, str(h.captured_at)) for h in old] == [(hashlib.sha256(PNG).hexdigest(), "2017-06-11 10:30:00")]
    assert {r.body: r.attachment for r in _records(url)}["jinan"] == hashlib.sha256(JPEG).hexdigest()


def test_bad_files_are_row_problems_and_nothing_is_imported(site, monkeypatch):
    url, store = site
    monkeypatch.setattr(intake, "MAX_ATTACHMENT_BYTES", 100)
    table = ("單位,任務編號,發佈時間,附件\n"
             "濟南市,6.7,2017-06-10,gone.png\n"          # row 2: missing
             "青島市,6.7,2017-06-12,big.pdf\n"           # row 3: too large
             "煙台市,6.7,2017-06-13,fake.png\n"          # row 4: an HTML page named .png
             "濰坊市,6.7,2017-06-13,../etc/passwd.png\n"  # row 5: outside the bundle
             "淄博市,6.7,2017-06-13,notes.txt\n"          # row 6: not an attachment type
             "東營市,6.7,2017-06-13,ok.png\n")           # row 7: fine
    bundle = _zip(table, {"big.pdf": PDF + b"x" * 200, "fake.png": HTML, "ok.png": PNG, "notes.txt": b"hi"})
    with pytest.raises(workflows.ImportRefused) as e:
        workflows.import_file(url, actor=ME, name="bad.zip", data=bundle)
    got = [(p.row, p.column, p.value, p.reason) for p in e.value.problems]
    assert got == [
        (2, "attachment", "gone.png", "missing: no such file in the bundle"),
        (3, "attachment", "big.pdf", "too large: 220 bytes, the limit is 100 bytes"),
        (4, "attachment", "fake.png", "not a PNG file: its content is HTML"),
        (5, "attachment", "../etc/passwd.png", "not a plain file name inside the bundle (no absolute paths, no ..)"),
        (6, "attachment", "notes.txt", got[4][3]),
    ]
    assert got[4][3].startswith("not an attachment type: HTML, JPEG, MHTML, PDF, PNG, WARC")
    assert _records(url) == [] and not store.exists()


def test_row_and_attachment_problems_are_reported_together(site):
    url, _ = site
    bundle = _zip("單位,任務編號,發佈時間,附件\n上海市,6.7,2017-06-10,a.png\n濟南市,6.7,2017-06-10,b.png\n", {})
    with pytest.raises(workflows.ImportRefused) as e:
        workflows.import_file(url, actor=ME, name="x.zip", data=bundle)
    assert [(p.row, p.column) for p in e.value.problems] == [(2, "attachment"), (2, "body"), (3, "attachment")]


def test_a_table_naming_files_needs_them(site):
    url, _ = site
    with pytest.raises(workflows.ImportRefused) as e:
        workflows.import_file(url, actor=ME, name="t.csv", data=TABLE.encode())
    assert e.value.problems[0].reason.startswith("the row names an attachment but the import has none")


def test_cli_imports_a_table_with_an_attachments_folder(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    folder = tmp_path / "files"
    (folder / "shots").mkdir(parents=True)
    (folder / "shots" / "jinan.png").write_bytes(PNG)
    (folder / "qingdao.pdf").write_bytes(PDF)
    csv = tmp_path / "e.csv"
    csv.write_text(TABLE, encoding="utf-8")
    env = clean_env()

    def gk(*args):
        return gongkai(*args, "--db", url, env=env)

    assert gk("criteria", "load", str(SCHEME_2017)).returncode == 0
    r = gk("import", str(csv), "--attachments", str(folder))
    assert r.returncode == 0, r.stderr
    assert "imported 2 new" in r.stdout
    png = hashlib.sha256(PNG).hexdigest()
    assert (tmp_path / "attachments" / png[:2] / png[2:4] / png).exists()  # beside the SQLite file
    r = gk("import", str(csv), "--attachments", str(tmp_path / "nope"))
    assert r.returncode == 1 and "--attachments: no such folder" in r.stderr


def _lying(bundle: bytes, name: str, declared: int) -> bytes:
    """The bundle with `name`'s uncompressed size patched to `declared` in its local header and its
    central directory entry (a zip bomb's header: 1,000 bytes said, megabytes of deflate held)."""
    import struct

    info = zipfile.ZipFile(io.BytesIO(bundle)).getinfo(name)
    data = bytearray(bundle)
    struct.pack_into("<I", data, info.header_offset + 22, declared)  # local header: uncompressed size
    central = -1
    while True:  # the central directory entry of `name`
        central = data.index(b"PK\x01\x02", central + 1)
        length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46:central + 46 + length]) == name.encode():
            break
    struct.pack_into("<I", data, central + 24, declared)
    return bytes(data)


def _bomb(size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("evidence.csv", (2017, 6, 1, 9, 0, 0)), TABLE.encode("utf-8"))
        z.writestr(zipfile.ZipInfo("shots/jinan.png", (2017, 6, 11, 10, 30, 0)), PNG + bytes(size),
                   zipfile.ZIP_DEFLATED)
        z.writestr(zipfile.ZipInfo("qingdao.pdf", (2017, 6, 11, 10, 30, 0)), PDF)
    return _lying(out.getvalue(), "shots/jinan.png", 1000)


def test_an_entry_holding_more_than_its_header_says_is_a_row_problem_on_the_command_line(tmp_path):
    """A zip entry whose header says 1,000 bytes but holds megabytes: the row names the entry and
    says why, exit 1, no traceback (was: BadZipFile 'Bad CRC-32' and the whole entry in memory)."""
    url = f"sqlite:///{tmp_path / 'g.db'}"
    bundle = tmp_path / "bomb.zip"
    bundle.write_bytes(_bomb(4 * 1024 * 1024))
    env = clean_env()
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", url, env=env).returncode == 0
    r = gongkai("import", str(bundle), "--db", url, env=env)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "BadZipFile" not in r.stderr
    assert "shots/jinan.png" in r.stderr
    assert ("unreadable in the .zip: its content does not match its header (Bad CRC-32 for file "
            "'shots/jinan.png'); the bundle is damaged or altered — send it again") in r.stderr


def test_a_lying_entry_is_read_only_to_its_declared_size():
    """Memory stays bounded: reading the lying entry stops at its declared 1,000 bytes (the 40 MB of
    zeros behind it are never decompressed whole), and a lying table is refused by name too."""
    import tracemalloc

    files = intake.ZipFiles(zipfile.ZipFile(io.BytesIO(_bomb(40 * 1024 * 1024))))
    tracemalloc.start()
    with pytest.raises(intake.BadEntry, match="Bad CRC-32"):
        files.read("shots/jinan.png")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("evidence.csv", TABLE.encode("utf-8") * 1000)
    with pytest.raises(intake.EvidenceError) as e:
        intake.open_bundle(_lying(out.getvalue(), "evidence.csv", 100), "t.zip")
    [p] = e.value.problems
    assert (p.row, p.column, p.value) == (1, "file", "evidence.csv") and "Bad CRC-32" in p.reason


def test_the_report_appendix_names_each_late_or_missing_findings_file(site, tmp_path):
    """The appendix, as written to xlsx, docx and html: a late finding's evidence with its file's name,
    size, capture time and sha256; a late one without a file and a missing one say 'no attachment'."""
    import pandas as pd
    from docx import Document

    url, _ = site
    table = "單位,任務編號,發佈時間,附件\n濟南市,6.7,2017-12-01,shots/jinan.png\n青島市,6.7,2017-12-01,\n"
    workflows.import_file(url, actor=ME, name="late.zip", data=_zip(table, {"shots/jinan.png": PNG}))
    outs = [tmp_path / "r.xlsx", tmp_path / "r.docx", tmp_path / "r.html"]
    done = workflows.write_report(url, actor=ME, outs=outs)
    assert done.failed == []
    png = hashlib.sha256(PNG).hexdigest()
    described = f"shots/jinan.png，{len(PNG)} B，取证 2017-06-11 10:30"

    sheet = pd.read_excel(outs[0], sheet_name="缺失与逾期", engine="calamine", header=None, dtype=str).fillna("")
    rows = sheet.to_numpy().tolist()
    head = rows[0]
    by = {(r[head.index("单位")], r[head.index("任务编号")]): r for r in rows[1:]}
    file, sha = head.index("留存附件"), head.index("附件 SHA-256")
    assert (by["济南市", "6.7"][head.index("结果")], by["济南市", "6.7"][file], by["济南市", "6.7"][sha]) == (
        "逾期", described, png)
    assert (by["青岛市", "6.7"][head.index("结果")], by["青岛市", "6.7"][file], by["青岛市", "6.7"][sha]) == (
        "逾期", "无附件", "")
    assert (by["烟台市", "6.7"][head.index("结果")], by["烟台市", "6.7"][file]) == ("缺失", "无附件")

    appendix = Document(str(outs[1])).tables[-1]
    cells = {(r.cells[0].text, r.cells[1].text): r.cells[-1].text for r in appendix.rows}
    assert appendix.rows[0].cells[-1].text == "留存附件"
    assert cells["济南市", "6.7"] == f"{described} SHA-256 {png}"
    assert (cells["青岛市", "6.7"], cells["烟台市", "6.7"]) == ("无附件", "无附件")

    page = outs[2].read_text(encoding="utf-8")
    assert f"<td class=\"wrap\">{described}</td><td class=\"brk\">{png}</td>" in page
