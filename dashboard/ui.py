"""Shared page pieces: the context chosen in the sidebar, translated labels, the body gap view."""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import data
from scoring.i18n import text
from scoring.method.engine import Scorecard
from scoring.method.explain import late_text
from scoring.report import charts
from scoring.store.accounts import Actor


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
        for g in gaps.itertuples():
            with st.expander(f"{plain(g.obligation)} {plain(g.title)} — {t('finding_lost')} {g.gap:.2f}"):
                st.dataframe(_findings_table(found[found["obligation"] == g.obligation]), hide_index=True)
    bodies = card.scores[card.scores["kind"] == kind][["body", "name"]]
    st.plotly_chart(charts.heatmap(card.obligations[card.obligations["body"].isin(bodies["body"])], bodies,
                                   t("heatmap")), key=f"heatmap_{kind}")


def _findings_table(f: pd.DataFrame) -> pd.DataFrame:
    shown = f[f["lost"] > 1e-12]
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
