"""The quality of the assessment (issue 28): drawn samples and their items (with the first reading as
drawn and an evaluator's settlement), the blind second readings of those items, and the bodies'
self-assessments (自評).

Revision ID: 0010 (follows 0007, the calendar; the merger re-chains it after the collector's 0008)
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sample",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), nullable=False, index=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.String(), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("aql", sa.String(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("evidence_digest", sa.String(), nullable=False),
        sa.Column("drawn_by", sa.String(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sample_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sample_id", sa.Integer(), sa.ForeignKey("sample.id"), nullable=False, index=True),
        sa.Column("stratum", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("obligation", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("firm", sa.String(), nullable=False),
        sa.Column("batches", sa.String(), nullable=False),
        sa.Column("first_outcome", sa.String(), nullable=False),
        sa.Column("first_value", sa.Float(), nullable=True),
        sa.Column("first_published_at", sa.DateTime(), nullable=True),
        sa.Column("lot", sa.Integer(), nullable=False),
        sa.Column("ac", sa.Integer(), nullable=False),
        sa.Column("re", sa.Integer(), nullable=False),
        sa.Column("settled", sa.String(), nullable=False),
        sa.Column("settled_value", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("settled_by", sa.String(), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("import_batch.id"), nullable=True),
    )
    op.create_table(
        "second_reading",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sample_id", sa.Integer(), sa.ForeignKey("sample.id"), nullable=False, index=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("obligation", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("event_at", sa.DateTime(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("has_time", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("assessor", sa.String(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("imported_by", sa.String(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "self_assessment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scheme_id", sa.String(), sa.ForeignKey("scheme.id"), nullable=False, index=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("obligation", sa.String(), nullable=False),
        sa.Column("claim", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("published_at", sa.Date(), nullable=True),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("submitted_by", sa.String(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("scheme_id", "body", "obligation", name="uq_self_assessment"),
    )


def downgrade() -> None:
    op.drop_table("self_assessment")
    op.drop_table("second_reading")
    op.drop_table("sample_item")
    op.drop_table("sample")
