"""A large CSV read and validated in parts (issue 27 #4) gives what reading it whole gives: the same
evidence in file order, the same problems with the file's row numbers, the same problem rows."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from scoring.errors import EvidenceError, GongkaiError
from scoring.intake import parts
from scoring.intake.attachments import validate_attached
from scoring.intake.evidence import problem_report
from scoring.intake.tables import read_table
from tests.conftest import BACKENDS, fresh_database
from tests.test_evidence import scheme  # noqa: F401  (the fixture: 濟南市, 省發展改革委, obligations 1.1–6.3)

HEADER = "單位,任務編號,期間,發佈時間,分值,評估機構,網址,事件編號,發生時間,環節\n"


def rows(n: int) -> list[str]:
    """n valid rows: ratings of 6.2 by n assessors (one item each), alternating the two bodies."""
    return [f"{'濟南市' if i % 2 else '省發展改革委'},6.2,,,{i % 90},firm{i},,,," for i in range(n)]


def csv(lines: list[str], encoding: str = "utf-8") -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode(encoding)


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    """Parts of 4 KB read in blocks of 1 KB: a file of a few hundred rows spans many of both."""
    monkeypatch.setenv("GONGKAI_IMPORT_PART_BYTES", "4096")
    monkeypatch.setattr(parts, "BLOCK_BYTES", 1024)


def whole(scheme, data: bytes) -> pd.DataFrame:  # noqa: F811
    return validate_attached(read_table(data, "f.csv"), scheme, "f.csv", None)[0]


def as_text(ev: pd.DataFrame) -> pd.DataFrame:
    return ev.assign(**{c: ev[c].astype("str") for c in ev.columns if isinstance(ev[c].dtype, pd.CategoricalDtype)})


def test_a_valid_file_in_parts_is_the_file_read_whole(scheme):  # noqa: F811
    lines = rows(600)
    # the same item seen again far down (a sighting, numbered by date) and a row repeated (kept once)
    lines += ["濟南市,2.1,,2017-05-20,,,http://a/1,,,", "濟南市,2.1,,2017-05-10,,,http://a/2,,,",
              "濟南市,2.1,,2017-05-20,,,http://a/1,,,"]
    lines = lines[:5] + [",,,,,,,,,", " , ,,,,,,,,"] + lines[5:]  # empty rows keep their row numbers
    data = csv(lines)
    assert len(data) > 4 * 4096
    ev = parts.validate_in_parts(data, scheme, "f.csv")
    assert ev is not None
    expected = whole(scheme, data)
    pd.testing.assert_frame_equal(as_text(ev), expected)
    assert ev.attrs == expected.attrs == {"rows": 603, "sightings": 2}
    assert ev["row"].iloc[-2:].tolist() == [604, 605]  # row 606, a copy of row 604, is kept once
    assert ev.set_index("row").loc[[604, 605], "record"].tolist() == ["publication#2", "publication"]


def test_a_gb18030_file_in_parts(scheme):  # noqa: F811
    data = csv(rows(400), "gb18030")
    ev = parts.validate_in_parts(data, scheme, "f.csv")
    assert ev is not None
    pd.testing.assert_frame_equal(as_text(ev), whole(scheme, data))


def test_problems_name_the_file_rows_across_parts(scheme):  # noqa: F811
    lines = rows(500)
    lines[300] = "省發展改革委,6.2,,,150,firm300,,,,"  # row 302
    lines[420] = "某某市,6.2,,,1,firm420,,,,"  # row 422
    lines.append("濟南市,6.2,,,2,firm7,,,,")  # row 502: firm7 rated 濟南市 7 in row 9
    data = csv(lines)
    with pytest.raises(parts.PartsRefused) as caught:
        parts.validate_in_parts(data, scheme, "f.csv")
    with pytest.raises(EvidenceError) as read_whole:
        whole(scheme, data)
    got = caught.value.problems
    assert list(got) == list(read_whole.value.problems)
    assert [(p.row, p.column, p.value) for p in got] == [(302, "value", "150"), (422, "body", "某某市"),
                                                          (502, "value", "2")]
    assert got[0].reason == "a rating is between 0 and 100"
    assert got[2].reason.startswith("this assessor already gave this item another value in row 9")
    report = problem_report(read_table(data, "f.csv"), read_whole.value.problems).reset_index(drop=True)
    pd.testing.assert_frame_equal(caught.value.rows, report)
    assert caught.value.rows["行號 row"].tolist() == [302, 422, 502]


def test_a_cell_too_long_is_refused_before_any_row_is_checked(scheme, monkeypatch):  # noqa: F811
    monkeypatch.setattr(parts, "BLOCK_BYTES", 8192)  # a block holds the long row
    lines = rows(400)
    lines[350] = "濟南市,6.2,,,1,firm350,http://a/" + "x" * 2100 + ",,,"
    lines[10] = "某某市,6.2,,,1,firm10,,,,"
    data = csv(lines)
    with pytest.raises(EvidenceError) as caught:
        parts.validate_in_parts(data, scheme, "f.csv")
    assert not isinstance(caught.value, parts.PartsRefused)
    assert [(p.row, p.column) for p in caught.value.problems] == [(352, "url")]
    with pytest.raises(EvidenceError) as read_whole:
        read_table(data, "f.csv")
    assert list(caught.value.problems) == list(read_whole.value.problems)


def test_small_odd_and_changed_files(scheme, tmp_path, monkeypatch):  # noqa: F811
    assert parts.validate_in_parts(csv(rows(3)), scheme, "f.csv") is None  # under a part: read whole
    ragged = csv(rows(400)[:200] + ["濟南市,6.2"] + rows(400)[200:])
    assert parts.validate_in_parts(ragged, scheme, "f.csv") is None  # pyarrow would not read it as pandas does
    blank = csv(rows(400)[:200] + [""] + rows(400)[200:])  # a blank line is a row, as read whole
    ev = parts.validate_in_parts(blank, scheme, "f.csv")
    assert ev is not None and ev["row"].iloc[199:201].tolist() == [201, 203]
    pd.testing.assert_frame_equal(as_text(ev), whole(scheme, blank))
    file = tmp_path / "f.csv"
    file.write_bytes(csv(rows(400)))
    with pytest.raises(GongkaiError, match="f.csv changed while it was being imported"):
        parts.validate_in_parts(file, scheme, "f.csv", digest="0" * 64)


def test_an_import_in_parts_stores_and_refuses_what_reading_whole_does(scheme, tmp_path, monkeypatch):  # noqa: F811
    """Through `import_file` from a path, as `gongkai import` runs it: the refused file's problems file, and
    the stored evidence (ids, values, provenance but the time) of the valid file, then of a second file
    replacing some of it, are the same read in parts or whole."""
    from scoring import workflows
    from scoring.store.accounts import Actor

    (tmp_path / "s.yaml").write_text(scheme.text, encoding="utf-8")
    bad, first, second = tmp_path / "bad.csv", tmp_path / "first.csv", tmp_path / "second.csv"
    lines = rows(500)
    bad.write_bytes(csv(lines[:300] + ["某某市,6.2,,,1,firmX,,,,"] + lines[300:] + ["濟南市,6.2,,,2,firm7,,,,"]))
    first.write_bytes(csv(lines))
    second.write_bytes(csv([line.replace(",firm1", ",firm1x") for line in lines[:480]]))
    seen = {}
    validated, original = [], parts._validate_parts
    monkeypatch.setattr(parts, "_validate_parts", lambda *a: validated.append(a[1]) or original(*a))
    for how, size in (("parts", "4096"), ("whole", str(10**9))):
        monkeypatch.setenv("GONGKAI_IMPORT_PART_BYTES", size)
        monkeypatch.setenv("GONGKAI_SNAPSHOTS", str(tmp_path / f"{how}-snapshots"))
        db = f"sqlite:///{tmp_path / how}.db"
        local = Actor("t", None)
        workflows.load_scheme_file(db, actor=local, path=tmp_path / "s.yaml")
        with pytest.raises(workflows.ImportRefused) as refused:
            workflows.import_file(db, actor=local, name="bad.csv", data=bad)
        results = [workflows.import_file(db, actor=local, name=f.name, data=f) for f in (first, second)]
        stored = workflows.evidence(db, actor=local, scheme_id=scheme.id)
        seen[how] = (refused.value.problems_file(), results,
                     stored.drop(columns=[c for c in stored.columns if "imported_at" in c or c == "at"]))
    assert len(validated) == 3 and all(len(paths) > 1 for paths in validated)  # the three files, in parts
    assert seen["parts"][0] == seen["whole"][0]
    report = pd.read_csv(io.BytesIO(seen["parts"][0]), encoding="utf-8-sig", dtype=str)
    assert report["行號 row"].tolist() == ["302", "503"]
    assert report["問題 problems"].iloc[1].startswith("value: this assessor already gave this item another value in row 9")
    assert seen["parts"][1] == seen["whole"][1]
    again = seen["parts"][1][1]  # firm1, firm10–19, firm100–199 renamed: new items; the others unchanged
    assert (again.total, again.new, again.replaced, again.unchanged, again.withdrawn) == (480, 111, 0, 369, 0)
    pd.testing.assert_frame_equal(seen["parts"][2], seen["whole"][2])
    assert len(seen["parts"][2]) == 611


def _state(db: str) -> tuple[list, list, list]:
    """The stored records, their history and the batches, as rows (times left out)."""
    from sqlalchemy import text

    from scoring.store.db import engine_for

    with engine_for(db).connect() as con:
        return (con.execute(text("SELECT id, body, obligation, assessor, record, value, url, published_at, batch_id,"
                                 " rejected, pending FROM evidence ORDER BY id")).all(),
                # history rows are written a part at a time: their own ids follow the parts
                con.execute(text("SELECT evidence_id, value, url, batch_id, replaced_by FROM evidence_history"
                                 " ORDER BY evidence_id, id")).all(),
                con.execute(text("SELECT id, file_name, rows_total, rows_new, rows_replaced, rows_unchanged"
                                 " FROM import_batch ORDER BY id")).all())


@pytest.mark.parametrize("backend", BACKENDS)
def test_replacing_and_withdrawing_a_part_at_a_time(scheme, tmp_path, monkeypatch, backend, request):  # noqa: F811
    """A second file that changes values and drops a sighting, imported a part at a time inside the one
    transaction: the same records, history, batches and audit counts as reading it whole; and a failure
    while its last part's new records are inserted leaves the database as it was (all or nothing)."""
    from scoring import workflows
    from scoring.store import repository
    from scoring.store.accounts import Actor

    (tmp_path / "s.yaml").write_text(scheme.text, encoding="utf-8")
    sightings = ["濟南市,2.1,,2017-05-20,,,http://a/1,,,", "濟南市,2.1,,2017-05-10,,,http://a/2,,,",
                 "濟南市,2.1,,2017-05-30,,,http://a/3,,,"]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_bytes(csv(rows(500) + sightings))
    changed = [f"{'濟南市' if i % 2 else '省發展改革委'},6.2,,,{(i + 1) % 90},firm{i},,,," for i in range(40)]
    second.write_bytes(csv(changed + rows(560)[40:] + sightings[:2]))  # 40 new values, 60 new items, a sighting gone
    imported, original = [], repository.import_parts
    monkeypatch.setattr(repository, "import_parts", lambda *a, **k: imported.append(1) or original(*a, **k))
    seen, dbs = {}, {}
    for how, size in (("parts", "4096"), ("whole", str(10**9))):
        monkeypatch.setenv("GONGKAI_IMPORT_PART_BYTES", size)
        db, drop = fresh_database(backend, tmp_path)
        request.addfinalizer(drop)
        dbs[how] = db
        local = Actor("t", None)
        workflows.load_scheme_file(db, actor=local, path=tmp_path / "s.yaml")
        results = [workflows.import_file(db, actor=local, name=f.name, data=f) for f in (first, second)]
        audit = workflows.audit_entries(db, actor=local)
        seen[how] = (results, _state(db), sorted(audit.loc[audit["action"].isin(["import", "replace"]), "detail"]))
    assert len(imported) == 2  # the two files, a part at a time
    assert seen["parts"] == seen["whole"]
    result = seen["parts"][0][1]
    assert (result.total, result.new, result.replaced, result.unchanged, result.withdrawn) == (562, 60, 40, 462, 1)
    records, history, batches = seen["parts"][1]
    assert len(records) == 563 and len(history) == 40 and batches[-1][2:] == (562, 60, 40, 462)
    assert [r[9].startswith("withdrawn:") for r in records].count(True) == 1

    # all or nothing: the last part's insert fails after the replacements were written — nothing is kept
    monkeypatch.setenv("GONGKAI_IMPORT_PART_BYTES", "4096")
    db = dbs["parts"]
    third = tmp_path / "third.csv"
    third.write_bytes(csv(changed[:20] + rows(620)[20:]))
    before = _state(db)
    calls, insert = [], repository._insert_new

    def failing(*a, **k):
        calls.append(1)
        if len(calls) == 2:  # the second part's (of two: 濟南市 and 省發展改革委 rows)
            raise RuntimeError("disk full")
        return insert(*a, **k)
    monkeypatch.setattr(repository, "_insert_new", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        workflows.import_file(db, actor=Actor("t", None), name="third.csv", data=third)
    assert len(calls) == 2 and _state(db) == before
    monkeypatch.setattr(repository, "_insert_new", insert)
    result = workflows.import_file(db, actor=Actor("t", None), name="third.csv", data=third)
    assert (result.new, result.replaced) == (60, 20) and _state(db) != before
