"""Page pieces of the assessment cycle: the published-result banner and a preserved file shown safely
(images inline, everything else a download with a safe content type — never rendered as HTML here)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.ui import Context, t
from scoring.errors import GongkaiError
from scoring.workflows import Published


def stage_text(pub: Published) -> str:
    if pub.stage == "final":
        return t("stage_final").format(run=pub.run_id)
    return t("stage_preliminary").format(run=pub.run_id, date=pub.closes_on)


def banner(pubs: list[Published]) -> None:
    """Say which published result a page shows: preliminary (with its window) or final (frozen)."""
    if not pubs:
        st.info(t("no_publication"))
        return
    (st.success if pubs[0].stage == "final" else st.warning)(stage_text(pubs[0]))


def show_attachment(c: Context, sha256: str, key: str) -> None:
    if not sha256:
        return
    try:
        name, media, content = data.attachment(c.db, sha256, c.actor)
    except GongkaiError as e:
        st.caption(str(e))
        return
    shown = False
    if media.startswith("image/"):
        try:  # the first bytes said PNG/JPEG; a broken image is still offered as a download
            st.image(content, caption=f"{name} · sha256 {sha256}")
            shown = True
        except Exception:  # noqa: BLE001 — PIL raises several types for damaged images
            pass
    if not shown:
        st.caption(f"{name} · sha256 {sha256}")
    st.download_button(f"{t('download')} {name}", content, file_name=name.rsplit("/", 1)[-1], mime=media,
                       key=f"dl_{key}_{sha256[:12]}")


def evidence_with_files(c: Context, ev: pd.DataFrame, key: str) -> None:
    """Evidence records as data, each preserved file beside them."""
    st.dataframe(ev.drop(columns=["attachment"]).assign(sha256=ev["attachment"]), hide_index=True)
    for sha in ev["attachment"][ev["attachment"] != ""].unique():
        show_attachment(c, str(sha), key)
