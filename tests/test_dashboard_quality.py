"""The 质量 Quality page through streamlit's AppTest: before a sample, after a draw, after a blind
second reading that found nothing (every lot marked for re-checking), and its role check."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from scoring.store.accounts import Actor
from scoring.workflows import quality as q
from tests.test_dashboard import APP, app, page  # noqa: F401  (the fixture)

OPEN = Actor("dashboard", None)


def test_quality_page_shows_agreement_disputes_and_the_lot_to_recheck(app):  # noqa: F811
    url = app.session_state["ctx"].db
    at = page(app, "quality")
    assert at.info[0].value == "尚未抽取样本（gongkai sample draw）。"
    drawn = q.draw_sample(url, actor=OPEN, seed=42)
    at = page(app, "quality")
    assert at.info[0].value == "尚无第二次评估（gongkai sample import）。"
    assert len(at.dataframe[0].value) == len(drawn.items) == 80  # 1106 items: J, 80 of them, Ac 5
    blind = pd.read_csv(__import__("io").BytesIO(q.export_blind(url, actor=OPEN)), dtype=str,
                        keep_default_na=False, encoding="utf-8-sig")
    q.import_second(url, actor=OPEN, name="second.csv",
                    data=blind.assign(assessor="乙公司").to_csv(index=False).encode())
    disputes = q.disagreements(url, actor=OPEN)
    at = page(app, "quality")
    assert at.error[0].value.startswith(f"需复核：— 不一致 {len(disputes)} 项，超过接收数 5；批次 1（示例评估机构（合成数据））")
    assert len(at.get("plotly_chart")) == 1
    agreement = at.dataframe[0].value
    assert list(agreement.columns) == ["group", "n", "agreement", "kappa", "alpha", "low", "high"]
    assert agreement["n"].sum() == 80
    assert len(at.dataframe[1].value) == len(disputes) > 5  # the items in dispute


def test_quality_page_checks_the_role_itself(app, tmp_path):  # noqa: F811
    """A body account is refused; a firm's account opens the page for its blind items and the upload of
    second readings, and sees no draw form and no agreement."""
    from dashboard.ui import Context
    from scoring import workflows

    ctx = app.session_state["ctx"]
    db = f"sqlite:///{tmp_path / 'roles.db'}"
    workflows.load_demo(db, actor=OPEN)
    workflows.add_user(db, actor=None, name="root", password="root-password", role="admin")
    workflows.add_user(db, actor=Actor("root", "admin"), name="acme", password="acme-password", role="firm",
                       firm="示例評估機構（合成數據）")

    def as_role(name, role):
        at = AppTest.from_file(str(Path(APP).parent / "app_pages" / "quality.py"), default_timeout=60)
        at.session_state["ctx"] = Context(ctx.lang, db, ctx.scheme_id, ctx.as_of, ctx.state, Actor(name, role))
        return at.run()

    at = as_role("x", "body")
    assert at.error[0].value == "您的角色无权使用此页面。" and not at.dataframe
    at = as_role("acme", "firm")
    assert not at.exception, at.exception
    assert not at.expander and at.info[0].value == "尚未抽取样本（gongkai sample draw）。"
    q.draw_sample(db, actor=Actor("root", "admin"), seed=42)
    at = as_role("acme", "firm")
    assert not at.exception and [u.label for u in at.get("file_uploader")] == ["上传第二次评估（证据文件格式）"]
    assert "一致性（按任务）" not in [h.value for h in at.subheader]  # agreement is for evaluators and viewers
