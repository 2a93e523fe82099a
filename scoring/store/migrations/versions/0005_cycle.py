"""The assessment cycle: preserved attachments (on evidence and its history), body accounts,
publications (preliminary / final, frozen), appeals, 整改 problems.

Revision ID: 0005 (follows 0004, the second round of accounts)
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("evidence", "evidence_history"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("attachment", sa.String(), nullable=False, server_default=""))
            batch.add_column(sa.Column("captured_at", sa.DateTime(), nullable=True))
    op.create_table(
        "attachment",
        sa.Column("sha256", sa.String(), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "body_account",
        sa.Column("user", sa.String(), sa.ForeignKey("app_user.name"), primary_key=True),
        sa.Column("body", sa.String(), nullable=False),
    )
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), nullable=False, index=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("scoring_run.id"), nullable=False, index=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by", sa.String(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column("scheme_text", sa.Text(), nullable=False),
        sa.Column("evidence_gz", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "appeal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("publication_id", sa.Integer(), sa.ForeignKey("publication.id"), nullable=False, index=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("obligation", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("attachment", sa.String(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=True),
        sa.Column("filed_by", sa.String(), nullable=False),
        sa.Column("filed_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=True),
    )
    op.create_table(
        "rectification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("publication_id", sa.Integer(), sa.ForeignKey("publication.id"), nullable=False, index=True),
        sa.Column("body", sa.String(), nullable=False, index=True),
        sa.Column("obligation", sa.String(), nullable=False),
        sa.Column("lost", sa.Float(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("attachment", sa.String(), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    for name in ("rectification", "appeal", "publication", "body_account", "attachment"):
        op.drop_table(name)
    for table in ("evidence_history", "evidence"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("captured_at")
            batch.drop_column("attachment")
