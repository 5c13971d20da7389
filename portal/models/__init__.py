"""The portal's database models, one module per domain; importing the package registers every table
in one metadata (Alembic, create_all). Import a model from its domain module:
`from portal.models.accounts import User`.
"""
from . import (accounts, api, audit, backups, billing, calendar, contacts, duties, evaluation,  # noqa: F401
               grants, inventory, operations, project_money, projects, reconcile, requests, timelimits)
