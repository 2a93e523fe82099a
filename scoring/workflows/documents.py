"""Documents: the annual report, the 通報 and the 整改通知书, and the letterhead they are issued under."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sqlmodel import Session

from scoring.errors import GongkaiError
from scoring.method import LOST
from scoring.method.engine import Scorecard
from scoring.report.model import RANK_INTERVALS_NAME, Kept, appendix, body_tables, rank_intervals
from scoring.report.model import build as build_report
from scoring.report.write import FORMATS, apart, keep_apart, write
from scoring.store import cycle, documents, kept
from scoring.store import repository as repo
from scoring.store.accounts import Actor
from scoring.store.audit import audit
from scoring.store.models import Publication
from scoring.workflows._base import _as, _refusals_audited, transaction
from scoring.workflows.cycle import _final, _today
from scoring.workflows.results import _year_over_year

if TYPE_CHECKING:
    from scoring.report.notice import Rectifying


@dataclass(frozen=True)
class Written:
    """A report run: the run it shows, the files written, and the formats that failed (and why)."""

    run_id: int
    as_of: dt.date
    written: list[Path]
    failed: list[str]


def write_report(db: str | None, *, actor: Actor, outs: list[Path], scheme_id: str | None = None,
                 as_of: dt.date | None = None, lang: str = "zh-Hans",
                 on_step: Callable[[str], None] | None = None) -> Written:
    """The annual report of the current run in every format asked for. A format whose system part
    is missing is named in `failed`; the others are still written. `on_step` hears each step begin."""
    for path in outs:
        if path.suffix.lower() not in FORMATS:
            raise GongkaiError(f"--out {path.name}: unknown report format; use one of {', '.join(FORMATS)}")
    kept.limit_bytes()   # a bad limit of the kept files is said before anything is written, kept or not
    with transaction(db) as session:
        who = _as(session, actor, "score")
        card, run_id = repo.score_and_record(session, scheme_id=scheme_id, as_of=as_of, who=who.name)
        summary = _summary(session, card)
        yoy = _year_over_year(session, card)
        from scoring.workflows.quality import report_inputs  # it imports this package

        quality = report_inputs(session, card)
        intervals_at = repo.derived_file(session, run_id=run_id, name=RANK_INTERVALS_NAME)
        tables = report_tables_at(session, run_id=run_id, lang=lang, records=repo.records_state(summary))
    if on_step:
        on_step("building the report")
    intervals = repo.derived(intervals_at, lambda: rank_intervals(card))  # worked out once a run (at publish, or here)
    built = build_report(card, summary, run_id, lang, previous=yoy.previous if yoy else "",
                         changes=yoy.changes if yoy else None, quality=quality, intervals=intervals,
                         kept=kept_tables(tables, card, summary, lang))
    # the website inspection's section (issue 24), when sites were polled
    from scoring.workflows.inspection import report_section

    if (inspected := report_section(db, actor=actor, scheme_id=card.scheme.id, as_of=card.as_of, lang=lang)):
        built.sections.append(inspected)
    written, failed = [], []
    for path in outs:
        if on_step:
            on_step(f"writing {path.name}")
        try:
            written.append(write(built, path))
            written += [f for f in apart(built, path).values() if f not in written]
        except GongkaiError as e:
            failed.append(f"{path.name}: {e}")
    return Written(run_id, card.as_of, written, failed)


@_refusals_audited("notice")
def write_notice(db: str | None, *, actor: Actor, out: Path, scheme_id: str | None = None,
                 lang: str = "zh-Hans") -> Path:
    """The 通報 of the final result (.docx or .pdf)."""
    from scoring.report.notice import build_notice
    from scoring.report.notice import write_notice as write

    with transaction(db) as session:
        who = _as(session, actor, "publish")
        scheme, final = _final(session, scheme_id)
        assert final.id is not None
        todo = cycle.problems(session, publication_id=final.id)
        card = cycle.published_card(final)
        yoy = _year_over_year(session, card)
        notice = build_notice(card, run_id=final.run_id, issued=_today(scheme, None),
                              due_on=todo["due_on"].min() if len(todo) else None, provisional=bool(final.provisional),
                              previous=yoy.previous if yoy else "", improved=yoy.improved if yoy else None,
                              recurring=yoy.recurring if yoy else None)
        path = write(notice, out, lang, head=_letterhead(session, scheme.id))
        audit(session, who=who.name, action="notice", scheme_id=scheme.id, detail=f"{out.name}: final result {final.id}")
        return path


@_refusals_audited("rectify_notices")
def write_rectifications(db: str | None, *, actor: Actor, out: Path, scheme_id: str | None = None,
                         lang: str = "zh-Hans", suffix: str = ".docx") -> list[Path]:
    """One 整改通知書 (.docx, or .pdf with `suffix`) per body with a 整改 problem of the final result."""
    if suffix not in (".docx", ".pdf"):
        raise GongkaiError(f"--format {suffix.lstrip('.')}: a 整改通知書 is docx or pdf")
    kept.limit_bytes()
    from scoring.report.notice import collector_paused
    from scoring.report.notice import write_rectifications as write

    with transaction(db) as session, collector_paused():
        who = _as(session, actor, "publish")
        scheme, final = _final(session, scheme_id)
        assert final.id is not None
        result = rectifying_kept(session, final)
        todo = cycle.problems(session, publication_id=final.id)
        ev = repo.evidence_links(session, scheme_id=scheme.id)
        written = write(result, problems=todo, evidence=ev, issued=_today(scheme, None), out=out, suffix=suffix,
                        lang=lang, head=_letterhead(session, scheme.id))
        audit(session, who=who.name, action="rectify_notices", scheme_id=scheme.id,
              detail=f"{len(written)} 整改通知書 in {out}: final result {final.id}, {len(todo)} problems")
        return written


def report_tables_at(session: Session, *, run_id: int, lang: str, records: str | None) -> dict[str, Path | None]:
    """Where the report's tables that grow with the nation are kept with its run (`model.Kept`): every
    body's gaps and findings by the run and language; the appendix, which quotes the stored records'
    urls, notes and files, also by their state (`repo.records_state`; None: not kept)."""
    words = _words()
    at = {part: repo.derived_file(session, run_id=run_id, name=f"report {part} lang={lang} words={words}")
          for part in ("gaps", "findings")}
    at["appendix"] = None if records is None else repo.derived_file(
        session, run_id=run_id, name=f"report appendix lang={lang} words={words} records={records}")
    return at


def _words() -> str:
    """The words the kept tables are written in besides the run's own (its scheme's names and titles):
    the gongkai that wrote them, its strings, headers and rule kinds' words, and the script converter.
    The kept files outlive an upgrade; one whose words changed (a translation fixed) works them out again."""
    import hashlib
    from importlib.metadata import version

    import scoring
    from scoring import i18n
    from scoring.method import kinds
    from scoring.report.model import HEADERS

    said = repr((scoring.__version__, version("opencc"), sorted(i18n.STRINGS.items()), sorted(HEADERS.items()),
                 [(k.name, k.words, sorted(k.outcome_words.items())) for k in kinds.kinds()]))
    return hashlib.sha256(said.encode()).hexdigest()[:16]


def kept_tables(at: dict[str, Path | None], card: Scorecard, summary: repo.EvidenceSummary, lang: str) -> Kept:
    """The report's tables kept at `at` (`report_tables_at`), each worked out and kept there if it is
    not yet: once a run (at publish, or by its first report), not for every report of it."""
    bodies = cache(lambda: body_tables(card, lang))   # gaps and findings: one pass, if either is needed
    return Kept(gaps=repo.derived(at["gaps"], lambda: bodies()[0]),
                findings=repo.derived(at["findings"], lambda: bodies()[1]),
                appendix=repo.derived(at["appendix"], lambda: appendix(card, lang, summary)),
                csv={part: path.with_suffix(".csv") for part, path in at.items() if path is not None},
                charts=at["gaps"].with_name("charts") if at["gaps"] is not None else None)


def keep_report_tables(session: Session, *, card: Scorecard, run_id: int,
                       lang: str = "zh-Hans") -> Callable[[pd.DataFrame], None]:
    """What keeps the report's tables of a run being published and the CSVs of its parts written
    apart (in the report's default language), called after the transaction with the run's rank
    intervals: every report of the published result then reads them."""
    summary = _summary(session, card)
    at = report_tables_at(session, run_id=run_id, lang=lang, records=repo.records_state(summary))

    def keep(intervals: pd.DataFrame) -> None:
        keep_apart(build_report(card, summary, run_id, lang, kept=kept_tables(at, card, summary, lang),
                                intervals=intervals))
    return keep


def _summary(session: Session, card: Scorecard) -> repo.EvidenceSummary:
    """What the report says of the evidence, with the preserved files its records name."""
    summary = repo.evidence_summary(session, scheme_id=card.scheme.id)
    summary.files = cycle.attachment_files(session, sha256s=summary.evidence["attachment"].unique().tolist())
    return summary


STANDING_KEPT, LOST_KEPT = "standing of a final result", f"lost findings over {LOST}"


def rectifying_kept(session: Session, final: Publication, card: Scorecard | None = None) -> Rectifying:
    """What the final result's 整改通知書 are made of (`notice.Rectifying`), kept with its run: worked
    out once (at publish, `card` the run's scorecard; or here, from the frozen evidence) and read by
    every later `rectify` — the frozen result is not scored again for each export."""
    from scoring.report.notice import STANDING, Rectifying, lost_findings

    published = cache(lambda: card if card is not None else cycle.published_card(final))  # scored once, if at all
    standing = repo.derived(repo.derived_file(session, run_id=final.run_id, name=STANDING_KEPT),
                            lambda: published().scores[STANDING].reset_index(drop=True))
    lost = repo.derived(repo.derived_file(session, run_id=final.run_id, name=LOST_KEPT),
                        lambda: lost_findings(published()))
    return Rectifying(cycle.frozen_scheme(final), standing, lost)


def _letterhead(session: Session, scheme_id: str):
    from scoring.report.gongwen import Letterhead

    row = documents.notice_settings(session, scheme_id=scheme_id)
    return Letterhead(row.office, row.number, row.cc, row.to) if row else Letterhead()


@_refusals_audited("notice_settings")
def notice_settings(db: str | None, *, actor: Actor, scheme_id: str | None = None, office: str | None = None,
                    number: str | None = None, to: str | None = None, cc: str | None = None) -> dict[str, str]:
    """The letterhead of the 通報 and 整改通知書 (GB/T 9704-2012): show it, or change the fields given
    (an evaluator or admin; audited). Unset, the documents carry marked placeholders."""
    from scoring.report.gongwen import Letterhead

    with transaction(db) as session:
        who = _as(session, actor, "read" if {office, number, to, cc} == {None} else "publish")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        if {office, number, to, cc} != {None}:
            blank = Letterhead()
            documents.set_notice_settings(session, scheme_id=scheme.id, who=who.name, office=office, number=number,
                                          to=to, cc=cc, defaults={"office": blank.office, "number": blank.number,
                                                                  "to": blank.to, "cc": blank.cc})
        row = documents.notice_settings(session, scheme_id=scheme.id)
        shown = {"scheme": scheme.id, "office": (row or Letterhead()).office, "number": (row or Letterhead()).number,
                 "to": (row or Letterhead()).to, "cc": (row or Letterhead()).cc}
        return shown | ({"set_by": row.set_by, "set_at": f"{row.set_at:%Y-%m-%d %H:%M}"} if row else {"set_by": "（未设置）"})
