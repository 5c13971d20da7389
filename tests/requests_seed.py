"""Rows of the resource request pages for the seeded departments (used by the access walk)."""
import os
from datetime import timedelta


def seed_requests(session, seed, instance_path):
    """Add to department A and to B: a draft request with its two documents, a provisioned request with a
    receipt, and an API token of one of its users.

    Returns {url argument: (id in department A, id in department B)}.
    """
    from portal.database import utcnow
    from portal.models.requests import ApiToken, DeliveryReceipt, RequestAttachment, ResourceRequest

    out = {"request_id": [], "attachment_id": [], "receipt_id": [], "token_id": []}
    uploads = os.path.join(instance_path, "uploads")
    os.makedirs(uploads, exist_ok=True)
    for dept_id, user_key in ((seed.dept_a, "dept"), (seed.dept_b, "dept_b")):
        code = f"{dept_id:04d}"
        draft = ResourceRequest(number=f"ZWY-T-{code}-1", department_id=dept_id, system_name="办公系统",
                                spec={}, created_by_id=seed.user_ids[user_key])
        done = ResourceRequest(number=f"ZWY-T-{code}-2", department_id=dept_id, system_name="门户网站",
                               state="provisioned", spec={}, approved_spec={}, approved_at=utcnow(),
                               created_by_id=seed.user_ids[user_key])
        session.add_all([draft, done])
        session.flush()
        stored = f"seed-{dept_id}.pdf"
        with open(os.path.join(uploads, stored), "wb") as fh:
            fh.write(b"%PDF-1.4\n% seed\n")
        attachment = RequestAttachment(request_id=draft.id, purpose="self_test", filename="自测报告.pdf",
                                       stored_name=stored + f"-{draft.id}", content_type="application/pdf",
                                       size=16, sha256="0" * 64)
        os.replace(os.path.join(uploads, stored), os.path.join(uploads, attachment.stored_name))
        receipt = DeliveryReceipt(number=f"HZ-T-{code}", request_id=done.id, department_id=dept_id,
                                  operator="worker", items=[{"kind": "server", "name": "gc-web-1",
                                                             "openstack_id": "0" * 32, "flavor": "m1.tiny"}])
        token = ApiToken(user_id=seed.user_ids[user_key], name="seed", prefix="gct_seed", token_hash=f"{dept_id:064d}",
                         scope="write", expires_at=utcnow() + timedelta(days=30))
        plan = RequestAttachment(request_id=draft.id, purpose="construction_plan", filename="建设方案.pdf",
                                 stored_name=attachment.stored_name + "-plan", content_type="application/pdf",
                                 size=16, sha256="0" * 64)
        with open(os.path.join(uploads, plan.stored_name), "wb") as fh:
            fh.write(b"%PDF-1.4\n% seed\n")
        session.add_all([attachment, plan, receipt, token])
        session.flush()
        out["request_id"].append(draft.id)
        out["attachment_id"].append(attachment.id)
        out["receipt_id"].append(receipt.id)
        out["token_id"].append(token.id)
    session.commit()
    return {name: tuple(ids) for name, ids in out.items()}
