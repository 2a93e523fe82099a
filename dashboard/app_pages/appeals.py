"""申訴 Appeals: a body's published result (preliminary or final, said plainly) with its lost points,
the evidence and files behind them, and its appeals; evaluators decide appeals here."""

import datetime as dt

import streamlit as st

from dashboard import data
from dashboard.cycle_ui import banner, cycle_table, day_text, evidence_with_files
from dashboard.ui import (
    ATTACHMENT_TYPES,
    MAX_ATTACHMENT_MB,
    findings_with_files,
    plain,
    require,
    show_attachment,
    t,
)
from scoring.errors import GongkaiError
from scoring.method import LOST
from scoring.method.scheme import natural_key
from scoring.store.cycle import Stage

c = require("own")
st.title(t("page_appeals"))
pubs = data.publications(c.db, c.scheme_id, c.actor)
banner(pubs)
if not pubs:
    st.stop()
pub = pubs[0]
names = {b.id: b.name for b in data.scheme(c.db, c.scheme_id, c.state, c.actor).bodies}
body = None
if c.actor.role != "body":
    body = st.selectbox(t("pick_body"), sorted(names), format_func=lambda b: f"{names[b]}（{b}）")
try:
    result = data.body_result(c.db, c.scheme_id, body, c.actor)
except GongkaiError as e:
    st.error(plain(e))
    st.stop()
row = result.scores.iloc[0]
cols = st.columns(3)
cols[0].metric(t("score"), f"{row['score']:.2f}")
cols[1].metric(t("rank"), str(row["rank"]))
cols[2].metric(t("grade"), row["grade"])
lost = result.findings[result.findings["lost"] > LOST]
st.subheader(t("lost_findings"))
for obligation in sorted(lost["obligation"].unique(), key=natural_key):   # 6.2 before 6.10, as the scheme lists them
    found = lost[lost["obligation"] == obligation]
    with st.expander(f"{obligation} — {t('finding_lost')} {found['lost'].sum():.2f}"):
        ev = result.evidence[result.evidence["obligation"] == obligation]
        shown = findings_with_files(c, found, ev.assign(body=result.body), f"lost_{obligation}")
        if len(ev):
            st.caption(t("evidence_files"))
            evidence_with_files(c, ev, f"ev_{obligation}", shown)

if c.actor.may("appeal") and pub.stage == Stage.PRELIMINARY:
    if data.appeal_window_closed(c.db, c.scheme_id, c.actor):  # the scheme's calendar, as the CLI
        st.info(t("window_closed").format(date=day_text(pub.closes_on, pub.provisional)))
    else:
        st.subheader(t("appeal_form"))
        obligations = sorted(lost["obligation"].unique(), key=natural_key)
        picked = st.selectbox(t("appeal_obligation"), obligations, key="appeal_obligation")
        with st.form("appeal"):
            items = lost.loc[lost["obligation"] == picked, "item"].astype(str).tolist()
            item = st.selectbox(t("appeal_item"), items)
            reason = st.text_area(t("appeal_reason"))
            published = st.date_input(t("appeal_published"), value=None)
            url = st.text_input(t("appeal_url"))
            upload = st.file_uploader(t("appeal_file"), type=ATTACHMENT_TYPES, max_upload_size=MAX_ATTACHMENT_MB)
            if st.form_submit_button(t("appeal_submit")):
                try:
                    n = data.add_appeal(c.db, c.scheme_id, c.actor, body=result.body, obligation=picked, item=item,
                                        reason=reason, url=url,
                                        published_at=dt.datetime.combine(published, dt.time()) if published else None,
                                        attachment=(upload.name, upload.getvalue()) if upload else None)
                    st.success(f"{t('appeal_filed')} {n}")
                except GongkaiError as e:
                    st.error(plain(e))

st.subheader(t("appeals_list"))
listed = data.appeals(c.db, c.scheme_id, c.actor)
if c.actor.role != "body" and body is not None and not c.actor.may("decide"):
    listed = listed[listed["body"] == body]
st.dataframe(cycle_table(listed, "appeal", names), hide_index=True, width="stretch")
for a in listed[listed["attachment"] != ""].itertuples():
    with st.expander(f"{t('decide_pick')} {a.id} · {a.body} · {a.obligation} · {a.item}"):
        show_attachment(c, a.attachment, f"appeal{a.id}")

if c.actor.may("decide"):
    st.subheader(t("decide_form"))
    undecided = listed[listed["status"] == "open"]
    if undecided.empty:
        st.info(t("no_open_appeals"))
    else:
        with st.form("decide"):
            n = st.selectbox(t("decide_pick"), [int(x) for x in undecided["id"]])
            accept = st.radio(t("decide_form"), [t("decide_accept"), t("decide_reject")], horizontal=True,
                              label_visibility="collapsed", key="decide_choice") == t("decide_accept")
            reason = st.text_input(t("decide_reason"))
            published = st.date_input(t("appeal_published"), value=None, key="decide_published")
            if st.form_submit_button(t("decide_submit")):
                try:
                    done = data.decide_appeal(c.db, int(n), accept, reason,
                                              dt.datetime.combine(published, dt.time()) if published else None, c.actor)
                    st.success(f"{t('decided')}: {plain(done.summary)}")
                    st.rerun()
                except GongkaiError as e:
                    st.error(plain(e))
