"""When policies run: 5-field cron lines evaluated in Asia/Shanghai (APScheduler's CronTrigger)."""
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

TZ = ZoneInfo("Asia/Shanghai")


DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _day_of_week(field):
    """Spell crontab day numbers (0 or 7 = Sunday) as names: APScheduler 3 counts 0 = Monday.
    Numeric ranges are expanded ("0-6" would otherwise run from Sunday = 6 backwards)."""
    parts = []
    for part in field.split(","):
        base, _, step = part.partition("/")
        bounds = base.split("-")
        if all(b.isdigit() for b in bounds) and len(bounds) == 2:
            low, high = int(bounds[0]), int(bounds[1])
            days = range(low, high + 1, int(step) if step.isdigit() and int(step) > 0 else 1)
            parts.extend(DAY_NAMES[d] for d in days if d <= 7)
        elif len(bounds) == 1 and base.isdigit() and int(base) <= 7:
            parts.append(f"{DAY_NAMES[int(base)]}/{step}" if step else DAY_NAMES[int(base)])
        else:
            parts.append(part)
    return ",".join(dict.fromkeys(parts))


def parse_cron(text):
    """Return the CronTrigger of a 5-field crontab line; ValueError when it is not one."""
    fields = (text or "").split()
    if len(fields) != 5:
        raise ValueError("a cron line has 5 fields: minute hour day month day-of-week")
    minute, hour, day, month, dow = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_day_of_week(dow),
                       timezone=TZ)


def next_fire(cron, after):
    """Return the first time (aware, UTC) strictly after `after` at which `cron` fires."""
    trigger = parse_cron(cron)
    # CronTrigger answers "at or after now" at whole seconds; the next whole second is strictly after
    start = after.astimezone(TZ).replace(microsecond=0) + timedelta(seconds=1)
    fire = trigger.get_next_fire_time(None, start)
    return fire.astimezone(timezone.utc) if fire is not None else None
