"""The web collector: crawls, their captures (WARC records by sha256, what each page says) and the
evidence rows they propose.

Revision ID: 0008 (follows 0006; merged after 0007, it follows 0007)
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), nullable=False, index=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("index_sha256", sa.String(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
    )
    op.create_table(
        "capture",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("crawl_id", sa.Integer(), sa.ForeignKey("crawl.id"), nullable=False, index=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("mime", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("request_sha256", sa.String(), nullable=False),
        sa.Column("response_sha256", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("has_time", sa.Boolean(), nullable=False),
        sa.Column("date_source", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("referrer_channel", sa.String(), nullable=False),
        sa.Column("is_list", sa.Boolean(), nullable=False),
        sa.Column("redirect", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_table(
        "proposal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("crawl_id", sa.Integer(), sa.ForeignKey("crawl.id"), nullable=False, index=True),
        sa.Column("capture_id", sa.Integer(), sa.ForeignKey("capture.id"), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("obligation", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("published_at", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("capture", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=False),
    )


def downgrade() -> None:
    for name in ("proposal", "capture", "crawl"):
        op.drop_table(name)
