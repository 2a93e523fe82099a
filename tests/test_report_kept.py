"""The report's tables that grow with the nation (every body's gaps and findings, the appendix) and
the CSVs of its parts written apart are kept with their run when a result is published: every report
of that run reads and copies them, and says exactly what a report working them out says."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import Session

from scoring import workflows
from scoring.report import model
from scoring.report import write as writer
from scoring.store import cycle
from scoring.store import repository as repo
from scoring.store.accounts import Actor
from scoring.store.db import engine_for
from scoring.workflows import documents
from tests.test_report import needs_chromium

ACTOR = Actor("t", None)
PARTS = ("r-附录.csv", "r-各单位失分指标.csv", "r-各单位失分事项.csv")


@pytest.fixture
def published(tmp_path, monkeypatch):
    """The demo with its preliminary result published, its appendix and body sections written apart
    (as a nation's are: the limits lowered to the demo's size)."""
    monkeypatch.setattr(writer, "APPENDIX_INLINE", 5)
    monkeypatch.setattr(writer, "BODIES_INLINE", 5)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    workflows.load_demo(url, actor=ACTOR)
    workflows.publish(url, actor=ACTOR, stage="preliminary", today=dt.date(2018, 1, 5))
    return url


def _worked_out(url: str, lang: str) -> model.Report:
    """The report's model worked out from the run, nothing kept."""
    with Session(engine_for(url)) as s:
        card, run_id = repo.score_and_record(s, scheme_id=None, as_of=None, who="t")
        summary = repo.evidence_summary(s, scheme_id=card.scheme.id)
        summary.files = cycle.attachment_files(s, sha256s=summary.evidence["attachment"].unique().tolist())
        s.commit()
    return model.build(card, summary, run_id, lang)


def _not_again(monkeypatch) -> None:
    def again(*args, **kwargs):
        raise AssertionError("worked out again")
    for name in ("body_tables", "appendix"):
        monkeypatch.setattr(documents, name, again)
        monkeypatch.setattr(model, name, again)
    monkeypatch.setattr(writer, "_write_csv", again)


def _page(path: Path) -> str:
    """A report's page without the time it was generated and its charts' random element ids."""
    page = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "", path.read_text(encoding="utf-8"))
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "", page)


def test_a_published_results_reports_read_the_tables_kept_with_its_run(published, tmp_path, monkeypatch):
    fresh = tmp_path / "fresh"
    writer.write(_worked_out(published, "zh-Hans"), fresh / "r.html")
    _not_again(monkeypatch)   # from here, nothing of the kept is worked out or written again
    done = workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "kept" / "r.html",
                                                                tmp_path / "kept" / "r.xlsx"])
    assert done.failed == []
    assert _page(tmp_path / "kept" / "r.html") == _page(fresh / "r.html")
    for name in PARTS:
        assert (tmp_path / "kept" / name).read_bytes() == (fresh / name).read_bytes(), name
    gaps = pd.read_excel(tmp_path / "kept" / "r.xlsx", sheet_name="差距", engine="calamine")
    assert len(gaps) == len(pd.read_csv(fresh / "r-各单位失分指标.csv", encoding="utf-8-sig")) > 0


def test_another_language_is_kept_by_its_first_report(published, tmp_path, monkeypatch):
    """Publishing keeps the report's default language; another is worked out by its first report,
    kept, and read by the next."""
    first = workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "a" / "r.html"], lang="en")
    assert first.failed == []
    _not_again(monkeypatch)
    workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "b" / "r.html"], lang="en")
    assert _page(tmp_path / "b" / "r.html") == _page(tmp_path / "a" / "r.html")
    for csv in (tmp_path / "a").glob("*.csv"):
        assert (tmp_path / "b" / csv.name).read_bytes() == csv.read_bytes()


def _at(url: str, run_id: int) -> tuple[dict[str, Path | None], repo.EvidenceSummary]:
    with Session(engine_for(url)) as s:
        card, _ = repo.score_unrecorded(s, scheme_id=None, as_of=None)
        summary = documents._summary(s, card)
        return documents.report_tables_at(s, run_id=run_id, lang="zh-Hans", records=repo.records_state(summary)), summary


def test_the_appendix_is_kept_by_the_state_of_the_records_it_quotes(published, tmp_path):
    """The appendix quotes stored records, scored or not: a value re-sent for a rejected record
    waits unscored (the same run) and may be the one an item's row quotes — the kept appendix is
    named by the records' state too, so it is worked out again; the body tables, a function of the
    run, stay."""
    from scoring.workflows.intake import reject

    reject(published, actor=ACTOR, evidence_id=1, reason="网址打不开")
    before = workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "a" / "r.html"])
    kept, _ = _at(published, before.run_id)
    card, _ = workflows.score_current(published, actor=ACTOR)
    frame, _ = workflows.demo_evidence(card.scheme)
    row = frame.iloc[:1].copy()   # record 1, as the firm sends it again with another note
    row[next(c for c in frame.columns if c in ("備註", "备注"))] = "已更正网址"
    workflows.import_file(published, actor=ACTOR, name="again.csv", data=row.to_csv(index=False).encode())
    after = workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "b" / "r.html"])
    now, summary = _at(published, after.run_id)
    assert after.run_id == before.run_id and "已更正网址" in summary.evidence["note"].tolist()   # waiting, unscored
    assert (now["gaps"], now["findings"]) == (kept["gaps"], kept["findings"])
    assert now["appendix"] != kept["appendix"] and now["appendix"].exists() and kept["appendix"].exists()
    pd.testing.assert_frame_equal(pd.read_parquet(now["appendix"]), _worked_out(published, "zh-Hans").appendix,
                                  check_dtype=False)   # text read back as pandas strings


@needs_chromium
def test_a_chart_rendered_once_is_not_rendered_again(published, tmp_path, monkeypatch):
    """Chart images are kept named by what they draw: a second Word report of the run starts no
    chromium for them and holds the same images; another language draws other charts."""
    from docx import Document

    from scoring.report import images

    def images_of(path: Path) -> list[bytes]:
        doc = Document(str(path))
        return [r.target_part.blob for r in doc.part.rels.values() if "image" in r.reltype]
    first = workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "a" / "r.docx"])
    assert first.failed == []

    def rendered(*args, **kwargs):
        raise AssertionError("chromium started for a chart rendered before")
    monkeypatch.setattr(images, "_render", rendered)
    workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "b" / "r.docx"])
    assert images_of(tmp_path / "b" / "r.docx") == images_of(tmp_path / "a" / "r.docx") != []
    with pytest.raises(AssertionError, match="rendered before"):
        workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "c" / "r.docx"], lang="en")


def test_a_published_result_stands_when_its_report_tables_cannot_be_kept(tmp_path, monkeypatch):
    """Keeping the report's parts is work saved for its reports, done after the publication is
    committed: a failure there is said with the result, the result stands, and a report works them out."""
    def fails(report):
        raise RuntimeError("the kept folder's disk failed")
    monkeypatch.setattr(documents, "keep_apart", fails)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    workflows.load_demo(url, actor=ACTOR)
    pub = workflows.publish(url, actor=ACTOR, stage="preliminary", today=dt.date(2018, 1, 5))
    assert pub.unkept == "RuntimeError: the kept folder's disk failed"
    assert [p.id for p in workflows.publications(url, actor=ACTOR)] == [pub.id]
    monkeypatch.undo()
    assert workflows.write_report(url, actor=ACTOR, outs=[tmp_path / "r.html"]).failed == []
