"""`python -m scheduler`: the scheduler process (scheduler/process.py)."""
from .process import main

raise SystemExit(main())
