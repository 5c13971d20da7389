"""Rows of the backup pages for the seeded departments (used by the access walk)."""


def seed_backups(session, seed):
    """Add to department A and to B: an SSH key of the department, a policy of its provisioned system,
    a succeeded run with a volume backup, and an extraction applied for (not decided). `token` is a
    link that matches nothing.

    Returns {url argument: (value in department A, value in department B)}.
    """
    from sqlalchemy import select

    from portal.models.backups import BackupArtifact, BackupExtraction, BackupPolicy, BackupRun, DepartmentSshKey
    from portal.services.ssh_keys import fingerprint
    from provisioner.ssh import new_keypair
    from portal.database import utcnow
    from portal.models.requests import ResourceRequest

    out = {"policy_id": [], "artifact_id": [], "extraction_id": [], "token": [], "key_id": []}
    now = utcnow()
    for dept_id, user_key in ((seed.dept_a, "dept"), (seed.dept_b, "dept_b")):
        system = session.scalars(select(ResourceRequest).where(
            ResourceRequest.department_id == dept_id, ResourceRequest.state == "provisioned")).first()
        private, public = new_keypair(f"seed-{dept_id}")
        key = DepartmentSshKey(department_id=dept_id, name=f"备份密钥-{dept_id}", public_key=public,
                               private_key_sealed=private, fingerprint=fingerprint(public))
        session.add(key)
        session.flush()
        out["key_id"].append(key.id)
        policy = BackupPolicy(department_id=dept_id, system_id=system.id, name=f"每日备份-{dept_id}",
                              kinds="volume", cron="0 2 * * *", keep_count=7)
        session.add(policy)
        session.flush()
        run = BackupRun(policy_id=policy.id, department_id=dept_id, system_id=system.id, trigger="schedule",
                        kinds="volume", state="succeeded", attempts=1, started_at=now, finished_at=now,
                        duration_seconds=12.0, size_gb=1)
        session.add(run)
        session.flush()
        artifact = BackupArtifact(run_id=run.id, policy_id=policy.id, department_id=dept_id, system_id=system.id,
                                  kind="volume", openstack_id=f"{dept_id:032d}", name=f"gc-seed-backup-{dept_id}",
                                  source_key=f"volume:seed:{dept_id}", size_gb=1, status="available",
                                  completed_at=now)
        session.add(artifact)
        session.flush()
        extraction = BackupExtraction(artifact_id=artifact.id, department_id=dept_id, reason="审计取证",
                                      state="applied", requested_by_id=seed.user_ids[user_key])
        session.add(extraction)
        session.flush()
        out["policy_id"].append(policy.id)
        out["artifact_id"].append(artifact.id)
        out["extraction_id"].append(extraction.id)
        out["token"].append(f"seed-link-{dept_id}-" + "x" * 30)
    session.commit()
    return {name: tuple(ids) for name, ids in out.items()}
