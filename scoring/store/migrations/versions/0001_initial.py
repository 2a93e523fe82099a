"""Initial schema: schemes, bodies, obligations, import batches, evidence with history, scoring runs.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheme",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "body",
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), primary_key=True),
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("parent", sa.String(), nullable=True),
    )
    op.create_table(
        "obligation",
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), primary_key=True),
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
    )
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), nullable=False, index=True),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False, index=True),
        sa.Column("firm", sa.String(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_new", sa.Integer(), nullable=False),
        sa.Column("rows_replaced", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), nullable=False, index=True),
        *(sa.Column(c, sa.String(), nullable=False) for c in
          ("body", "obligation", "period", "event", "step", "assessor", "record")),
        sa.Column("event_at", sa.DateTime(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("has_time", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=False, index=True),
        sa.UniqueConstraint("scheme_id", "body", "obligation", "period", "event", "step", "assessor",
                            "record", name="uq_evidence_key"),
    )
    op.create_table(
        "evidence_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("evidence_id", sa.Integer(), sa.ForeignKey("evidence.id"), nullable=False, index=True),
        sa.Column("event_at", sa.DateTime(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("has_time", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=False),
        sa.Column("replaced_by", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=False),
    )
    op.create_table(
        "scoring_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), nullable=False, index=True),
        sa.Column("scheme_sha256", sa.String(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("evidence_digest", sa.String(), nullable=False),
        sa.Column("evidence_rows", sa.Integer(), nullable=False),
        sa.Column("engine_version", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("scores_json", sa.Text(), nullable=False),
        sa.Column("obligations_json", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in ("scoring_run", "evidence_history", "evidence", "import_batch", "obligation", "body",
                  "scheme"):
        op.drop_table(table)
