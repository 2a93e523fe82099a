"""整改 Rectification: problems of the final result per city (open / rectified / verified); a body
marks its own rectified with evidence, an evaluator verifies or reopens."""

import streamlit as st

from dashboard import data
from dashboard.cycle_ui import banner, cycle_table, day_text
from dashboard.ui import ATTACHMENT_TYPES, MAX_ATTACHMENT_MB, plain, require, show_attachment, t
from scoring.errors import GongkaiError
from scoring.store.cycle import ProblemStatus, Stage

c = require("own")
st.title(t("page_rectify"))
pubs = data.publications(c.db, c.scheme_id, c.actor)
banner(pubs)
if not pubs or pubs[0].stage != Stage.FINAL:
    st.info(t("no_final"))
    st.stop()
if c.actor.role != "body":
    st.subheader(t("rectify_by_city"))
    st.dataframe(cycle_table(data.problems_by_city(c.db, c.scheme_id, c.actor), "problem"), hide_index=True,
                 width="stretch")
st.subheader(t("rectify_list"))
todo = data.problems(c.db, c.scheme_id, c.actor)
shown = todo.assign(due_on=[day_text(d, p) for d, p in zip(todo["due_on"], todo["provisional"], strict=True)])
names = {b.id: b.name for b in data.scheme(c.db, c.scheme_id, c.state, c.actor).bodies}
st.dataframe(cycle_table(shown.drop(columns=["provisional"]), "problem", names), hide_index=True, width="stretch")
for p in todo[todo["attachment"] != ""].itertuples():
    with st.expander(f"{t('rectify_pick')} {p.id} · {p.body} · {p.obligation}"):
        show_attachment(c, p.attachment, f"problem{p.id}")
if c.actor.may("track") and len(todo):
    st.subheader(t("rectify_form"))
    with st.form("rectify"):
        n = st.selectbox(t("rectify_pick"), [int(x) for x in todo["id"]])
        statuses = ([ProblemStatus.RECTIFIED] if c.actor.role == "body"
                    else [ProblemStatus.VERIFIED, ProblemStatus.OPEN, ProblemStatus.RECTIFIED])
        status = st.selectbox(t("rectify_status"), statuses, format_func=lambda s: t(f"problem_status_{s}"))
        note = st.text_input(t("rectify_note"))
        upload = st.file_uploader(t("rectify_file"), type=ATTACHMENT_TYPES, max_upload_size=MAX_ATTACHMENT_MB)
        if st.form_submit_button(t("rectify_submit")):
            try:
                data.set_problem(c.db, int(n), status, note, (upload.name, upload.getvalue()) if upload else None,
                                 c.actor)
                st.success(t("rectify_updated"))
                st.rerun()
            except GongkaiError as e:
                st.error(plain(e))
