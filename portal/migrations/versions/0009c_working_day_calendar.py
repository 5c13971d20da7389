"""working-day calendar: holidays and adjusted workdays entered per year

Revision ID: 0009c
Revises: 0008k
Create Date: 2026-12-01 05:13:00.641412
"""
from alembic import op
import sqlalchemy as sa


revision = '0009c'
down_revision = '0008k'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('work_calendar_year',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_name', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_work_calendar_year_version')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_work_calendar_year_year')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['user_account.id'], name=op.f('fk_work_calendar_year_entered_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_work_calendar_year'))
    )
    op.create_table('work_calendar_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f('ck_work_calendar_day_kind')),
    sa.ForeignKeyConstraint(['year'], ['work_calendar_year.year'], name=op.f('fk_work_calendar_day_year_work_calendar_year'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_work_calendar_day'))
    )
    with op.batch_alter_table('work_calendar_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_calendar_day_year'), ['year'], unique=False)



def downgrade():
    with op.batch_alter_table('work_calendar_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_calendar_day_year'))

    op.drop_table('work_calendar_day')
    op.drop_table('work_calendar_year')
