"""The collector's screenshots (--screenshots, issue 23): each proposed page's full-page PNG (its
sha256 in the attachment store) on its capture, when it was taken, or why it could not be.

Revision ID: 0014 (follows 0013, the website inspection)
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("capture") as batch:
        batch.add_column(sa.Column("screenshot_sha256", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("screenshot_error", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("screenshot_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("capture") as batch:
        batch.drop_column("screenshot_at")
        batch.drop_column("screenshot_error")
        batch.drop_column("screenshot_sha256")
