"""Accounts and roles, firm assignments, who imported a batch, rejected evidence.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "firm_assignment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user", sa.String(), sa.ForeignKey("app_user.name"), nullable=False, index=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("obligation", sa.String(), nullable=False),
    )
    with op.batch_alter_table("import_batch") as batch:
        batch.add_column(sa.Column("imported_by", sa.String(), nullable=False, server_default=""))
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("rejected", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("rejected")
    with op.batch_alter_table("import_batch") as batch:
        batch.drop_column("imported_by")
    op.drop_table("firm_assignment")
    op.drop_table("app_user")
