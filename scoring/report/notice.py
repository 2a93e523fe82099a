"""The documents of a final result: the 通報 (grade lists per kind, the common problems, units 表現突出)
and one 整改通知書 per body (each lost point with its findings and evidence, and the rectification due
date), as .docx or .pdf in the GB/T 9704-2012 frame (scoring.report.gongwen). Official wording in
Chinese, every word in one script (zh-Hans; zh-Hant by OpenCC)."""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.errors import GongkaiError
from scoring.i18n import script
from scoring.method import LOST
from scoring.method import kinds as rule_kinds
from scoring.method.engine import Scorecard
from scoring.method.explain import losses
from scoring.method.scheme import Scheme
from scoring.report.gongwen import Block, Letterhead, Table, write_docx, write_pdf
from scoring.report.model import item_text, worded

KIND_LABEL = {"city": "设区市政府", "county": "县（市、区）政府", "department": "省政府部门和单位"}
OUTCOME = {"missing": "未发布", "late": "逾期发布", "short": "未达到", "fail": "未达标", "rated": "评分"}
TOP_PROBLEMS = 10


def _outcome(kind: str, outcome: str) -> str:
    """A lost item's result in a 整改通知书: in its rule kind's own words where it has them (a count
    short of its minimum: 数量不足; a rubric's unmet check: 未达到), else the notice's."""
    return rule_kinds.outcome_words(kind, outcome, "zh-Hans") or OUTCOME.get(outcome, outcome)
TO_ALL = "各市人民政府，省政府各部门、各直属机构"   # 主送 of a 通報 when the settings name none


@dataclass(frozen=True)
class Notice:
    """The content of a 通報: per kind the units of each grade and the outstanding ones; the
    obligations most often lost."""

    title: str
    document: str
    as_of: dt.date
    run_id: int
    issued: dt.date
    grades: list[tuple[str, list[tuple[str, list[str]]]]]   # kind label → [(grade, unit names)]
    outstanding: list[tuple[str, list[str]]]                # kind label → names (表現突出)
    problems: pd.DataFrame                                  # obligation, title, bodies (count), lost (total)
    due_on: dt.date | None = None                           # the 整改 due date of the final result
    provisional: bool = False                               # due_on is 暫定: its year's holidays not loaded
    previous: str = ""                                      # the scheme of the year before, when compared
    improved: list[tuple[str, list[str]]] | None = None     # kind label → "name（+4.10）" (most improved)
    recurring: pd.DataFrame | None = None                   # obligation, title, bodies: lost in both years


PROVISIONAL_NOTE = "（注：整改期限按预估的节假日计算，该年度放假安排公布并导入后重新计算。）"


def due_text(due_on: dt.date, provisional: bool) -> str:
    """A 整改 due date in a document's words: 2027年1月4日, or 2027年1月4日（暂定） on an estimated calendar."""
    return f"{due_on:%Y年%-m月%-d日}" + ("（暂定）" if provisional else "")


