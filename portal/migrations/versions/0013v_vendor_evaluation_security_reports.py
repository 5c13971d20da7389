"""vendor evaluation (第二十八条): quarterly ratings, the annual assessment; security monitoring reports (第六条(五))

Revision ID: 0013v
Revises: 0013e
Create Date: 2026-12-01 20:00:00
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0013v'
down_revision = '0013e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vendor_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('attitude', sa.Integer(), nullable=False),
    sa.Column('response', sa.Integer(), nullable=False),
    sa.Column('resolution', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('low_reason', sa.Text(), nullable=False),
    sa.Column('rated_by_id', sa.Integer(), nullable=True),
    sa.Column('rated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_vendor_rating_quarter')),
    sa.CheckConstraint('attitude BETWEEN 1 AND 5', name=op.f('ck_vendor_rating_attitude')),
    sa.CheckConstraint('response BETWEEN 1 AND 5', name=op.f('ck_vendor_rating_response')),
    sa.CheckConstraint('resolution BETWEEN 1 AND 5', name=op.f('ck_vendor_rating_resolution')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_vendor_rating_department_id_department'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['rated_by_id'], ['user_account.id'], name=op.f('fk_vendor_rating_rated_by_id_user_account'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_rating')),
    sa.UniqueConstraint('department_id', 'year', 'quarter', name='uq_vendor_rating_quarter')
    )
    with op.batch_alter_table('vendor_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_rating_department_id'), ['department_id'], unique=False)

    op.create_table('vendor_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('total', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('computed_at', UTCDateTime(), nullable=False),
    sa.Column('computed_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', UTCDateTime(), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('sign_comment', sa.Text(), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'signed')", name=op.f('ck_vendor_assessment_state')),
    sa.ForeignKeyConstraint(['computed_by_id'], ['user_account.id'],
                            name=op.f('fk_vendor_assessment_computed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signed_by_id'], ['user_account.id'],
                            name=op.f('fk_vendor_assessment_signed_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_assessment')),
    sa.UniqueConstraint('year', name='uq_vendor_assessment_year')
    )
    with op.batch_alter_table('vendor_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_assessment_state'), ['state'], unique=False)

    op.create_table('security_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('starts_at', UTCDateTime(), nullable=False),
    sa.Column('ends_at', UTCDateTime(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('generated_at', UTCDateTime(), nullable=False),
    sa.Column('generated_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint('months IN (1, 3, 6, 12)', name=op.f('ck_security_report_months')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_security_report_department_id_department'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_report')),
    sa.UniqueConstraint('department_id', 'period', name='uq_security_report_period')
    )
    with op.batch_alter_table('security_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_report_department_id'), ['department_id'], unique=False)


def downgrade():
    with op.batch_alter_table('security_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_report_department_id'))
    op.drop_table('security_report')
    with op.batch_alter_table('vendor_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_assessment_state'))
    op.drop_table('vendor_assessment')
    with op.batch_alter_table('vendor_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_rating_department_id'))
    op.drop_table('vendor_rating')
