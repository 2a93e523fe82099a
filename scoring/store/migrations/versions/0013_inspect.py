"""The website inspection (issue 24): polls of a body's home page and columns, each page with its
WARC records and the items it lists.

Revision ID: 0013 (follows 0012, the notice settings)
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), nullable=False, index=True),
        sa.Column("body", sa.String(), nullable=False, index=True),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("loaded", sa.Boolean(), nullable=False),
        sa.Column("elapsed", sa.Float(), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
    )
    op.create_table(
        "poll_page",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("poll_id", sa.Integer(), sa.ForeignKey("poll.id"), nullable=False, index=True),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("loaded", sa.Boolean(), nullable=False),
        sa.Column("elapsed", sa.Float(), nullable=False),
        sa.Column("request_sha256", sa.String(), nullable=False),
        sa.Column("response_sha256", sa.String(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for name in ("poll_page", "poll"):
        op.drop_table(name)
