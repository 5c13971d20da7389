"""resource requests, provisioning jobs, cloud resources, receipts, API tokens

Revision ID: 0003r
Revises: 0002a
Create Date: 2026-11-26 21:00:00
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0003r'
down_revision = '0002a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('last_used_at', UTCDateTime(), nullable=True),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_api_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('resource_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('system_name', sa.String(length=120), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('project_ref', sa.String(length=200), nullable=False),
    sa.Column('security_level', sa.Integer(), nullable=False),
    sa.Column('construction_plan', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('backup_confirmed', sa.Boolean(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('approved_spec', sa.JSON(), nullable=True),
    sa.Column('adjustment', sa.JSON(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.Column('failure_message', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('state_changed_at', UTCDateTime(), nullable=False),
    sa.Column('submitted_at', UTCDateTime(), nullable=True),
    sa.Column('approved_at', UTCDateTime(), nullable=True),
    sa.Column('provisioned_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('new', 'change', 'decommission')", name=op.f('ck_resource_request_kind')),
    sa.CheckConstraint("state IN ('draft', 'submitted', 'under_review', 'returned', 'approved', 'rejected', 'provisioning', 'provisioned', 'failed', 'delivered', 'cancelled')", name=op.f('ck_resource_request_state')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_resource_request_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_resource_request_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'], name=op.f('fk_resource_request_reviewed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_resource_request_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_request')),
    sa.UniqueConstraint('number', name=op.f('uq_resource_request_number'))
    )
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_request_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_request_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_request_system_id'), ['system_id'], unique=False)

    op.create_table('cloud_resource',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('created_by_request_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('openstack_id', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_request_id'], ['resource_request.id'], name=op.f('fk_cloud_resource_created_by_request_id_resource_request'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_cloud_resource_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_cloud_resource_system_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cloud_resource')),
    sa.UniqueConstraint('department_id', 'key', name='uq_cloud_resource_department_id')
    )
    with op.batch_alter_table('cloud_resource', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cloud_resource_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cloud_resource_system_id'), ['system_id'], unique=False)

    op.create_table('delivery_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', UTCDateTime(), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('confirmed_at', UTCDateTime(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user_account.id'], name=op.f('fk_delivery_receipt_confirmed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_delivery_receipt_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], name=op.f('fk_delivery_receipt_request_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_receipt')),
    sa.UniqueConstraint('number', name=op.f('uq_delivery_receipt_number')),
    sa.UniqueConstraint('request_id', name=op.f('uq_delivery_receipt_request_id'))
    )
    with op.batch_alter_table('delivery_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_receipt_department_id'), ['department_id'], unique=False)

    op.create_table('provisioning_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('current_step', sa.String(length=120), nullable=False),
    sa.Column('lease_owner', sa.String(length=120), nullable=False),
    sa.Column('lease_expires_at', UTCDateTime(), nullable=True),
    sa.Column('available_at', UTCDateTime(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=False),
    sa.Column('error_detail', sa.Text(), nullable=False),
    sa.CheckConstraint("state IN ('queued', 'running', 'succeeded', 'failed', 'errored')", name=op.f('ck_provisioning_job_state')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_provisioning_job_department_id_department'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], name=op.f('fk_provisioning_job_request_id_resource_request'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provisioning_job'))
    )
    with op.batch_alter_table('provisioning_job', schema=None) as batch_op:
        batch_op.create_index('ix_provisioning_job_claim', ['state', 'available_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_provisioning_job_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provisioning_job_request_id'), ['request_id'], unique=False)

    op.create_table('request_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], name=op.f('fk_request_attachment_request_id_resource_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_attachment')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_request_attachment_stored_name'))
    )
    with op.batch_alter_table('request_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_attachment_request_id'), ['request_id'], unique=False)

    op.create_table('request_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('submitted_at', UTCDateTime(), nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['resource_request.id'], name=op.f('fk_request_version_request_id_resource_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_version')),
    sa.UniqueConstraint('request_id', 'version', name='uq_request_version_request_id')
    )
    with op.batch_alter_table('request_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_version_request_id'), ['request_id'], unique=False)



def downgrade():
    with op.batch_alter_table('request_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_version_request_id'))

    op.drop_table('request_version')
    with op.batch_alter_table('request_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_attachment_request_id'))

    op.drop_table('request_attachment')
    with op.batch_alter_table('provisioning_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provisioning_job_request_id'))
        batch_op.drop_index(batch_op.f('ix_provisioning_job_department_id'))
        batch_op.drop_index('ix_provisioning_job_claim')

    op.drop_table('provisioning_job')
    with op.batch_alter_table('delivery_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_receipt_department_id'))

    op.drop_table('delivery_receipt')
    with op.batch_alter_table('cloud_resource', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cloud_resource_system_id'))
        batch_op.drop_index(batch_op.f('ix_cloud_resource_department_id'))

    op.drop_table('cloud_resource')
    with op.batch_alter_table('resource_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_request_system_id'))
        batch_op.drop_index(batch_op.f('ix_resource_request_state'))
        batch_op.drop_index(batch_op.f('ix_resource_request_department_id'))

    op.drop_table('resource_request')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
