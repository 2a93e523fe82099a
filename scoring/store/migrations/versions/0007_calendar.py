"""The working-day calendar an office loads (the State Council's holiday notice of a year), and the
assessment cycle's dates computed on it: a publication keeps its window's anchor day and length, so
a date first computed on an estimated calendar (暫定) is recomputed exactly when the year is loaded,
and the loaded years it was judged on (frozen with it, as its scheme and evidence are). A run keeps
the digest of the loaded years it was scored on. A scheme keeps the id of the scheme of the year
before (its `lineage.previous`), so the newest of a lineage is found without parsing every scheme.

Revision ID: 0007 (follows 0006, evidence's batch checks)
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False, index=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("loaded_by", sa.String(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("scheme") as batch:
        batch.add_column(sa.Column("previous", sa.String(), nullable=True))
    with op.batch_alter_table("scoring_run") as batch:
        batch.add_column(sa.Column("calendar_digest", sa.String(), nullable=False, server_default=""))
    with op.batch_alter_table("publication") as batch:
        batch.add_column(sa.Column("opened_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("provisional", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("calendar_text", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        for column in ("calendar_text", "provisional", "days", "opened_on"):
            batch.drop_column(column)
    with op.batch_alter_table("scoring_run") as batch:
        batch.drop_column("calendar_digest")
    with op.batch_alter_table("scheme") as batch:
        batch.drop_column("previous")
    op.drop_table("calendar_day")
