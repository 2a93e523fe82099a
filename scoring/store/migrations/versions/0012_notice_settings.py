"""The letterhead of the documents of record (issue 26): per scheme the issuing office, its 文号
pattern, 主送 and 抄送 of the 通報 and 整改通知書.

Revision ID: 0012 (follows 0010; the merger re-chains it after 0011 if that lands first)
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_settings",
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), primary_key=True),
        sa.Column("office", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("to", sa.String(), nullable=False),
        sa.Column("cc", sa.String(), nullable=False),
        sa.Column("set_by", sa.String(), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notice_settings")
