"""alerts become incidents: the alert's fingerprint on its incident, the silence of a window

Revision ID: 0012p
Revises: 0011d
Create Date: 2026-12-01 16:00:00

An incident opened or joined by an Alertmanager alert keeps the alert's fingerprint (at most one
unresolved incident per fingerprint); an approved maintenance window keeps the id of the silence
govcloud created for it in Alertmanager.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012p'
down_revision = '0011d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_fingerprint', sa.String(length=32), nullable=True))
        batch_op.create_index('uq_incident_alert_active', ['alert_fingerprint'], unique=True,
                              sqlite_where=sa.text("state != 'resolved'"),
                              postgresql_where=sa.text("state != 'resolved'"))
    with op.batch_alter_table('maintenance_window', schema=None) as batch_op:
        batch_op.add_column(sa.Column('silence_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('maintenance_window', schema=None) as batch_op:
        batch_op.drop_column('silence_id')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('uq_incident_alert_active')
        batch_op.drop_column('alert_fingerprint')
