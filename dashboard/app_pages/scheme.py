"""指標 Scheme: the obligation tree in the document's words, the 4% rule, and a what-if editor."""

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.ui import plain, require, t
from scoring import workflows
from scoring.errors import GongkaiError

c = require("read")
card = c.card
h = card.scheme.scheme
st.title(t("page_scheme"))
st.caption(f"《{plain(h.title)}》 {plain(h.document)} · {h.issued}")

ok = h.transparency_share >= h.min_transparency_share
st.metric(t("share_check"), f"{h.transparency_share:.0%}", t("share_ok") if ok else t("share_low"),
          delta_color="normal" if ok else "inverse")

st.subheader(t("tree"))
names = {b.id: b.name for b in card.scheme.bodies}
sections: dict[str, list] = {}
for o in card.scheme.obligations:
    sections.setdefault(o.section[0], []).append(o)
for section, obligations in sections.items():
    with st.expander(f"{plain(section)}（{sum(o.points for o in obligations):g} {t('points')}）"):
        for o in obligations:
            st.markdown(f"**{plain(o.id)} {plain(' '.join(o.section[1:]))} {plain(o.title)}** · {t('points')} {o.points:g}")
            st.text(f"「{o.source}」")
            who = "、".join(names[x] for x in o.leads)
            every = "、".join(t(f"kind_{k}") for k in o.applies_to)
            st.caption(f"{t('leads')}: {plain(who) or '—'}" + (f" · {t('applies')}: {every}" if every else ""))
            st.caption(f"{t('rules')}: " + "；".join(f"{r.kind}: {plain(r.label or '')}" for r in o.rules))

with st.expander(t("draft_compare")):  # next year's draft (gongkai criteria draft) beside this scheme
    st.caption(t("draft_compare_help"))
    upload = st.file_uploader(t("draft_file"), type=["yaml", "yml"], key="draft_upload")
    if upload is not None:
        try:
            diff = workflows.compare_draft(upload.getvalue(), upload.name, card.scheme)
        except GongkaiError as e:
            st.error(plain(e))
        else:
            m = st.columns(4)
            for col, change in zip(m, ("added", "changed", "dropped", "same"), strict=True):
                col.metric(t(f"draft_{change}"), int((diff["change"] == change).sum()))
            st.metric(t("draft_open"), int(diff["open"].sum()))
            shown = diff[diff["change"] != "same"].assign(change=lambda f: f["change"].map(lambda x: t(f"draft_{x}")))
            st.dataframe(shown.rename(columns={"obligation": t("filter_obligation"), "change": t("draft_change"),
                                               "before": t("draft_before"), "after": t("draft_after"),
                                               "what": t("draft_what"), "open": t("draft_open")}),
                         hide_index=True, width="stretch")

st.subheader(t("whatif"))
base = pd.DataFrame([(o.id, o.title, o.points) for o in card.scheme.obligations],
                    columns=["obligation", "title", "points"])
edited = st.data_editor(base, disabled=["obligation", "title"], hide_index=True, key="whatif_points",
                        column_config={"obligation": t("filter_obligation"), "title": t("obligation_title"),
                                       "points": st.column_config.NumberColumn(t("points"), step=0.5, min_value=0.0)})
share = st.number_input(t("whatif_share"), min_value=0.0, max_value=1.0, value=float(h.transparency_share),
                        step=0.01, format="%.2f", key="whatif_share")
points = tuple((r.obligation, float(r.points)) for r in edited.itertuples())
after, refused = data.whatif(c.db, c.scheme_id, c.as_of, c.state, points, share, c.actor)
if after is None:
    st.error(t("whatif_refused") + plain(refused))
else:
    before = card.scores.set_index("body")
    now = after.set_index("body")
    table = pd.DataFrame({
        t("name"): before["name"], t("score_before"): before["score"].round(2),
        t("score_after"): now["score"].reindex(before.index).round(2),
        t("rank_before"): before["rank"], t("rank_after"): now["rank"].reindex(before.index),
    })
    table = table[before["kind"] == "city"].sort_values(t("rank_after"))
    st.caption(t("whatif_result"))
    st.dataframe(table, hide_index=True, width="stretch")
