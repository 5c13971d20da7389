"""accounts: the security administrator role (三权分立)

Revision ID: 0011c
Revises: 0011b
Create Date: 2026-12-01 13:00:00

The role CHECK constraint of user_account gains 'security'. A downgrade keeps every account: a
security administrator becomes a disabled auditor (the least a role can do), never an admin.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011c'
down_revision = '0011b'
branch_labels = None
depends_on = None

OLD_ROLES = "'department', 'bureau', 'vendor', 'auditor', 'admin'"
NEW_ROLES = OLD_ROLES + ", 'security'"


def _set_roles(roles):
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_account_role'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_user_account_role'), f"role IN ({roles})")


def upgrade():
    _set_roles(NEW_ROLES)


def downgrade():
    user = sa.table('user_account', sa.column('role', sa.String), sa.column('is_active_account', sa.Boolean))
    op.execute(user.update().where(user.c.role == 'security').values(role='auditor', is_active_account=False))
    _set_roles(OLD_ROLES)