def build_notice(card: Scorecard, *, run_id: int, issued: dt.date, due_on: dt.date | None = None,
                 provisional: bool = False, previous: str = "", improved: pd.DataFrame | None = None,
                 recurring: pd.DataFrame | None = None) -> Notice:
    """The 通報 of a final result; with `previous` (the year before's scheme id), its most improved
    units (kind, name, comparable_change) and the problems lost in both years (body, obligation, title)."""
    h = card.scheme.scheme
    s = card.scores.dropna(subset=["score"]).sort_values(["kind", "rank", "body"])
    best = h.grades[0].name
    grades, outstanding = [], []
    for kind in ("city", "county", "department"):
        k = s[s["kind"] == kind]
        if k.empty:
            continue
        label = KIND_LABEL[kind]
        grades.append((label, [(g.name, k.loc[k["grade"] == g.name, "name"].tolist()) for g in h.grades]))
        top = k[(k["grade"] == best) & (k["rank"] <= 3)]
        outstanding.append((label, top["name"].tolist()))
    lost = card.obligations[card.obligations["gap"] > LOST]
    titles = {o.id: o.title for o in card.scheme.obligations}
    problems = (lost.groupby("obligation").agg(bodies=("body", "nunique"), lost=("gap", "sum")).reset_index()
                .sort_values(["bodies", "lost", "obligation"], ascending=[False, False, True]).head(TOP_PROBLEMS))
    problems.insert(1, "title", problems["obligation"].map(titles))
    better, again = None, None
    if previous and improved is not None and recurring is not None:
        better = [(KIND_LABEL[k], [f"{n}（可比得分{v:+.2f}）" for n, v in zip(g["name"], g["comparable_change"], strict=True)])
                  for k, g in improved.groupby("kind", sort=False) if k in KIND_LABEL]
        again = (recurring.groupby(["obligation", "title"], as_index=False).agg(bodies=("body", "nunique"))
                 .sort_values(["bodies", "obligation"], ascending=[False, True]).head(TOP_PROBLEMS).reset_index(drop=True))
    return Notice(f"关于{h.title}考核结果的通报", h.document or "", card.as_of, run_id, issued, grades, outstanding,
                  problems.reset_index(drop=True), due_on, provisional, previous, better, again)


CN_NUMBERS = "一二三四五六七八九十"


def _paragraphs(n: Notice) -> list[Block]:
    """The body of the 通報 in order, shared by .docx and .pdf: 一、 headings, （一） sub-headings."""
    out: list[Block] = [
        ("p", f"根据{n.document}《{n.title.removeprefix('关于').removesuffix('考核结果的通报')}》，"
              f"经第三方评估、初评反馈、申诉复核，现将考核结果（截至{n.as_of:%Y年%-m月%-d日}，评分运行 {n.run_id}）通报如下。"),
        ("h", "一、考核等次")]
    for label, bands in n.grades:
        out.append(("h2", label))
        out += [("p", f"{grade}（{len(names)}个）：{'、'.join(names) or '无'}。") for grade, names in bands]
    out.append(("h", "二、存在的共性问题"))
    if n.problems.empty:
        out.append(("p", "未发现失分事项。"))
    for i, r in enumerate(n.problems.itertuples(), 1):
        out.append(("p", f"{i}. {r.obligation} {r.title}：{r.bodies}个单位失分，合计失分 {r.lost:.2f} 分。"))
    out.append(("h", "三、表现突出的单位"))
    for label, names in n.outstanding:
        out.append(("p", f"{label}：{'、'.join(names) or '无'}。"))
    if n.improved is not None and n.recurring is not None:
        out.append(("h", f"四、与上一年度（{n.previous}）相比"))
        out.append(("h2", "进步最大的单位"))
        out += [("p", f"{label}：{'、'.join(names) or '无'}。") for label, names in n.improved] or [("p", "无。")]
        out.append(("h2", "反复出现的问题"))
        if n.recurring.empty:
            out.append(("p", "未发现连续两年失分的事项。"))
        for i, r in enumerate(n.recurring.itertuples(), 1):
            out.append(("p", f"{i}. {r.obligation} {r.title}：{r.bodies}个单位连续两年失分。"))
    due = f"于{due_text(n.due_on, n.provisional)}前" if n.due_on else ""
    out.append(("p", f"请各单位对照考核发现的问题认真整改，{due}按整改通知书要求报送整改情况。"))
    if n.due_on and n.provisional:
        out.append(("p", PROVISIONAL_NOTE))
    return numbered(out)


def numbered(blocks: list[Block]) -> list[Block]:
    """（一）、（二）… before each sub-heading, counted afresh under each 一、 heading (GB/T 9704 7.3.3)."""
    out: list[Block] = []
    i = 0
    for b in blocks:
        if not isinstance(b, Table) and b[0] == "h":
            i = 0
        elif not isinstance(b, Table) and b[0] == "h2":
            b, i = ("h2", f"（{CN_NUMBERS[i % 10]}）{b[1]}"), i + 1
        out.append(b)
    return out


