"""Launch nova-compute with the fake hypervisor, patched so snapshots reach Glance.

Nova loads virt drivers only from nova.virt, so this is a launcher rather than a driver.
nova.cmd.compute must be imported first: it selects the threading backend before anything
imports eventlet.
"""
from nova.cmd import compute  # noqa: I100  (must come first, see above)

import io
import sys

from nova.compute import task_states
from nova.image import glance
from nova.virt import fake

SNAPSHOT_BYTES = 4096


def _snapshot(self, context, instance, image_id, update_task_state):
    if instance.uuid not in self.instances:
        from nova import exception
        raise exception.InstanceNotRunning(instance_id=instance.uuid)
    update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
    update_task_state(task_state=task_states.IMAGE_UPLOADING,
                      expected_state=task_states.IMAGE_PENDING_UPLOAD)
    metadata = {'disk_format': 'raw', 'container_format': 'bare'}
    glance.API().update(context, image_id, metadata,
                        io.BytesIO(b'\0' * SNAPSHOT_BYTES), purge_props=False)


fake.FakeDriver.snapshot = _snapshot

if __name__ == '__main__':
    sys.exit(compute.main())
