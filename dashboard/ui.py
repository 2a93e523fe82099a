"""Shared page pieces: the context chosen in the sidebar, translated labels, the body gap view."""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd
import streamlit as st

from dashboard import data
from scoring.errors import EvidenceError, GongkaiError
from scoring.i18n import text
from scoring.intake.attachments import FILE_TYPES, MAX_ATTACHMENT_BYTES
from scoring.method import LOST
from scoring.method.engine import Scorecard
from scoring.method.explain import finding_files, late_text
from scoring.report import charts
from scoring.report.model import item_text
from scoring.store.accounts import Actor

# the upload widgets say the limits the intake holds (25 MB a file; tables 512 MB: .streamlit/config.toml)
MAX_ATTACHMENT_MB = MAX_ATTACHMENT_BYTES // 2**20
DATE_PX = 150   # a date and time, YYYY-MM-DD HH:MM, whole


# what an appeal's or a 整改's file may be: the suffixes of the attachment types (file_uploader wants them bare)
ATTACHMENT_TYPES = sorted({suffix.rsplit(".", 1)[-1] for suffix in FILE_TYPES})

@dataclass(frozen=True)
class Context:
    lang: str
    db: str
    scheme_id: str
    as_of: dt.date | None
    state: tuple[str, int]
    actor: Actor

    @property
    def card(self) -> Scorecard:
        return data.scorecard(self.db, self.scheme_id, self.as_of, self.state, self.actor)


_MARKDOWN = str.maketrans({c: "\\" + c for c in string.punctuation})


_AUTOLINK = re.compile(r"(?i)(https?:|ftp:)(?=//)|\b(www)(?=\.)|(@)")
WORD_JOINER = "\u2060"  # invisible: breaks an address the renderer would turn into a link


def plain(text: object) -> str:
    """User-supplied text (a file name, a note, a reason, an error echoing a value) for an element that
    renders Markdown (st.error, st.caption, labels…): every ASCII punctuation character is
    backslash-escaped, and a word joiner follows `http:`, `www` and `@` (Streamlit links bare
    addresses after parsing), so the text shows as written — no bold, no link, no image fetched."""
    joined = _AUTOLINK.sub(lambda m: m.group(0) + WORD_JOINER, str(text))
    return joined.translate(_MARKDOWN)



T = TypeVar("T")


def upload_once(upload, key: str, take: Callable[[bytes, str], T]) -> T | None:
    """Hand an uploaded file to `take` (its bytes, its name) once per file — a rerun does not send it
    again — and show a refusal plainly: a refused file's first line and its problem rows (row,
    column, value, reason). None when nothing was taken."""
    if upload is None or st.session_state.get(key) == upload.file_id:
        return None
    try:
        done = take(upload.getvalue(), upload.name)
    except EvidenceError as e:
        st.error(plain(str(e).splitlines()[0]))
        st.dataframe([{"row": p.row, "column": p.column, "value": p.value, "reason": p.reason}
                      for p in e.problems[:1000]], hide_index=True)
        return None
    except GongkaiError as e:
        st.error(plain(e))
        return None
    st.session_state[key] = upload.file_id
    return done

def ctx() -> Context:
    return st.session_state["ctx"]


def require(*actions: str) -> Context:
    """Stop the page unless the signed-in role may do one of `actions` (pages are also hidden)."""
    c = ctx()
    if not any(c.actor.may(a) for a in actions):
        st.error(t("not_allowed"))
        st.stop()
    return c


def t(key: str) -> str:
    return text(key, st.session_state.get("lang", "zh-Hans"))


def grades(card: Scorecard) -> list[str]:
    return [g.name for g in card.scheme.scheme.grades]


def share_status() -> pd.Series:
    """Per body of the current scorecard: the 4% rule (share finding) as met / not met / no value, in
    the UI language (worked out once per evidence state and language)."""
    c = ctx()
    return data.share_status(c.db, c.scheme_id, c.as_of, c.state, st.session_state.get("lang", "zh-Hans"), c.actor)


def outcome(value: str) -> str:
    return t(f"outcome_{value}") if value else ""


def synthetic_note() -> None:
    """Say so plainly when the scores come from the synthetic demo evidence."""
    c = ctx()
    if data.synthetic(c.db, c.scheme_id, c.state):
        st.caption(t("synthetic"))


