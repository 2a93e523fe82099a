"""Drafting a scheme from its document (issue 25, "Drafting"): the 2017 document drafted with no
predecessor agrees with the hand-written criteria/shandong-2017.yaml — figures stated below, each
leaf that disagrees named — and every guess is marked for review, which `criteria check` lists and
`criteria load` refuses until decided."""

from __future__ import annotations

import io

import pytest
import yaml
from docx import Document

from scoring.i18n import script
from scoring.intake.draft import (
    _plain,
    _similar,
    draft,
    lead_units,
    leaves,
    propose_rules,
    read_document,
)
from tests.cli import gongkai
from tests.conftest import SCHEME_2017, SOURCE


def _timed(rules) -> list[tuple]:
    """A leaf's deadline and rhythm rules: (deadline,) and (periodic, frequency), sorted."""
    out = []
    for r in rules:
        r = r if isinstance(r, dict) else r.model_dump()
        if r["kind"] == "periodic":
            out.append(("periodic", r["frequency"]))
        elif r["kind"] == "deadline":
            out.append(("deadline",))
    return sorted(out)


def agreement(doc: dict, scheme) -> dict[str, list[str]]:
    """Per measure, the ids of the hand-written scheme's leaves the draft disagrees with."""
    names = {b["id"]: script(b["name"], "zh-Hans") for b in doc["bodies"]}
    ref_names = {b.id: script(b.name, "zh-Hans") for b in scheme.bodies}
    got = {o["id"]: o for o in doc["obligations"]}
    off: dict[str, list[str]] = {"structure": [], "leads": [], "applies_to": [], "rules": []}
    for o in scheme.obligations:
        g = got.get(o.id)
        if g is None:
            for measure in off:
                off[measure].append(o.id)
            continue
        if not (_similar(o.title, g["title"]) and _plain(o.source) in _plain(g["source"])):
            off["structure"].append(o.id)
        if sorted(ref_names[x] for x in o.leads) != sorted(names[x] for x in g.get("leads", [])):
            off["leads"].append(o.id)
        if sorted(o.applies_to) != sorted(g.get("applies_to", [])):
            off["applies_to"].append(o.id)
        if _timed(o.rules) != _timed(g["rules"]):
            off["rules"].append(o.id)
    return off


def test_the_2017_document_drafts_to_the_hand_written_scheme(scheme_2017):
    """40 leaves. Ids, titles and quotes: 39/40 (97.5%; 4.2.3's title 公開全面推行“河長制”工作情況 is the
    scheme's paraphrase). Lead units: 40/40; the kinds bound (applies_to): 39/40 (2.3 says 各級政府, the
    scheme binds no city). Deadline and rhythm rules: 38/40 (95%; the draft proposes 1.3.1's 定期公開
    招投標違法行為處罰信息 as quarterly, which the scheme left to a rating, and one 每五日 where the
    scheme has two harvest seasons, 2.3)."""
    doc = draft(SOURCE.read_text(encoding="utf-8"))
    assert [o["id"] for o in doc["obligations"]] == [o.id for o in scheme_2017.obligations]
    off = agreement(doc, scheme_2017)
    assert off == {"structure": ["4.2.3"], "leads": [], "applies_to": ["2.3"], "rules": ["1.3.1", "2.3"]}
    n = len(scheme_2017.obligations)
    assert (n - len(off["structure"])) / n >= 0.95
    assert (n - len(off["leads"])) / n >= 0.90 and (n - len(off["applies_to"])) / n >= 0.90
    assert (n - len(off["rules"])) / n >= 0.90
    # every quote is the document's own words
    source = _plain(SOURCE.read_text(encoding="utf-8"))
    assert all(_plain(o["source"]) in source for o in doc["obligations"])


