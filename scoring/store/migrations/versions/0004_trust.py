"""Trust, second round: a firm account's firm, re-sent values pending review, the rejection kept in
history, failed sign-ins for the lockout.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("firm", sa.String(), nullable=False, server_default=""))
    # firm accounts made before firms were bound: each is its own firm (its name), never free text
    op.execute("UPDATE app_user SET firm = name WHERE role = 'firm'")
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("evidence_history") as batch:
        batch.add_column(sa.Column("rejected", sa.String(), nullable=False, server_default=""))
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False, index=True),
        sa.Column("account", sa.String(), nullable=False, index=True),
        sa.Column("client", sa.String(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("login_failure")
    with op.batch_alter_table("evidence_history") as batch:
        batch.drop_column("rejected")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("pending")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("firm")