def in_script(blocks: list[Block], lang: str) -> list[Block]:
    """Every word of a document in one script: names, grades and quotations from the scheme or the
    evidence are converted with the template's words (OpenCC, characters only)."""
    return [Table([[script(c, lang) for c in row] for row in b.rows]) if isinstance(b, Table)
            else b if b[0] == "url" else (b[0], script(b[1], lang)) for b in blocks]


def _head(head: Letterhead, lang: str) -> Letterhead:
    return Letterhead(script(head.office, lang), script(head.number, lang), script(head.cc, lang), script(head.to, lang))


def write_notice(n: Notice, path: Path, lang: str = "zh-Hans", head: Letterhead | None = None) -> Path:
    """The 通報 as .docx (python-docx) or .pdf (the same document printed by chromium), laid out by
    GB/T 9704-2012 under the assessment's letterhead (placeholders when none is set)."""
    suffix = path.suffix.lower()
    if suffix not in (".docx", ".pdf"):
        raise GongkaiError(f"--out {path.name}: a notice is .docx or .pdf")
    return _write(_head(head or Letterhead(), lang), script(n.title, lang), script(head_to(head), lang),
                  in_script(_paragraphs(n), lang), n.issued, path=path)


def head_to(head: Letterhead | None, fallback: str = TO_ALL) -> str:
    """主送机关: the letterhead's, or the bodies the document goes to."""
    return (head.to if head and head.to else fallback).rstrip("：:") + "："


def _write(head: Letterhead, title: str, to: str, blocks: list[Block], issued: dt.date, *, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".docx":
        return write_docx(head, title=title, to=to, blocks=blocks, issued=issued, path=path)
    return write_pdf(head, title=title, to=to, blocks=blocks, issued=issued, path=path)


# documents: from this many on, rendered by a pool of processes (a document is ≈ 0.8 ms from its mold; a
# spawned worker costs seconds to start: at 3,237 documents one process is faster, 12.1 s against 15.3 s;
# a forked pool of 2 wrote them in 10.5 s against 5.3 s in one process, load ≈ 3.5; again 2026-12-05 with a
# crawl on the other core, load 2.1–3.1: one process 3.6–5.2 s, forked pool of 2 4.1–6.5 s, forkserver 7.4 s)
PARALLEL_FROM = 10_000


@dataclass(frozen=True)
class Rectifying:
    """What the 整改通知書 of a final result are made of — its scheme, each body's standing (body,
    score, rank, grade) and the findings that lost points (`losses` kept over LOST) — a function of
    the published run alone: kept with it (workflows.documents), not scored again per export."""

    scheme: Scheme
    standing: pd.DataFrame
    lost: pd.DataFrame


STANDING = ["body", "score", "rank", "grade"]


def rectifying(card: Scorecard) -> Rectifying:
    """A final result's `Rectifying`, its lost findings worked out in parts of BODIES_AT_ONCE bodies
    (a nation's 8M findings are not copied whole)."""
    return Rectifying(card.scheme, card.scores[STANDING].reset_index(drop=True), lost_findings(card))


def lost_findings(card: Scorecard) -> pd.DataFrame:
    """`losses(card, lost_over=LOST)`, worked out BODIES_AT_ONCE bodies at a time."""
    f = card.findings
    bodies = sorted(f["body"].astype(str).unique())
    if len(bodies) <= BODIES_AT_ONCE:
        return losses(card, f, lost_over=LOST).reset_index(drop=True)
    parts = [losses(card, f[f["body"].isin(bodies[i:i + BODIES_AT_ONCE])], lost_over=LOST)
             for i in range(0, len(bodies), BODIES_AT_ONCE)]
    return pd.concat(parts, ignore_index=True)


def write_rectifications(result: Rectifying, *, problems: pd.DataFrame, evidence: Iterable[tuple[str, str, str, str]],
                         issued: dt.date, out: Path, suffix: str = ".docx", lang: str = "zh-Hans",
                         head: Letterhead | None = None, workers: int | None = None) -> list[Path]:
    """Every body's 整改通知書 (`problems`: the final result's, with body, due_on and provisional;
    `evidence`: (body, obligation, url, attachment) records) in `out`, named BODY-整改通知书.docx|.pdf:
    the findings worded in one pass for all bodies (each distinct text in the document's script
    once), and the documents rendered across processes when there are many."""
    bodies = sorted(problems["body"].unique())
    lines = _evidence_lines(evidence, set(zip(problems["body"], problems["obligation"], strict=True)), lang)
    s = result.standing
    standing = {b: (v, r, g) for b, v, r, g in zip(s["body"], s["score"], s["rank"], s["grade"], strict=True)}
    mine: dict[str, list[tuple]] = {}
    for p in zip(*(problems[c].tolist() for c in ("body", "obligation", "lost", "id", "due_on", "provisional")),
                 strict=True):
        mine.setdefault(p[0], []).append(p[1:])
    workers = workers if workers is not None else (os.cpu_count() or 1) if len(bodies) >= PARALLEL_FROM else 1
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with ExitStack() as stack:
        pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))) \
            if workers > 1 else None
        for start in range(0, len(bodies), BODIES_AT_ONCE):
            part = bodies[start:start + BODIES_AT_ONCE]
            lost = result.lost
            rows = _finding_rows(lost[lost["body"].isin(part)], lang)
            jobs = [(*_rectification(result.scheme, body=body, problems=mine[body], rows=rows, lines=lines,
                                     standing=standing[body], issued=issued, lang=lang, head=head),
                     out / f"{body}-整改通知书{suffix}") for body in part]
            del rows
            written += _write_all(jobs, pool, workers)
            if start + BODIES_AT_ONCE < len(bodies):   # after the last part the collector runs again anyway
                gc.collect(0)   # with the collector paused, a part's frames (pandas keeps cycles) would stay till the end
    return written


