"""The dashboard: sidebar (language, scheme, assessment date), then the chosen page (st.navigation)."""

from __future__ import annotations

import streamlit as st

from dashboard import data, script
from dashboard.ui import Context, plain
from scoring.errors import GongkaiError
from scoring.i18n import LANGUAGES, text
from scoring.store.accounts import ENDED, REFUSED, Actor
from scoring.store.cycle import Stage

st.set_page_config(page_title="政务公开考核 · gongkai", page_icon="📊", layout="wide")
script.install()   # names, grades, titles and quotations shown in the chosen language's script
lang = st.sidebar.radio("语言 / 語言 / Language", list(LANGUAGES), format_func=LANGUAGES.get, key="lang",
                        horizontal=True)
db = data.url()
data.ready(db)


SESSION = "session"  # the query parameter that once held the session token: never read, dropped from an address


def _forget() -> None:
    """This browser forgets the token (its session may already have ended)."""
    st.session_state.pop("token", None)


def _sign_out() -> bool:
    """退出登录: the session ends server-side, so the token is refused even if it was copied; False, with
    the reason shown, when the database cannot record it (busy: try again)."""
    try:
        data.sign_out(db, st.session_state["token"])
    except GongkaiError as e:
        st.sidebar.error(plain(e))
        return False
    _forget()
    return True


def _password_form(actor: Actor) -> None:
    with st.sidebar.expander(text("change_password", lang)), st.form("password", clear_on_submit=True):
        new = st.text_input(text("new_password", lang), type="password")
        again = st.text_input(text("repeat_password", lang), type="password")
        if st.form_submit_button(text("change_password", lang)):
            if new != again:
                st.error(text("passwords_differ", lang))
                return
            try:
                data.change_password(db, actor, new)
            except GongkaiError as e:
                st.error(plain(e))
                return
            st.session_state["token"] = data.session_token(db, actor)
            st.success(text("password_changed", lang))


def signed_in() -> Actor:
    """The signed-in account; a database without accounts is open (a single-user install).

    A sign-in yields a signed, expiring session token (a server-side session), kept only in this
    browser tab's Streamlit session (`st.session_state`, on the server): never in an address, so no
    browser history, bookmark, shared link or access log holds it. Switching pages keeps it; a reload
    or an address typed by hand opens a new Streamlit session, which asks to sign in again.
    Every page view checks the token again: its signature and expiry, and the account as it is now —
    signed out, disabled or password changed → signed out, role changed → the new role."""
    if SESSION in st.query_params:  # an old address with a token in it: not read, and taken out of the address
        del st.query_params[SESSION]
    if not data.has_accounts(db):
        return Actor("dashboard", None)
    actor = None
    if "token" in st.session_state:
        try:
            actor = data.resume(db, st.session_state["token"])
        except GongkaiError as e:
            _forget()
            said = {REFUSED: "session_expired", ENDED: "session_ended"}.get(str(e))   # in the UI language
            st.error(text(said, lang) if said else plain(e))
    if actor is None:
        with st.form("login"):
            st.subheader(text("login", lang))
            name = st.text_input(text("user_name", lang))
            password = st.text_input(text("password", lang), type="password")
            submitted = st.form_submit_button(text("login", lang))
        if submitted:
            try:
                actor = data.login(db, name, password, f"web {st.context.ip_address or 'localhost'}")
            except GongkaiError as e:  # a wrong password: one message in the UI language; a lockout says so
                st.error(text("login_failed", lang) if "wrong password" in str(e) else plain(e))
            else:
                st.session_state["token"] = data.session_token(db, actor)
                st.rerun()
        st.stop()
    st.sidebar.caption(f"{text('signed_in', lang)}: {plain(actor.name)}（{actor.role}）")
    if st.sidebar.button(text("logout", lang)) and _sign_out():
        st.rerun()
    _password_form(actor)
    return actor


actor = signed_in()
ids = data.scheme_ids(db)
default = data.default_scheme(db)  # the newest of a lineage (the demo's second year) comes first
scheme_id = (st.sidebar.selectbox("scheme", ids, index=ids.index(default) if default in ids else 0,
                                  label_visibility="collapsed") if len(ids) > 1 else ids[0])
state = data.token(db, scheme_id)
scheme = data.scheme(db, scheme_id, state, actor)
first, last = scheme.as_of_range  # the dates the scheme can mean; the engine refuses others
as_of = st.sidebar.date_input(text("as_of", lang), value=scheme.default_as_of, min_value=first, max_value=last,
                              key="as_of")
st.session_state["ctx"] = Context(lang, db, scheme_id, None if as_of == scheme.default_as_of else as_of, state, actor)
st.sidebar.caption(f"{plain(scheme.scheme.title)}\n\n{plain(scheme.scheme.document)}")
if published := data.publications(db, scheme_id, actor):  # the published result, marked plainly
    from dashboard.cycle_ui import stage_text

    (st.sidebar.success if published[0].stage == Stage.FINAL else st.sidebar.warning)(
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
    ("collect", "page_collect", "collect", ("collect",)),
    ("inspect", "page_inspect", "inspect", ("collect",)),
    ("quality", "page_quality", "quality", ("quality", "sample_read", "second")),
    ("self_assessment", "page_self", "self-assessment", ("own", "self")),
]
allowed = [p for p in PAGES if any(actor.may(a) for a in p[3])]
pages = [st.Page(f"app_pages/{f}.py", title=text(key, lang), url_path=url) for f, key, url, _ in allowed]
# the root is a hidden page that goes on to the first page: every page keeps its own URL, so /rankings
# opened by its address is found (the default page answers only at the root)
home = st.Page(lambda: st.switch_page(pages[0]), title=pages[0].title, url_path="home", default=True,
               visibility="hidden")
st.navigation([home, *pages]).run()
