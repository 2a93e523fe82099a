"""An index of the evidence records kept but not scored (rejected, or re-sent and pending) and of
those with a preserved file: what a report reads beside the scored records' snapshot
(`repository.evidence_summary`). A partial index, so a nation's million scored records are not
scanned to find none (0.22 s → 0.1 ms at 1,055,024 records); the query names the same condition.

Revision ID: 0015 (follows 0014, the collector's screenshots)
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KEPT = "rejected != '' OR pending OR attachment != ''"   # as models.KEPT_NOT_SCORED (a migration keeps its own copy)


def upgrade() -> None:
    op.create_index("ix_evidence_kept", "evidence", ["scheme_id", "id"],
                    sqlite_where=sa.text(KEPT), postgresql_where=sa.text(KEPT))


def downgrade() -> None:
    op.drop_index("ix_evidence_kept", table_name="evidence")
