"""Keeping the live inventory current (issue 18): a steady-state cycle asks the cloud only for what
changed since the last one (Cloud.live_listing with a time), a full resync runs nightly and on
demand; portal/services/inventory_store.py stores what came back."""
import time
from dataclasses import dataclass
from datetime import timedelta

from portal.database import utcnow
from portal.models.inventory import InventorySync
from portal.services.inventory_store import apply_listing, known_revisions

OVERLAP = timedelta(seconds=120)   # asked again: clocks and in-flight writes; upserts are idempotent
FULL_EVERY = timedelta(hours=24)


@dataclass
class SyncResult:
    mode: str
    changed: int
    gone: int
    api_calls: int
    duration_seconds: float
    incidents: int


def sync(session, settings, cloud, *, full=None, now=None):
    """Run one cycle: full when asked, when none ran yet or the last is a day old; else incremental.
    Commits; returns a SyncResult."""
    now = now or utcnow()
    last_full = session.get(InventorySync, "full")
    cursors = [s.cursor for s in (last_full, session.get(InventorySync, "incremental")) if s and s.cursor]
    if full is None:
        full = last_full is None or last_full.finished_at is None or now - last_full.finished_at >= FULL_EVERY
    full = full or not cursors  # nothing to count changes from yet
    mode = "full" if full else "incremental"
    state = session.get(InventorySync, mode) or InventorySync(mode=mode)
    session.add(state)
    started = time.perf_counter()
    if full:
        listing = cloud.live_listing()
        state.flavors = [{k: f.get(k, 0) if k != "name" else f["name"] for k in ("name", "vcpus", "ram", "disk")}
                         for f in cloud.catalog(refresh=True)["flavors"]]
    else:
        listing = cloud.live_listing(since=max(cursors) - OVERLAP, known_revisions=known_revisions(session))
    changed, gone, opened = apply_listing(session, settings, listing, now)
    state.started_at, state.finished_at, state.cursor = now, utcnow(), now
    state.api_calls, state.changed, state.gone = listing["api_calls"], changed, gone
    state.duration_seconds = time.perf_counter() - started
    session.commit()
    return SyncResult(mode, changed, gone, listing["api_calls"], state.duration_seconds, opened)


