"""Masks of personal data for audit records and logs: 138****5678, a***@example.cn."""


def mask_phone(value):
    if not value:
        return value
    digits = len(value)
    if digits >= 11:
        return value[:3] + "****" + value[-4:]
    if digits >= 7:
        return value[:2] + "****" + value[-2:]
    return "****"


def mask_email(value):
    if not value:
        return value
    local, at, domain = value.rpartition("@")
    if not at:
        return "***"
    return (local[:1] or "") + "***@" + domain


def mask(name, value):
    """Mask value when name is a field of personal data (…_email / email: e-mail, else phone)."""
    return mask_email(value) if name.endswith("email") else mask_phone(value)


def is_personal(name):
    return isinstance(name, str) and (name in ("email", "phone") or name.endswith(("_email", "_phone")))


def mask_record(record):
    """A copy of an audit before/after record with every phone and e-mail masked (nested too)."""
    if isinstance(record, dict):
        return {k: mask(k, v) if is_personal(k) and isinstance(v, str) else mask_record(v)
                for k, v in record.items()}
    if isinstance(record, list):
        return [mask_record(v) for v in record]
    return record