# the bodies whose findings' rows are held at once: a nation of 21,700 bodies has 3.1M lost findings,
# 2 GB as table rows in words; in parts of this many the documents are the same and memory stays flat
BODIES_AT_ONCE = 2_000


def _write_all(jobs: list[tuple], pool: ProcessPoolExecutor | None, workers: int) -> list[Path]:
    if pool is None:
        return [_write(*job[:-1], path=job[-1]) for job in jobs]
    try:
        return list(pool.map(_write_job, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
    except BrokenProcessPool:  # a worker could not start or died (its environment, memory): the same documents, here
        return [_write(*job[:-1], path=job[-1]) for job in jobs]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector held off while the 整改通知書 are made: their millions of records,
    rows and texts hold no cycles (reference counting frees them), and each full collection walked
    all of them again — 2–3 s of ≈ 12 s CPU for the nation's 3,237 documents."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _finding_rows(found: pd.DataFrame, lang: str) -> dict[tuple[str, str], list[tuple[str, ...]]]:
    """Per (body, obligation) the findings that lost points (`lost_findings`' rows of some bodies),
    worst first, as table rows in words: item, due, published, result — each distinct item, result
    and day worded once. (How late a finding was is not printed: not worked out.)"""
    # each (body, obligation) together, worst first within it (what worst_first orders per body)
    found = found.sort_values(["body", "obligation", "lost", "item"], ascending=[True, True, False, True],
                              ignore_index=True)
    # each distinct item, and (kind, outcome) pair, worded once: factorized by their categories' codes,
    # not written out as 462,257 texts first (a nation's lost findings)
    items = worded(found["item"], lambda i: script(item_text(str(i), lang), lang))
    pair, distinct = pd.MultiIndex.from_arrays([found["kind"], found["outcome"]]).factorize()
    results = np.array([script(_outcome(str(k), str(o)), lang) for k, o in distinct], dtype=object)[pair]
    cells: list[tuple[str, ...]] = list(zip(items.tolist(), _day(found["due"]), _day(found["published_at"]), results.tolist(),
                                            strict=True))
    # where each (body, obligation) starts: by the codes of each, compared with the row before
    body, obligation = (pd.factorize(found[c])[0] for c in ("body", "obligation"))
    starts = np.flatnonzero(np.r_[True, (body[1:] != body[:-1]) | (obligation[1:] != obligation[:-1])][:len(found)])
    ends = [*starts[1:], len(found)]
    keys = zip(found["body"].to_numpy(dtype=object)[starts].tolist(),
               found["obligation"].to_numpy(dtype=object)[starts].tolist(), strict=True)
    return {key: cells[s:e] for key, s, e in zip(keys, starts, ends, strict=True)}


def _evidence_lines(evidence: Iterable[tuple[str, str, str, str]], wanted: set[tuple[str, str]],
                    lang: str) -> dict[tuple[str, str], list[str]]:
    """Per (body, obligation) of a problem, its evidence quoted: 证据：URL；附件 sha256 … (an address
    as it is, never converted to another script)."""
    lines: dict[tuple[str, str], list[str]] = {}
    evidence_said, file_said = script("证据：", lang), script("附件", lang)
    for body, obligation, url, sha in evidence:
        if (body, obligation) not in wanted or not (url or sha):
            continue
        shown = f"{url}；{file_said} sha256 {sha}" if url and sha else url or f"{file_said} sha256 {sha}"
        lines.setdefault((body, obligation), []).append(evidence_said + shown)
    return lines


def _day(v: pd.Series) -> list[str]:
    """Days as 2017-05-31 (none: ""), each distinct time written once (a nation's 462,257 lost
    findings have a few hundred)."""
    codes, distinct = pd.factorize(pd.to_datetime(v))
    days = np.array([*pd.DatetimeIndex(distinct).strftime("%Y-%m-%d"), ""], dtype=object)
    return days[codes].tolist()   # code -1 (no time): the last, ""


def _write_job(job: tuple) -> Path:
    return _write(*job[:-1], path=job[-1])


def _rectification(scheme: Scheme, *, body: str, problems: list[tuple], rows: dict, lines: dict,
                   standing: tuple, issued: dt.date, lang: str, head: Letterhead | None) -> tuple:
    """A 整改通知书's letterhead, title, 主送 and blocks (what `_write` renders); `problems`: the body's
    (obligation, lost, id, due_on, provisional) in the final result's order; `rows` and `lines`: per
    (body, obligation) the lost findings worst first, in words and script, and the evidence quoted."""
    h = scheme.scheme
    titles = {o.id: o.title for o in scheme.obligations}
    score, rank, grade = standing
    due_on, provisional = min(p[3] for p in problems), any(p[4] for p in problems)
    blocks: list[Block] = [
        ("p", script(f"根据{h.document or h.title}考核终评结果，你单位得分 {score:.2f}，排名第 {rank}，"
                     f"等次{grade}。经核查，存在以下失分事项，请于{due_text(due_on, provisional)}前完成整改，"
                     "并报送整改情况及佐证材料。", lang))]
    if provisional:
        blocks.append(("p", script(PROVISIONAL_NOTE, lang)))
    head_row = [script(c, lang) for c in ("事项", "应发布时间", "实际发布时间", "结果")]
    for i, (obligation, lost, problem_id, *_) in enumerate(problems, 1):
        blocks.append(("h3", script(f"{i}. {obligation} {titles.get(obligation, '')}（失分 {lost:.2f}，问题编号 {problem_id}）",
                                    lang)))
        blocks.append(Table([head_row, *rows.get((body, obligation), [])]))   # rows: in the script already
        blocks += [("url", line) for line in lines.get((body, obligation), [])]
    title = f"{h.title}考核整改通知书"
    return (_head(head or Letterhead(), lang), script(title, lang), script(scheme.body(body).name + "：", lang),
            blocks, issued)
