"""time limits (办理时限): reminders and escalations sent per step

Revision ID: 0012w
Revises: 0012d
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0012w'
down_revision = '0012d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('time_limit_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', UTCDateTime(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.CheckConstraint("stage IN ('remind', 'escalate')", name=op.f('ck_time_limit_notice_stage')),
    sa.CheckConstraint("step IN ('review', 'provisioning', 'extraction', 'grant')",
                       name=op.f('ck_time_limit_notice_step')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_limit_notice')),
    sa.UniqueConstraint('step', 'object_id', 'started_at', 'stage', name='uq_time_limit_notice_step')
    )
    with op.batch_alter_table('time_limit_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_limit_notice_department_id'), ['department_id'], unique=False)


def downgrade():
    with op.batch_alter_table('time_limit_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_limit_notice_department_id'))
    op.drop_table('time_limit_notice')
