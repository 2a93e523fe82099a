"""Year over year through a crosswalk (issue 25): two small schemes whose every number is worked out by
hand below — a city merged into another (weights 3:1), a department renamed, an obligation dropped and
one added — through the real commands; and the crosswalk's accounting checked against its predecessor.

2017 (points o1 2, o2 1, o3 1; deadlines 2017-06-30; late counts half):
  a: o1 on time, o2 missing, o3 on time → 3/4 = 75.00; on the shared o1+o2: 2/3 = 66.67
  b: o1 missing, o2 on time, o3 missing → 1/4 = 25.00; shared: 1/3 = 33.33
  c: o1 missing, o2 on time, o3 missing → 25.00;        shared: 33.33
  d: all on time                        → 100.00;       shared: 100.00
2018 (o3 dropped, o4 new, 1 point; b merged into a, d renamed e):
  a: o1 missing, o2 on time, o4 on time → 2/4 = 50.00; shared: 1/3 = 33.33
  c: o1 on time, o2 on time, o4 missing → 3/4 = 75.00; shared: 3/3 = 100.00
  e: o1 on time, o2 late, o4 on time    → 3.5/4 = 87.50; shared: 2.5/3 = 83.33
a's previous result: 0.75 × 75 + 0.25 × 25 = 62.50 (shared: 0.75 × 66.67 + 0.25 × 33.33 = 58.33).
Cities ranked: 2018 c 1, a 2; 2017 (the same bodies) a 1 (62.5), c 2 (25) → a −1, c +1.
Lost in both years: a's o1 (50.00 score points now; b lost o1 in 2017: 50.00)."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from scoring import workflows
from scoring.store.accounts import Actor
from tests.cli import gongkai
from tests.conftest import HEADER, fresh_database

ROOT = Actor("setup", None)
DEADLINE = [{"kind": "deadline", "due": "2017-06-30"}]


def _ob(ident: str, points: int) -> dict:
    return {"id": ident, "section": ["一"], "title": f"任務{ident}", "source": "—", "applies_to": ["city", "department"],
            "points": points, "rules": DEADLINE}


def _scheme(folder, ident, year, bodies, obligations, lineage=None):
    doc = {"scheme": {**HEADER, "id": ident, "issued": f"{year}-05-04",
                      "period": {"start": f"{year}-01-01", "end": f"{year}-12-31"}},
           "bodies": [{"id": b, "name": f"{b}市" if kind == "city" else f"省{b}廳", "kind": kind} for b, kind in bodies],
           "obligations": obligations}
    if lineage:
        doc["lineage"] = lineage
    text = yaml.safe_dump(doc, allow_unicode=True).replace("2017-06-30", f"{year}-06-30")
    path = folder / f"{ident}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


LINEAGE = {"previous": "y2017",
           "bodies": [{"from": ["a", "b"], "to": "a", "change": "merged", "on": "2018-01-01", "weights": [3, 1]},
                      {"from": "d", "to": "e", "change": "renamed", "on": "2018-10-27"}],
           "obligations": [{"from": "o3", "change": "dropped"}, {"to": "o4", "change": "new"}]}


def _evidence(rows: dict[str, dict[str, str]]) -> bytes:
    when = {"on": "-06-01", "late": "-07-15"}
    lines = ["單位,任務編號,發佈時間"]
    for body, found in rows.items():
        lines += [f"{body},{ob},{found['year']}{when[state]}" for ob, state in found.items() if ob != "year"]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture()
def two_years(tmp_path):
    url, _ = fresh_database("sqlite", tmp_path)
    first = _scheme(tmp_path, "y2017", 2017, [("a", "city"), ("b", "city"), ("c", "city"), ("d", "department")],
                    [_ob("o1", 2), _ob("o2", 1), _ob("o3", 1)])
    second = _scheme(tmp_path, "y2018", 2018, [("a", "city"), ("c", "city"), ("e", "department")],
                     [_ob("o1", 2), _ob("o2", 1), _ob("o4", 1)], LINEAGE)
    workflows.load_scheme_file(url, actor=ROOT, path=first)
    workflows.import_file(url, actor=ROOT, name="2017.csv", scheme_id="y2017", data=_evidence({
        "a": {"year": "2017", "o1": "on", "o3": "on"}, "b": {"year": "2017", "o2": "on"},
        "c": {"year": "2017", "o2": "on"}, "d": {"year": "2017", "o1": "on", "o2": "on", "o3": "on"}}))
    workflows.publish(url, actor=ROOT, stage="preliminary", scheme_id="y2017", today=dt.date(2018, 1, 8))
    workflows.publish(url, actor=ROOT, stage="final", scheme_id="y2017", today=dt.date(2018, 1, 22))
    workflows.load_scheme_file(url, actor=ROOT, path=second)
    workflows.import_file(url, actor=ROOT, name="2018.csv", scheme_id="y2018", data=_evidence({
        "a": {"year": "2018", "o2": "on", "o4": "on"}, "c": {"year": "2018", "o1": "on", "o2": "on"},
        "e": {"year": "2018", "o1": "on", "o2": "late", "o4": "on"}}))
    return url, tmp_path


def test_changes_ranks_and_comparable_scores_by_hand(two_years):
    url, _ = two_years
    r = gongkai("compare", "--db", url, "--format", "csv")  # the newest of the lineage is the default scheme
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "body,name,kind,score,rank,previous_score,previous_rank,change,rank_change,comparable,comparable_previous,comparable_change",
        "a,a市,city,50.00,2,62.50,1,-12.50,-1,33.33,58.33,-25.00",
        "c,c市,city,75.00,1,25.00,2,50.00,1,100.00,33.33,66.67",
        "e,省e廳,department,87.50,1,100.00,1,-12.50,0,83.33,100.00,-16.67"]


def test_recurring_problems_trend_and_most_improved(two_years):
    url, _ = two_years
    yoy = workflows.year_over_year(url, actor=ROOT)
    assert yoy is not None and yoy.previous == "y2017"
    assert yoy.recurring[["body", "obligation", "gap", "gap_before"]].round(2).values.tolist() == [["a", "o1", 50.0, 50.0]]
    assert yoy.improved[["kind", "body"]].values.tolist() == [["city", "c"]]  # e fell: no department improved
    trend = yoy.trend[yoy.trend["body"] == "a"][["year", "score"]].round(2).values.tolist()
    assert trend == [[2017, 62.5], [2018, 50.0]]


def test_the_crosswalk_accounts_for_every_previous_body_and_obligation(two_years, tmp_path):
    url, folder = two_years
    broken = dict(LINEAGE, bodies=[LINEAGE["bodies"][1]], obligations=[{"from": "o9", "change": "dropped"}])
    path = _scheme(folder, "y2018b", 2018, [("a", "city"), ("c", "city"), ("e", "department")],
                   [_ob("o1", 2), _ob("o2", 1), _ob("o4", 1)], broken)
    r = gongkai("criteria", "check", str(path))  # y2017.yaml lies beside it: checked against it
    assert r.returncode == 1
    for fault in ("lineage.bodies: not accounted for — b of y2017", "lineage.obligations: not accounted for — o3 of y2017",
                  "lineage.obligations: 'o9' is not in y2017"):
        assert fault in r.stderr, r.stderr
    shape = _scheme(folder, "y2018c", 2018, [("a", "city")], [_ob("o1", 2)],
                    {"previous": "y2017", "obligations": [{"from": "o1", "to": ["o1", "o4"], "change": "renamed"}]})
    r = gongkai("criteria", "check", str(shape))
    assert r.returncode == 1 and "lineage.obligations o1 → o1+o4: renamed links 1 previous id(s) to 1" in r.stderr
    assert "'o4' is not an obligation of this scheme" in r.stderr
    load = gongkai("criteria", "load", str(path), "--db", url)  # and against the stored y2017 when loaded
    assert load.returncode == 1 and "not accounted for — b of y2017" in load.stderr


def test_without_a_previous_final_there_is_nothing_to_compare(tmp_path):
    url, _ = fresh_database("sqlite", tmp_path)
    workflows.load_demo(url, actor=ROOT)
    r = gongkai("compare", "--db", url)
    assert r.returncode == 1 and "no year to compare with" in r.stderr


def test_the_demos_second_year(tmp_path):
    """`demo --years 2`: 2017's final result published on the demo's dates, the synthetic second year
    stored beside it with its crosswalk — 濟南 compared with 濟南 and 萊蕪 weighted 0.842 : 0.158."""
    url, _ = fresh_database("sqlite", tmp_path)
    r = gongkai("demo", "--years", "2", "--db", url)
    assert r.returncode == 0, r.stderr
    assert "synthetic second year (synthetic-2018)" in r.stdout
    before = workflows.scorecard(url, actor=ROOT, scheme_id="shandong-2017").scores.set_index("body")["score"]
    changes = workflows.year_over_year(url, actor=ROOT).changes.set_index("body")
    assert changes.loc["jinan", "previous_score"] == pytest.approx(0.842 * before["jinan"] + 0.158 * before["laiwu"])
    assert changes.loc["shengtai", "previous_score"] == pytest.approx(before["huanbao"])
    assert "laiwu" not in changes.index and "nongye" in changes.index


def test_the_notice_names_the_most_improved_and_the_recurring_problems(two_years):
    from docx import Document

    url, folder = two_years
    workflows.publish(url, actor=ROOT, stage="preliminary", scheme_id="y2018", today=dt.date(2019, 1, 7))
    workflows.publish(url, actor=ROOT, stage="final", scheme_id="y2018", today=dt.date(2019, 1, 21))
    path = workflows.write_notice(url, actor=ROOT, out=folder / "通报.docx", scheme_id="y2018")
    text = [p.text for p in Document(str(path)).paragraphs]
    start = text.index("四、与上一年度（y2017）相比")
    assert text[start + 1:start + 5] == ["（一）进步最大的单位", "设区市政府：c市（可比得分+66.67）。", "（二）反复出现的问题",
                                         "1. o1 任务o1：1个单位连续两年失分。"]   # one script: 任務 quoted in Simplified


def test_the_report_has_the_year_before(two_years):
    """The annual report (HTML and XLSX alike) carries the comparison: each body's score, last year's,
    the change and the rank arrow, in the report's language."""
    import pandas as pd

    url, folder = two_years
    done = workflows.write_report(url, actor=ROOT, outs=[folder / "r.html", folder / "r.xlsx"], scheme_id="y2018")
    assert not done.failed
    html = (folder / "r.html").read_text(encoding="utf-8")
    assert "二（续）、与上一年度比较" in html and "与上一年度（y2017）终评结果比较" in html
    sheet = pd.read_excel(folder / "r.xlsx", sheet_name="与上年比较", engine="calamine", dtype=str)
    assert sheet.values.tolist() == [
        ["c市", "设区市", "75", "1", "25", "+50.00", "▲1", "+66.67"],
        ["a市", "设区市", "50", "2", "62.5", "-12.50", "▼1", "-25.00"],
        ["省e厅", "省直部门", "87.5", "1", "100", "-12.50", "＝", "-16.67"]]  # names in the report's script
