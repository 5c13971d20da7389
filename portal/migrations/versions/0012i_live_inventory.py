"""inventory: the live inventory of cloud objects and the sync's cursor (issue 18)

Revision ID: 0012i
Revises: 0012p
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


revision = '0012i'
down_revision = '0012p'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inventory_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('openstack_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('flavor', sa.String(length=64), nullable=False),
    sa.Column('image', sa.String(length=255), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('cloud_created_at', UTCDateTime(), nullable=True),
    sa.Column('cloud_updated_at', UTCDateTime(), nullable=True),
    sa.Column('synced_at', UTCDateTime(), nullable=False),
    sa.Column('gone_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_inventory_item_department_id_department'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['system_id'], ['resource_request.id'], name=op.f('fk_inventory_item_system_id_resource_request'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_item')),
    sa.UniqueConstraint('kind', 'openstack_id', name='uq_inventory_item_kind')
    )
    with op.batch_alter_table('inventory_item', schema=None) as batch_op:
        for column in ('project_id', 'department_id', 'system_id', 'flavor', 'image', 'host'):
            batch_op.create_index(batch_op.f(f'ix_inventory_item_{column}'), [column], unique=False)
        batch_op.create_index('ix_inventory_item_list', ['kind', 'gone_at', 'department_id', 'name'], unique=False)
        batch_op.create_index('ix_inventory_item_status', ['kind', 'status'], unique=False)
    op.create_table('inventory_sync',
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('cursor', UTCDateTime(), nullable=True),
    sa.Column('api_calls', sa.Integer(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('gone', sa.Integer(), nullable=False),
    sa.Column('flavors', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('mode', name=op.f('pk_inventory_sync'))
    )


def downgrade():
    op.drop_table('inventory_sync')
    with op.batch_alter_table('inventory_item', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_item_status')
        batch_op.drop_index('ix_inventory_item_list')
        for column in ('host', 'image', 'flavor', 'system_id', 'department_id', 'project_id'):
            batch_op.drop_index(batch_op.f(f'ix_inventory_item_{column}'))
    op.drop_table('inventory_item')
