"""scheduler/README.md lists every job of the scheduler's table, and no other."""
import pathlib
import re

from scheduler.process import JOBS

README = pathlib.Path(__file__).resolve().parents[2] / "scheduler" / "README.md"


def test_the_readme_lists_every_scheduled_job():
    listed = re.findall(r"^\| `([a-z_]+)` \|", README.read_text(), re.M)
    assert sorted(listed) == sorted(spec.job_id for spec in JOBS)
