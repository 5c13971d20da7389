"""Scheduled jobs of the trust features (issue 8): grants that end, and signed audit digests."""
from portal import audit_chain
from portal.services import vendor_access
from portal.services.audit import RequestInfo

from . import runtime
from .history import JobResult, current_run_id, period_of, recorded


@recorded("expire_grants")
def expire_grants():
    """End vendor access grants whose window is over and destroy their private keys."""
    settings = runtime.current().settings
    with runtime.session_scope() as session:
        ended = vendor_access.expire_grants(session, RequestInfo(correlation_id="scheduler"),
                                            settings["GRANT_KEY_DIR"])
    return JobResult.counted(grants_ended=ended)


@recorded("audit_digest")
def audit_digest():
    """Sign the audit chain's head with the key kept outside the database; append the digest to
    the external digest file (and syslog); once per interval (job_period: a second scheduler, a
    takeover or a run by hand in the same interval signs nothing)."""
    from portal.services import jobs as job_history
    settings = runtime.current().settings
    period = period_of(int(settings.get("AUDIT_DIGEST_INTERVAL_SECONDS") or 3600))
    with runtime.session_scope() as session:
        try:
            job_history.claim_period(session, "audit_digest", period, current_run_id())
        except job_history.PeriodDone:
            return JobResult.counted(signed_before=1)
        digest = audit_chain.sign_and_publish(session, settings)
    if digest is None:
        return JobResult.counted(audit_log_empty=1)
    return JobResult.counted(seq_signed=digest.seq)
