"""the money of informatization projects (issue 19, 第十二条): contracts, payments, investment changes
(over 10 % of the approved estimate: the bureau's approval); warranty reminders sent (第十六条);
performance evaluations with the experts' scores (第十七条)

Revision ID: 0013q
Revises: 0013p
Create Date: 2026-12-01 19:45:00
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0013q'
down_revision = '0013p'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('investment_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('estimate', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('previous_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('new_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=False),
    sa.Column('effective_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("state IN ('effective', 'pending', 'approved', 'rejected', 'withdrawn')", name=op.f('ck_investment_change_state')),
    sa.CheckConstraint('new_amount > 0', name=op.f('ck_investment_change_new_amount_positive')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_investment_change_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_investment_change_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_investment_change_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_investment_change_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_investment_change'))
    )
    with op.batch_alter_table('investment_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_investment_change_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_investment_change_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_investment_change_state'), ['state'], unique=False)

    op.create_table('performance_evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('self_assessment', sa.Text(), nullable=False),
    sa.Column('self_score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('self_assessed_at', UTCDateTime(), nullable=True),
    sa.Column('total', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('grade', sa.String(length=16), nullable=False),
    sa.Column('conclusion', sa.Text(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', UTCDateTime(), nullable=False),
    sa.Column('completed_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("state IN ('open', 'completed')", name=op.f('ck_performance_evaluation_state')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_performance_evaluation_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_performance_evaluation_opened_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_performance_evaluation_project_id_project'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_evaluation'))
    )
    with op.batch_alter_table('performance_evaluation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_performance_evaluation_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_performance_evaluation_project_id'), ['project_id'], unique=False)

    op.create_table('project_contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('supplier', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_project_contract_amount_positive')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_project_contract_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_contract_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_project_contract_recorded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_contract')),
    sa.UniqueConstraint('project_id', 'number', name='uq_project_contract_project_id')
    )
    with op.batch_alter_table('project_contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_contract_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_contract_project_id'), ['project_id'], unique=False)

    op.create_table('warranty_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('warranty_ends_on', sa.Date(), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('days_left', sa.Integer(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_warranty_notice_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warranty_notice')),
    sa.UniqueConstraint('project_id', 'warranty_ends_on', 'days_before', name='uq_warranty_notice_project_id')
    )
    with op.batch_alter_table('warranty_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warranty_notice_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_warranty_notice_project_id'), ['project_id'], unique=False)

    op.create_table('expert_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('weighted', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('submitted_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['evaluation_id'], ['performance_evaluation.id'], name=op.f('fk_expert_score_evaluation_id_performance_evaluation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['expert_id'], ['user_account.id'], name=op.f('fk_expert_score_expert_id_user_account'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_score')),
    sa.UniqueConstraint('evaluation_id', 'expert_id', name='uq_expert_score_evaluation_id')
    )
    with op.batch_alter_table('expert_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_score_evaluation_id'), ['evaluation_id'], unique=False)

    op.create_table('project_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('voucher', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_project_payment_amount_positive')),
    sa.ForeignKeyConstraint(['contract_id'], ['project_contract.id'], name=op.f('fk_project_payment_contract_id_project_contract'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_project_payment_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_payment_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_project_payment_recorded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_payment'))
    )
    with op.batch_alter_table('project_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_payment_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_payment_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_payment_project_id'), ['project_id'], unique=False)


def downgrade():
    with op.batch_alter_table('project_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_payment_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_payment_department_id'))
        batch_op.drop_index(batch_op.f('ix_project_payment_contract_id'))

    op.drop_table('project_payment')
    with op.batch_alter_table('expert_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_score_evaluation_id'))

    op.drop_table('expert_score')
    with op.batch_alter_table('warranty_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warranty_notice_project_id'))
        batch_op.drop_index(batch_op.f('ix_warranty_notice_department_id'))

    op.drop_table('warranty_notice')
    with op.batch_alter_table('project_contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_contract_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_contract_department_id'))

    op.drop_table('project_contract')
    with op.batch_alter_table('performance_evaluation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_performance_evaluation_project_id'))
        batch_op.drop_index(batch_op.f('ix_performance_evaluation_department_id'))

    op.drop_table('performance_evaluation')
    with op.batch_alter_table('investment_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_investment_change_state'))
        batch_op.drop_index(batch_op.f('ix_investment_change_project_id'))
        batch_op.drop_index(batch_op.f('ix_investment_change_department_id'))

    op.drop_table('investment_change')
