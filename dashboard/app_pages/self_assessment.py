"""自评对照 Self-assessment: a body's own claims (自評) beside the third-party finding — where they
differ, and the claims the firm's evidence does not support. A body account sees and uploads only its
own; evaluators, viewers and admins see every body's (the `own` permission); a firm never opens it."""

import streamlit as st

from dashboard import data
from dashboard.ui import plain, require, t, upload_once
from scoring.errors import GongkaiError
from scoring.report.quality import self_table

c = require("own", "self")
st.title(t("page_self"))
if c.actor.may("self"):  # the same workflow as `gongkai self import`: never evidence, never scored
    upload = st.file_uploader(t("self_upload"), type=["csv"], key="self_upload")
    done = upload_once(upload, "self_done", lambda data_, name: data.import_self(c.db, c.scheme_id, name, data_, c.actor))
    if done is not None:
        new, replaced = done
        st.success(t("self_uploaded").format(new=new, replaced=replaced))
try:
    claims = data.self_comparison(c.db, c.scheme_id, c.actor)
except GongkaiError as e:  # a body account not yet tied to its body
    st.error(plain(e))
    st.stop()
if claims.empty:
    st.info(t("self_none"))
    st.stop()
st.caption(t("self_caption").format(bodies=claims["body"].nunique(), claims=len(claims),
                                    differ=int(claims["differs"].sum()), unsupported=int((~claims["supported"]).sum())))
if st.checkbox(t("self_only_differing"), key="self_only_differing"):
    claims = claims[claims["differs"] | ~claims["supported"]]
scheme = data.scheme(c.db, c.scheme_id, c.state, c.actor)
st.dataframe(self_table(claims, scheme, c.lang), hide_index=True, width="stretch")
