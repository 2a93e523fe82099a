"""排名 Rankings: score, rank, grade, the 4% rule and the change against an earlier run, per kind."""

import streamlit as st

from dashboard import data
from dashboard.ui import grades, require, share_status, synthetic_note, t
from scoring.report import charts

c = require("read")


def arrow(change: float) -> str:
    """A rank change as read at a glance: ▲3 (moved up), ▼2, ＝ (same), — (no previous result)."""
    if change != change:
        return "—"
    return f"▲{int(change)}" if change > 0 else f"▼{int(-change)}" if change < 0 else "＝"


card = c.card
st.title(t("page_rankings"))
synthetic_note()
kinds = [k for k in ("city", "department", "county") if (card.scores["kind"] == k).any()]
kind = st.segmented_control(t("name"), kinds, format_func=lambda k: t(f"kind_{k}"), default=kinds[0],
                            key="rank_kind") or kinds[0]
scores = card.scores[card.scores["kind"] == kind].assign(share=share_status().to_numpy()[
    (card.scores["kind"] == kind).to_numpy()])

runs = data.runs(c.db, c.scheme_id, c.actor)
options = [None, *runs["run"].tolist()]
stages = {r.run: "" if r.stage == "—" else " · " + "、".join(t(f"run_{s}") for s in r.stage.split("+"))
          for r in runs.itertuples()}   # the published runs marked: 初评, ★ 终评
labels = {r.run: f"#{r.run}{stages[r.run]} · {r.as_of} · {str(r.created_at)[:16]}" for r in runs.itertuples()}
earlier = st.selectbox(t("compare_run"), options, format_func=lambda r: t("no_run") if r is None else labels[r])

m = st.columns(3)
m[0].metric(t("bodies_assessed"), len(scores))
m[1].metric(t("average"), f"{scores['score'].mean():.2f}")
m[2].metric(t("share_compliance"), f"{(scores['share'] == t('share_pass')).sum()} / {(scores['share'] != '—').sum()}")

table = scores[["rank", "name", "score", "grade", "share", "veto"]].copy()
central = {b.id for b in card.scheme.bodies if b.central}  # assessed only where named (criteria/README.md)
table["name"] = [f"{n}（{t('central_short')}）" if b in central else n for b, n in zip(scores["body"], scores["name"], strict=True)]
if earlier is not None:
    before = data.run_scores(c.db, int(earlier), c.actor).set_index("body")
    table[t("change")] = (scores["score"].to_numpy() - before["score"].reindex(scores["body"]).to_numpy()).round(2)
    table[t("rank_change")] = before["rank"].reindex(scores["body"]).to_numpy() - scores["rank"].to_numpy()
yoy = data.year_over_year(c.db, c.scheme_id, c.as_of, c.state, c.actor)
if yoy is not None:  # beside the previous scheme's final result, through the crosswalk
    changes = yoy.changes.set_index("body").reindex(scores["body"])
    table[t("yoy_change")] = [f"{v:+.2f}" if v == v else "—" for v in changes["change"]]
    table[t("yoy_rank")] = [arrow(v) for v in changes["rank_change"]]
    table[t("yoy_comparable")] = [f"{v:+.2f}" if v == v else "—" for v in changes["comparable_change"]]
table = table.rename(columns={"rank": t("rank"), "name": t("name"), "score": t("score"), "grade": t("grade"),
                              "share": t("share_rule"), "veto": t("veto")})
st.dataframe(table.round(2), hide_index=True, width="stretch")
if yoy is not None:
    st.caption(t("yoy_caption").format(previous=yoy.previous))
    names = dict(zip(scores["body"], scores["name"], strict=True))
    top = yoy.improved[yoy.improved["kind"] == kind]
    if len(top):
        st.success(t("yoy_improved") + "、".join(f"{n}（{v:+.2f}）" for n, v in zip(top["name"], top["comparable_change"], strict=True)))
    picked = st.multiselect(t("yoy_trend_pick"), list(names), default=list(names)[:3], format_func=lambda b: names[b], key="trend_pick")
    st.plotly_chart(charts.trend_line(yoy.trend[yoy.trend["body"].isin(picked)], names, t("yoy_trend"), t("score")),
                    key="trend_line")
st.plotly_chart(charts.ranking_bar(scores, grades(card), t("ranking_chart"), t("score")), key="ranking_bar")
st.plotly_chart(charts.grade_distribution(card.scores.dropna(subset=["score"]).assign(
    kind=lambda d: d["kind"].map({k: t(f"kind_{k}") for k in d["kind"].unique()})), grades(card), t("grade_chart")),
    key="grade_dist")

with st.expander(t("robustness")):  # how sure is this ranking? (perturbed points, late credit, ratings)
    # Streamlit runs an expander's body even when it is collapsed: the simulation (1,000 re-scorings,
    # half a minute at national scale) runs only once asked for, then is cached per evidence state
    if not st.toggle(t("robustness_run"), key="robustness_on", help=t("robustness_wait")):
        st.caption(t("robustness_wait"))
    else:
        robust = data.robustness(c.db, c.scheme_id, c.as_of, c.state, c.actor)
        robust = robust[robust["kind"] == kind]
        unsure = robust[robust["p_same_grade"] < 0.8]
        st.caption(t("robustness_caption"))
        if len(unsure):
            names = dict(zip(scores["body"], scores["name"], strict=True))
            st.warning(t("grade_uncertain") + "、".join(unsure["body"].map(names)))
        st.plotly_chart(charts.rank_intervals(robust, dict(zip(scores["body"], scores["name"], strict=True)),
                                              t("robustness_chart"), t("rank"), t("grade_uncertain_short")),
                        key="rank_intervals")