@pytest.mark.parametrize("text, expected", [
    ("按月公開全省財政收支情況", [("periodic", "monthly")]),
    ("組織召開月度、季度、年度國民經濟運行情況新聞發佈會", [("periodic", "monthly"), ("periodic", "quarterly"), ("periodic", "yearly")]),
    ("畢業生就業質量年度報告公開", [("rating", None)]),                  # an annual report is no rhythm
    ("加大網站內容日常監測和季度抽查力度", [("rating", None)]),          # nor an inspector's quarterly check
    ("定期公佈全省食品抽檢總體情況", [("periodic", "quarterly")]),      # 定期: quarterly, for review
    ("定期召開新聞發佈會。按月發佈全省水、氣環境質量狀況", [("periodic", "monthly")]),  # a stated rhythm wins
    ("5月底前由各級政府匯總並公佈隨機抽查事項清單", [("deadline", "2017-05-31")]),
    ("2017年年底前完成清理工作", [("deadline", "2017-12-31")]),
    ("並在本要點公佈後30個工作日內在本地區政府網站公開", [("deadline", "issued+30")]),
    ("特別重大、重大突發事件最遲5小時內發佈權威信息,24小時內必須舉行新聞發佈會", [("response", "5h/24h")]),
    ("主要領導年內至少聽取一次政務公開工作彙報", [("count", 1)]),
    ("各級、各部門也要將政務公開納入績效考核體系,分值不低於4%", [("share", None)]),
])
def test_rules_from_the_documents_words(text, expected):
    def shape(r):
        if r["kind"] == "periodic":
            return ("periodic", r["frequency"])
        if r["kind"] == "deadline":
            due = r["due"]
            return ("deadline", str(due) if not isinstance(due, dict) else f"{due['after']}+{due['within']['working_days']}")
        if r["kind"] == "response":
            return ("response", "/".join(f"{s['within']['hours']}h" for s in r["steps"]))
        return (r["kind"], r.get("min"))

    rules, review = propose_rules(text, 2017)
    assert [shape(r) for r in rules] == expected
    assert all(r["label"] in text or r["kind"] == "rating" for r in rules)  # each rule quotes its clause
    guesses = [s for s, *_ in expected if s in ("rating",)] + [f for _, f in expected if f == "quarterly" and "定期" in text]
    assert len(review) >= len(guesses)


def test_a_paragraph_with_several_lead_clauses_is_split_and_who_is_read():
    text = ("四、以政務公開助力惠民生\n(二)推進環境保護信息公開。按月發佈全省水、氣環境質量狀況。(省環保廳牽頭落實)"
            "持續推進集中式生活飲用水水源水質監測信息公開,地級及以上城市人民政府每季度向社會公開飲水安全狀況。"
            "(省環保廳、省住房城鄉建設廳、省衛生計生委等部門按職責分工分別牽頭落實)\n")
    found = leaves(text)
    assert [(f.id, f.title) for f in found] == [("4.2.1", "推進環境保護信息公開"),
                                               ("4.2.2", "推進集中式生活飲用水水源水質監測信息公開")]
    assert found[1].section == ["四、以政務公開助力惠民生", "（二）推進環境保護信息公開"]
    names, kinds, review = lead_units(found[1])
    assert (names, kinds) == (["省環保廳", "省住房城鄉建設廳", "省衛生計生委"], ["city"])
    assert any("地級及以上城市" in r for r in review)


def test_drafting_from_the_command_line_with_a_predecessor_and_a_docx(tmp_path):
    """A .docx of the document, drafted against the 2017 scheme: bodies mapped to its ids, its points and
    grades carried; `criteria check` lists the open decisions (exit 1) and `criteria load` refuses the
    draft; with every review entry deleted, it loads."""
    doc = Document()
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    source = tmp_path / "要點.docx"
    source.write_bytes(buf.getvalue())
    assert read_document(source.read_bytes(), source.name).splitlines()[0].startswith("山東省人民政府辦公廳關於印發")
    out = tmp_path / "draft.yaml"
    r = gongkai("criteria", "draft", str(source), "--previous", str(SCHEME_2017), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "a draft of 40 obligations" in r.stdout
    drafted = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert drafted["lineage"] == {"previous": "shandong-2017"} and drafted["scheme"]["id"] == "shandong-2017"
    first = drafted["obligations"][0]
    assert (first["leads"], first["points"]) == (["fagaiwei", "renshe", "caizheng", "jinrongban", "renhang"], 3.0)
    check = gongkai("criteria", "check", str(out))
    assert check.returncode == 1 and "a DRAFT —" in check.stdout and "obligation 1.1.1: 「按月公開" in check.stdout
    db = f"sqlite:///{tmp_path / 'd.db'}"
    load = gongkai("criteria", "load", str(out), "--db", db)
    assert load.returncode == 1 and "decisions are still open (review:)" in load.stderr
    drafted["scheme"].pop("review")
    for o in drafted["obligations"]:
        o.pop("review")
    drafted["scheme"]["id"] = "shandong-2017-redrafted"
    out.write_text(yaml.safe_dump(drafted, allow_unicode=True), encoding="utf-8")
    assert gongkai("criteria", "check", str(out)).returncode == 0
    assert gongkai("criteria", "load", str(out), "--db", db).returncode == 0


def test_a_document_that_is_not_text_is_named(tmp_path):
    bad = tmp_path / "x.docx"
    bad.write_bytes(b"not a zip")
    r = gongkai("criteria", "draft", str(bad), "--out", str(tmp_path / "d.yaml"))
    assert r.returncode == 1 and "x.docx: not a readable .docx document" in r.stderr and "Traceback" not in r.stderr
