"""採集 Web collection: each crawl of a body's website and the evidence rows it proposes; proposals
chosen by confidence are accepted as one import (a firm sees only its own crawls)."""

import streamlit as st

from dashboard import data
from dashboard.ui import require, t
from scoring.errors import GongkaiError

c = require("collect")
st.title(t("page_collect"))
st.caption(t("collect_caption"))
crawls = data.crawls(c.db, c.actor)
if crawls.empty:
    st.info(t("collect_none"))
    st.stop()
heads = {k: t(f"collect_{v}") for k, v in (("id", "id"), ("body", "body"), ("site", "site"), ("account", "account"),
                                          ("started_at", "started"), ("ended_at", "ended"), ("pages", "pages"),
                                          ("bytes", "bytes"), ("errors", "errors"))}
st.dataframe(crawls.rename(columns=heads), hide_index=True, width="stretch")
labels = {f"{r.id} · {r.body} · {r.site}": int(r.id) for r in crawls.itertuples()}
crawl_id = labels[str(st.selectbox(t("collect_pick"), list(labels)[::-1]))]
least = st.slider(t("collect_min_confidence"), 0.0, 1.0, 0.8, 0.05)
props = data.proposals(c.db, crawl_id, c.actor)
chosen = props[props["confidence"] >= least]
columns = {k: t(f"collect_{v}") for k, v in (("id", "id"), ("obligation", "obligation"), ("period", "period"),
                                            ("published_at", "published"), ("title", "title"), ("url", "url"),
                                            ("confidence", "confidence"), ("reason", "reason"),
                                            ("capture", "capture"), ("status", "status"))}
waiting = chosen[chosen["status"] == "proposed"]
if c.actor.may("import") and len(waiting) and st.button(t("collect_accept").format(n=len(waiting))):
    try:
        done = data.accept_proposals(c.db, crawl_id, [int(i) for i in waiting["id"]], c.actor)
    except GongkaiError as e:
        st.error(str(e))
    else:
        r = done.result
        st.success(t("collect_accepted").format(n=len(done.ids), batch=r.batch_id, new=r.new, replaced=r.replaced,
                                                unchanged=r.unchanged))
        props = data.proposals(c.db, crawl_id, c.actor)
        chosen = props[props["confidence"] >= least]
st.dataframe(chosen[list(columns)].rename(columns=columns), hide_index=True, width="stretch")
if not chosen.empty:  # one proposal as the page looked (its screenshot), beside what was read from it
    st.subheader(t("collect_review"))
    shown = {f"{r.id} · {r.obligation} · {r.period} · {r.title}": int(r.id) for r in chosen.itertuples()}
    one = data.review(c.db, crawl_id, shown[str(st.selectbox(t("collect_review"), list(shown)))], c.actor)
    left, right = st.columns([3, 2])
    with left:
        if one.screenshot:
            st.image(one.screenshot, caption=one.url)
        elif one.screenshot_error:
            st.warning(t("collect_screenshot_failed").format(error=one.screenshot_error))
        else:
            st.info(t("collect_no_screenshot"))
    with right:  # the extracted text as text: the archived HTML is never rendered in this page
        st.markdown(f"**{t('collect_title')}**：{one.title}")
        st.markdown(f"**{t('collect_published')}**：{one.published_at or '—'}（{t('collect_date_source')}：{one.date_source or '—'}）")
        st.text_area(t("collect_text"), one.text[:20000], height=400, disabled=True)
        st.download_button(t("collect_warc"), one.warc, file_name=f"proposal-{one.id}.warc.gz",
                           mime="application/octet-stream")
