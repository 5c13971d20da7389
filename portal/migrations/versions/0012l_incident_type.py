"""incident kind: outage, degradation, security, backup (only outage and degradation count against the SLA)

Revision ID: 0012l
Revises: 0012i
Create Date: 2026-12-01 16:00:00

Incidents opened before this revision by a failed backup or backup verification (no probe, the
title ending in "(backup)") become kind backup, so they no longer count as outage.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012l'
down_revision = '0012i'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='outage', nullable=False))
        batch_op.create_check_constraint('kind', "kind IN ('outage', 'degradation', 'security', 'backup')")
    op.execute("UPDATE incident SET kind = 'backup' WHERE target_id IS NULL AND title LIKE '%(backup)'")


def downgrade():
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_incident_kind'), type_='check')
        batch_op.drop_column('kind')
