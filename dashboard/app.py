"""The dashboard: sidebar (language, scheme, assessment date), then the chosen page (st.navigation)."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.ui import Context
from scoring.errors import GongkaiError
from scoring.i18n import LANGUAGES, text
from scoring.store.accounts import Actor

st.set_page_config(page_title="政务公开考核 · gongkai", page_icon="📊", layout="wide")
lang = st.sidebar.radio("语言 / 語言 / Language", list(LANGUAGES), format_func=LANGUAGES.get, key="lang",
                        horizontal=True)
db = data.url()
data.ready(db)


def signed_in() -> Actor:
    """The signed-in account; a database without accounts is open (a single-user install)."""
    if not data.has_accounts(db):
        return Actor("dashboard", None)
    if "actor" not in st.session_state:
        with st.form("login"):
            st.subheader(text("login", lang))
            name = st.text_input(text("user_name", lang))
            password = st.text_input(text("password", lang), type="password")
            submitted = st.form_submit_button(text("login", lang))
        if submitted:
            try:
                st.session_state["actor"] = data.login(db, name, password)
                st.rerun()
            except GongkaiError as e:
                st.error(str(e))
        st.stop()
    try:  # every page view re-checks the account: disabled → signed out; role changed → new role
        actor = st.session_state["actor"] = data.current_actor(db, st.session_state["actor"])
    except GongkaiError as e:
        del st.session_state["actor"]
        st.error(str(e))
        st.stop()
    st.sidebar.caption(f"{text('signed_in', lang)}: {actor.name}（{actor.role}）")
    if st.sidebar.button(text("logout", lang)):
        del st.session_state["actor"]
        st.rerun()
    return actor


actor = signed_in()
ids = data.scheme_ids(db)
scheme_id = st.sidebar.selectbox("scheme", ids, label_visibility="collapsed") if len(ids) > 1 else ids[0]
state = data.token(db, scheme_id)
scheme = data.scheme(db, scheme_id, state, actor)
as_of = st.sidebar.date_input(text("as_of", lang), value=scheme.default_as_of, key="as_of")
st.session_state["ctx"] = Context(lang, db, scheme_id, None if as_of == scheme.default_as_of else as_of, state, actor)
st.sidebar.caption(f"{scheme.scheme.title}\n\n{scheme.scheme.document}")
if published := data.publications(db, scheme_id, actor):  # the published result, marked plainly
    from dashboard.cycle_ui import stage_text

    (st.sidebar.success if published[0].stage == "final" else st.sidebar.warning)(
        stage_text(published[0]) + ("" if actor.role == "body" else "；" + text("stage_live", lang)))

# (file, title key, url, the permissions any one of which opens the page)
PAGES = [
    ("rankings", "page_rankings", "rankings", ("read",)),
    ("gaps", "page_gaps", "gaps", ("read",)),
    ("departments", "page_departments", "departments", ("read",)),
    ("evidence", "page_evidence", "evidence", ("read", "import")),
    ("import_evidence", "page_import", "import", ("import",)),
    ("scheme", "page_scheme", "scheme", ("read",)),
    ("report", "page_report", "report", ("score",)),
    ("audit", "page_audit", "audit", ("audit",)),
    ("appeals", "page_appeals", "appeals", ("own",)),
    ("rectify", "page_rectify", "rectify", ("own",)),
]
allowed = [p for p in PAGES if any(actor.may(a) for a in p[3])]
pages = [st.Page(f"app_pages/{f}.py", title=text(key, lang), url_path=url, default=i == 0)
         for i, (f, key, url, _) in enumerate(allowed)]
st.navigation(pages).run()
