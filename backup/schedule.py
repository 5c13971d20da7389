"""When policies run: 5-field cron lines evaluated in Asia/Shanghai (APScheduler's CronTrigger)."""
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

TZ = ZoneInfo("Asia/Shanghai")


def parse_cron(text):
    """Return the CronTrigger of a 5-field crontab line; ValueError when it is not one."""
    text = " ".join((text or "").split())
    if len(text.split(" ")) != 5:
        raise ValueError("a cron line has 5 fields: minute hour day month day-of-week")
    return CronTrigger.from_crontab(text, timezone=TZ)


def next_fire(cron, after):
    """Return the first time (aware, UTC) strictly after `after` at which `cron` fires."""
    trigger = parse_cron(cron)
    # CronTrigger answers "at or after now" at whole seconds; the next whole second is strictly after
    start = after.astimezone(TZ).replace(microsecond=0) + timedelta(seconds=1)
    fire = trigger.get_next_fire_time(None, start)
    return fire.astimezone(timezone.utc) if fire is not None else None
