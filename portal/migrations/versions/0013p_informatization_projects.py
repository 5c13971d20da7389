"""informatization projects (issue 19, regulation 附件1): projects with their 申报表, documents,
decisions, expert assignments, milestones, acceptance rounds, the annual plan; a resource request
names its project; the 评审专家 (expert) role

Revision ID: 0013p
Revises: 0012z
Create Date: 2026-12-01 19:36:59.878393

The role CHECK constraint of user_account gains 'expert'. A downgrade keeps every account: an expert
becomes a disabled auditor (the least a role can do), as 0011c does with a security administrator.
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0013p'
down_revision = '0012z'
branch_labels = None
depends_on = None

OLD_ROLES = "'department', 'bureau', 'vendor', 'auditor', 'admin', 'security'"
NEW_ROLES = OLD_ROLES + ", 'expert'"


def _set_roles(roles):
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_user_account_role'), f"role IN ({roles})")


def upgrade():
    _set_roles(NEW_ROLES)
    op.create_table('annual_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('investment_limit', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('approved_document', sa.String(length=120), nullable=False),
    sa.Column('approved_on', sa.Date(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'submitted', 'approved')", name=op.f('ck_annual_plan_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_plan')),
    sa.UniqueConstraint('year', name=op.f('uq_annual_plan_year'))
    )
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('urgent_reason', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('project_type', sa.String(length=16), nullable=False),
    sa.Column('construction_kind', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('necessity', sa.Text(), nullable=False),
    sa.Column('on_government_cloud', sa.Boolean(), nullable=False),
    sa.Column('cloud_exemption', sa.Text(), nullable=False),
    sa.Column('data_sharing', sa.Text(), nullable=False),
    sa.Column('estimate', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('funding_source', sa.String(length=16), nullable=False),
    sa.Column('funding_note', sa.Text(), nullable=False),
    sa.Column('schedule', sa.Text(), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('responsible_person', sa.String(length=64), nullable=False),
    sa.Column('responsible_phone', sa.Text(), nullable=False),
    sa.Column('leader', sa.String(length=64), nullable=False),
    sa.Column('approved_estimate', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('approved_scope', sa.Text(), nullable=False),
    sa.Column('approval_document', sa.String(length=120), nullable=False),
    sa.Column('approval_date', sa.Date(), nullable=True),
    sa.Column('procurement_method', sa.String(length=32), nullable=False),
    sa.Column('supplier', sa.String(length=200), nullable=False),
    sa.Column('contract_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('supervisor', sa.String(length=200), nullable=False),
    sa.Column('procured_on', sa.Date(), nullable=True),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('warranty_years', sa.Integer(), nullable=False),
    sa.Column('warranty_ends_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('state_changed_at', UTCDateTime(), nullable=False),
    sa.Column('declared_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("construction_kind IN ('new', 'extension', 'operation')", name=op.f('ck_project_construction_kind')),
    sa.CheckConstraint("funding_source IN ('fiscal', 'superior', 'financing', 'self', 'mixed')", name=op.f('ck_project_funding_source')),
    sa.CheckConstraint("project_type IN ('infrastructure', 'software', 'security', 'data')", name=op.f('ck_project_project_type')),
    sa.CheckConstraint("state IN ('draft', 'declared', 'preliminary_review', 'returned', 'rejected', 'withdrawn', 'reviewed', 'planned', 'plan_approved', 'approved', 'design_review', 'design_approved', 'procured', 'construction', 'acceptance', 'rectification', 'in_use', 'evaluated')", name=op.f('ck_project_state')),
    sa.CheckConstraint('estimate >= 0', name=op.f('ck_project_estimate')),
    sa.CheckConstraint('warranty_years >= 3', name=op.f('ck_project_warranty_years')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_project_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_project_department_id_department'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('number', name=op.f('uq_project_number'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_project_department_id_id', ['department_id', 'id'], unique=False)
        batch_op.create_index('ix_project_plan_year_state', ['plan_year', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_warranty_ends_on'), ['warranty_ends_on'], unique=False)

    op.create_table('expert_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', UTCDateTime(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('conclusion', sa.String(length=24), nullable=True),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('opinion_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("conclusion IS NULL OR conclusion IN ('agree', 'agree_with_changes', 'disagree')", name=op.f('ck_expert_assignment_conclusion')),
    sa.CheckConstraint("stage IN ('declaration', 'preliminary_review', 'annual_plan', 'urgent', 'feasibility', 'design_review', 'procurement', 'construction', 'acceptance', 'evaluation', 'change')", name=op.f('ck_expert_assignment_stage')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['user_account.id'], name=op.f('fk_expert_assignment_assigned_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['expert_id'], ['user_account.id'], name=op.f('fk_expert_assignment_expert_id_user_account'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_expert_assignment_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_assignment')),
    sa.UniqueConstraint('project_id', 'expert_id', 'stage', name='uq_expert_assignment_project_id')
    )
    with op.batch_alter_table('expert_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_assignment_expert_id'), ['expert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_assignment_project_id'), ['project_id'], unique=False)

    op.create_table('project_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("purpose IN ('feasibility', 'estimate', 'funding_plan', 'design', 'decision', 'other')", name=op.f('ck_project_document_purpose')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_document_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_project_document_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_document')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_project_document_stored_name'))
    )
    with op.batch_alter_table('project_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_document_project_id'), ['project_id'], unique=False)

    op.create_table('project_milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_milestone_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_project_milestone_recorded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_milestone'))
    )
    with op.batch_alter_table('project_milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_milestone_project_id'), ['project_id'], unique=False)

    op.create_table('project_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('body', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('document_number', sa.String(length=120), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('reviewer', sa.String(length=200), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("body IN ('bureau', 'ndrc', 'finance', 'city_government', 'expert', 'third_party', 'department')", name=op.f('ck_project_decision_body')),
    sa.CheckConstraint("outcome IN ('submitted', 'passed', 'returned', 'rejected', 'rectification', 'recorded', 'withdrawn')", name=op.f('ck_project_decision_outcome')),
    sa.CheckConstraint("stage IN ('declaration', 'preliminary_review', 'annual_plan', 'urgent', 'feasibility', 'design_review', 'procurement', 'construction', 'acceptance', 'evaluation', 'change')", name=op.f('ck_project_decision_stage')),
    sa.CheckConstraint('project_id IS NOT NULL OR plan_id IS NOT NULL', name=op.f('ck_project_decision_of_something')),
    sa.ForeignKeyConstraint(['document_id'], ['project_document.id'], name=op.f('fk_project_decision_document_id_project_document'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['annual_plan.id'], name=op.f('fk_project_decision_plan_id_annual_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_decision_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_project_decision_recorded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_decision'))
    )
    with op.batch_alter_table('project_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_decision_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_decision_project_id'), ['project_id'], unique=False)

    op.create_table('project_acceptance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('rectification_items', sa.Text(), nullable=False),
    sa.Column('rectification_deadline', sa.Date(), nullable=True),
    sa.Column('document_number', sa.String(length=120), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("outcome = 'passed' OR rectification_deadline IS NOT NULL", name=op.f('ck_project_acceptance_deadline')),
    sa.CheckConstraint("outcome IN ('passed', 'rectification')", name=op.f('ck_project_acceptance_outcome')),
    sa.ForeignKeyConstraint(['decision_id'], ['project_decision.id'], name=op.f('fk_project_acceptance_decision_id_project_decision'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_acceptance_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_project_acceptance_recorded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_acceptance')),
    sa.UniqueConstraint('project_id', 'round', name='uq_project_acceptance_project_id')
    )
    with op.batch_alter_table('project_acceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_acceptance_project_id'), ['project_id'], unique=False)

    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('in_use_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('existing_system', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_resource_request_project_id'), ['project_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_resource_request_project_id_project'), 'project', ['project_id'], ['id'], ondelete='RESTRICT')
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.alter_column('existing_system', existing_type=sa.Boolean(), server_default=None)



def downgrade():
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_resource_request_project_id_project'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_resource_request_project_id'))
        batch_op.drop_column('existing_system')
        batch_op.drop_column('in_use_at')
        batch_op.drop_column('project_id')

    with op.batch_alter_table('project_acceptance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_acceptance_project_id'))

    op.drop_table('project_acceptance')
    with op.batch_alter_table('project_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_decision_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_decision_plan_id'))

    op.drop_table('project_decision')
    with op.batch_alter_table('project_milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_milestone_project_id'))

    op.drop_table('project_milestone')
    with op.batch_alter_table('project_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_document_project_id'))

    op.drop_table('project_document')
    with op.batch_alter_table('expert_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_assignment_project_id'))
        batch_op.drop_index(batch_op.f('ix_expert_assignment_expert_id'))

    op.drop_table('expert_assignment')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_warranty_ends_on'))
        batch_op.drop_index(batch_op.f('ix_project_state'))
        batch_op.drop_index('ix_project_plan_year_state')
        batch_op.drop_index('ix_project_department_id_id')
        batch_op.drop_index(batch_op.f('ix_project_department_id'))

    op.drop_table('project')
    op.drop_table('annual_plan')
    user = sa.table('user_account', sa.column('role', sa.String), sa.column('is_active_account', sa.Boolean))
    op.execute(user.update().where(user.c.role == 'expert').values(role='auditor', is_active_account=False))
    _set_roles(OLD_ROLES)
