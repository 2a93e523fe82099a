"""The dashboard: sidebar (language, scheme, assessment date), then the chosen page (st.navigation)."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.ui import Context
from scoring.i18n import LANGUAGES, text

st.set_page_config(page_title="政务公开考核 · gongkai", page_icon="📊", layout="wide")
lang = st.sidebar.radio("语言 / 語言 / Language", list(LANGUAGES), format_func=LANGUAGES.get, key="lang",
                        horizontal=True)
db = data.url()
data.ready(db)
ids = data.scheme_ids(db)
scheme_id = st.sidebar.selectbox("scheme", ids, label_visibility="collapsed") if len(ids) > 1 else ids[0]
state = data.token(db, scheme_id)
default = data.scorecard(db, scheme_id, None, state)
as_of = st.sidebar.date_input(text("as_of", lang), value=default.as_of, key="as_of")
st.session_state["ctx"] = Context(lang, db, scheme_id, None if as_of == default.as_of else as_of, state)
st.sidebar.caption(f"{default.scheme.scheme.title}\n\n{default.scheme.scheme.document}")

pages = [
    st.Page("app_pages/rankings.py", title=text("page_rankings", lang), url_path="rankings", default=True),
    st.Page("app_pages/gaps.py", title=text("page_gaps", lang), url_path="gaps"),
    st.Page("app_pages/departments.py", title=text("page_departments", lang), url_path="departments"),
    st.Page("app_pages/evidence.py", title=text("page_evidence", lang), url_path="evidence"),
    st.Page("app_pages/import_evidence.py", title=text("page_import", lang), url_path="import"),
    st.Page("app_pages/scheme.py", title=text("page_scheme", lang), url_path="scheme"),
    st.Page("app_pages/report.py", title=text("page_report", lang), url_path="report"),
    st.Page("app_pages/audit.py", title=text("page_audit", lang), url_path="audit"),
]
st.navigation(pages).run()
