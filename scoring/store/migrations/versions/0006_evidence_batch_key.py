"""Evidence's references to its batch and scheme checked once per statement on PostgreSQL.

Each evidence row had two foreign keys (scheme_id → scheme, batch_id → import_batch) and an index on
scheme_id that the evidence key (scheme_id first) already gives. On PostgreSQL a foreign key is a
trigger's lookup and row lock per inserted row: COPY of a million rows took 7.5 s into the table
without them, 14.3 s with one composite key and 18.7 s with the two (measured 2026-12-03).

Both backends: the redundant index goes. PostgreSQL: the two foreign keys become constraint checks
that run once per statement — after each INSERT or UPDATE on evidence, one set-based query over the
statement's new rows (9.5 s for the million): each row's batch exists and is of the row's scheme
(which says more than the two keys did; the batch's own key to its scheme remains); and before a
batch's id or scheme changes or it is deleted, that no evidence refers to it. gongkai never deletes
batches; the guard is for hands on the database. SQLite keeps its two foreign keys (its checks are
cheap, and changing them would rebuild the evidence table of every existing database).

Revision ID: 0006 (follows 0005, the assessment cycle)
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHECKS = ["""
CREATE FUNCTION evidence_batch_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS
             (SELECT 1 FROM import_batch b WHERE b.id = n.batch_id AND b.scheme_id = n.scheme_id)) THEN
    RAISE foreign_key_violation USING MESSAGE =
      'insert or update on table "evidence" violates fk_evidence_batch: its import batch does not exist or is of another scheme';
  END IF;
  RETURN NULL;
END $$""", """
CREATE TRIGGER fk_evidence_batch_insert AFTER INSERT ON evidence
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evidence_batch_check()""", """
CREATE TRIGGER fk_evidence_batch_update AFTER UPDATE ON evidence
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evidence_batch_check()""", """
CREATE FUNCTION import_batch_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (TG_OP = 'DELETE' OR OLD.id <> NEW.id OR OLD.scheme_id <> NEW.scheme_id)
     AND EXISTS (SELECT 1 FROM evidence WHERE batch_id = OLD.id) THEN
    RAISE foreign_key_violation USING MESSAGE =
      format('update or delete on table "import_batch" violates fk_evidence_batch: evidence refers to batch %s', OLD.id);
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$""", """
CREATE TRIGGER fk_evidence_batch_referenced BEFORE UPDATE OR DELETE ON import_batch
  FOR EACH ROW EXECUTE FUNCTION import_batch_referenced()"""]

UNCHECKS = ["DROP TRIGGER fk_evidence_batch_referenced ON import_batch", "DROP TRIGGER fk_evidence_batch_update ON evidence",
            "DROP TRIGGER fk_evidence_batch_insert ON evidence", "DROP FUNCTION import_batch_referenced()",
            "DROP FUNCTION evidence_batch_check()"]


def upgrade() -> None:
    op.drop_index("ix_evidence_scheme_id", table_name="evidence")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("evidence_scheme_id_fkey", "evidence", type_="foreignkey")
        op.drop_constraint("evidence_batch_id_fkey", "evidence", type_="foreignkey")
        for statement in CHECKS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UNCHECKS:
            op.execute(statement)
        op.create_foreign_key("evidence_batch_id_fkey", "evidence", "import_batch", ["batch_id"], ["id"])
        op.create_foreign_key("evidence_scheme_id_fkey", "evidence", "scheme", ["scheme_id"], ["id"])
    op.create_index("ix_evidence_scheme_id", "evidence", ["scheme_id"])