def body_gap_view(kind: str, pick_key: str) -> None:
    """Pick a body of `kind`: its score, distance to leader and median, gaps largest first with the
    findings behind each, and the heatmap of all bodies of that kind × obligations."""
    c = ctx()
    card = c.card
    scores = card.scores[card.scores["kind"] == kind].dropna(subset=["score"])
    if scores.empty:
        st.info("—")
        return
    names = dict(zip(scores["body"], scores["name"], strict=True))
    body = st.selectbox(t(pick_key), list(names), format_func=lambda b: f"{names[b]}（{b}）", key=f"pick_{kind}")
    row = scores.set_index("body").loc[body]
    if card.scheme.body(body).central:
        st.caption(t("central_unit"))
    cols = st.columns(5)
    cols[0].metric(t("score"), f"{row['score']:.2f}")
    cols[1].metric(t("rank"), f"{row['rank']} / {len(scores)}")
    cols[2].metric(t("grade"), row["grade"])
    cols[3].metric(t("to_leader"), f"{row['score'] - scores['score'].max():+.2f}")
    cols[4].metric(t("to_median"), f"{row['score'] - scores['score'].median():+.2f}")
    if row["veto"]:
        st.error(f"{t('veto')}: {plain(row['veto'])}")
    gaps = card.gaps_of(body)
    titles = {o.id: o.title for o in card.scheme.obligations}
    gaps = gaps.assign(title=gaps["obligation"].map(titles))
    if gaps.empty:
        st.success(t("no_gaps"))
    else:
        st.plotly_chart(charts.gap_bar(gaps, t("gap_chart"), t("lost_points")), key=f"gapbar_{kind}")
        found = data.explained_body(c.db, c.scheme_id, c.as_of, c.state, body, c.actor)
        evidence = data.body_files(c.db, c.scheme_id, body, c.actor)
        yoy = data.year_over_year(c.db, c.scheme_id, c.as_of, c.state, c.actor)
        again = set(yoy.recurring.loc[yoy.recurring["body"] == body, "obligation"]) if yoy is not None else set()
        if again:
            st.warning(t("recurring_note").format(previous=yoy.previous if yoy else "", n=len(again)))
        for g in gaps.itertuples():
            mark = f"【{t('recurring')}】" if g.obligation in again else ""
            with st.expander(f"{mark}{plain(g.obligation)} {plain(g.title)} — {t('finding_lost')} {g.gap:.2f}"):
                findings_with_files(c, found[found["obligation"] == g.obligation], evidence, f"{kind}_{g.obligation}")
    bodies = card.scores[card.scores["kind"] == kind][["body", "name"]]
    st.plotly_chart(charts.heatmap(card.obligations[card.obligations["body"].isin(bodies["body"])], bodies,
                                   t("heatmap")), key=f"heatmap_{kind}")


def findings_with_files(c: Context, found: pd.DataFrame, evidence: pd.DataFrame, key: str) -> set[str]:
    """The findings that lost points, each with the preserved files of the evidence it rests on (named
    in the table, then shown beside its item). Returns the files shown."""
    shown = found[found["lost"] > LOST]
    files = finding_files(shown, evidence)
    # the dates wide enough to read whole (2017-06-10 18:00): the grid sized them to their header
    dates = {t(k): st.column_config.TextColumn(width=DATE_PX) for k in ("finding_due", "finding_published")}
    st.dataframe(findings_table(shown).assign(**{t("report_attachment"): [
        "、".join(f"sha256 {s[:12]}…" for s in fs) or t("no_attachment") for fs in files]}), hide_index=True,
        column_config=dates)
    done: set[str] = set()
    for n, (row, fs) in enumerate(zip(shown.itertuples(), files, strict=True)):
        for sha in fs:
            item = f"{item_text(str(row.item), c.lang)} {row.item_text}".strip()
            st.caption(f"{t('finding_item')}：{plain(item)} · {t('report_attachment')}")
            show_attachment(c, sha, f"{key}_{n}")
            done.add(sha)
    return done


def show_attachment(c: Context, sha256: str, key: str) -> None:
    """A preserved file the signed-in account may see (`workflows.attachment` checks it): an image
    inline; every file also as a download with the safe content type its kind has (saved pages and
    archives as octet-stream) — never rendered as HTML in the app's origin."""
    if not sha256:
        return
    try:
        name, media, content = data.attachment(c.db, sha256, c.actor)
    except GongkaiError as e:
        st.caption(plain(e))
        return
    shown = False
    if media.startswith("image/"):
        try:  # the first bytes said PNG/JPEG; a broken image is still offered as a download
            st.image(content, caption=f"{name} · sha256 {sha256}")
            shown = True
        except Exception:  # noqa: BLE001 — PIL raises several types for damaged images
            pass
    if not shown:
        st.caption(f"{plain(name)} · sha256 {sha256}")
    st.download_button(f"{t('download')} {plain(name)}", content, file_name=name.rsplit("/", 1)[-1], mime=media,
                       key=f"dl_{key}_{sha256[:12]}")


def findings_table(f: pd.DataFrame) -> pd.DataFrame:
    shown = f[f["lost"] > LOST]
    return pd.DataFrame({
        t("finding_rule"): shown["label"],
        t("finding_item"): [f"{i} {x}".strip() for i, x in zip(shown["item"].astype(str), shown["item_text"], strict=True)],
        t("finding_due"): shown["due"].dt.strftime("%Y-%m-%d %H:%M").fillna(""),
        t("finding_published"): shown["published_at"].dt.strftime("%Y-%m-%d %H:%M").fillna(""),
        t("finding_outcome"): shown["outcome"].map(outcome),
        t("finding_late"): shown.apply(late_text, axis=1, lang=st.session_state.get("lang", "zh-Hans"))
        if len(shown) else [],
        t("finding_lost"): shown["lost"].round(3),
    })
