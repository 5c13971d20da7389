"""Backups in the cloud (第十九条): server snapshots to Glance, Cinder volume backups, restores,
exports of a volume to an image, and the listings that find what a run made."""
import time

from .. import errors
from .connection import POLL_SECONDS, os_exceptions, translate_errors


def _image_view(image):
    return {"id": image.id, "name": image.name, "status": image.status, "size": image.size,
            "checksum": image.checksum, "tags": list(image.tags or []),
            "properties": dict(image.properties or {}), "created_at": image.created_at,
            "min_disk": image.min_disk or 0}


def _backup_view(backup):
    return {"id": backup.id, "name": backup.name, "status": backup.status, "size": backup.size,
            "volume_id": backup.volume_id, "description": backup.description or "",
            "metadata": dict(backup.metadata or {}), "fail_reason": backup.fail_reason or "",
            "object_count": backup.object_count, "created_at": backup.created_at}


class Backups:
    """Cloud methods of the backup engine."""

    def server_backup_source(self, project_id, server_id):
        """Return what a new server built from a snapshot of server_id needs: flavor, networks,
        security groups, key name, status and task state (None when the server is gone)."""
        with translate_errors("get server for backup"):
            server = self.project(project_id).compute.find_server(server_id)
            if server is None:
                return None
            server = self.project(project_id).compute.get_server(server.id)
        flavor = server.flavor or {}
        networks = sorted({network for network in (server.addresses or {})})
        with translate_errors("list server ports"):
            conn = self.project(project_id)
            network_ids = sorted({p.network_id for p in conn.network.ports(device_id=server.id)})
        return {"flavor": flavor.get("original_name") or flavor.get("name") or flavor.get("id"),
                "network_ids": network_ids, "networks": networks,
                "security_groups": sorted({sg.get("name") for sg in server.security_groups or []}),
                "key_name": server.key_name or "", "status": server.status, "task_state": server.task_state}

    def create_server_snapshot(self, project_id, server_id, name, properties):
        """Start a snapshot of server_id to a Glance image (Nova createImage) with properties; return
        the image id (the image becomes active asynchronously; tag it once it is: a tag written while
        Nova uploads can race Nova's own update of the image)."""
        with translate_errors("create server snapshot"):
            conn = self.project(project_id)
            return conn.compute.get_server(server_id).create_image(conn.compute, name, properties)

    def tag_image(self, project_id, image_id, tags):
        """Add tags to an image (idempotent)."""
        with translate_errors("tag image"):
            conn = self.project(project_id)
            for tag in tags:
                conn.image.add_tag(image_id, tag)

    def get_image(self, project_id, image_id):
        """Return a Glance image as plain data, or None when it does not exist."""
        with translate_errors("get image"):
            try:
                return _image_view(self.project(project_id).image.get_image(image_id))
            except os_exceptions.NotFoundException:
                return None

    def delete_image(self, project_id, image_id):
        """Delete a Glance image; absent counts as deleted."""
        with translate_errors("delete image"):
            self.project(project_id).image.delete_image(image_id, ignore_missing=True)

    def server_task_state(self, project_id, server_id):
        """Return (status, task_state) of a server; task_state None means no snapshot is in progress."""
        with translate_errors("get server"):
            server = self.project(project_id).compute.get_server(server_id)
        return server.status, server.task_state

    def create_volume_backup(self, project_id, volume_id, name, description, metadata):
        """Start a full Cinder backup of volume_id (force: attached volumes too) with metadata;
        return the backup id."""
        with translate_errors("create volume backup"):
            return self.project(project_id).block_storage.create_backup(
                volume_id=volume_id, name=name, description=description, metadata=metadata, force=True,
                is_incremental=False).id

    def get_volume_backup(self, project_id, backup_id):
        """Return a Cinder backup as plain data, or None when it does not exist."""
        with translate_errors("get volume backup"):
            try:
                return _backup_view(self.project(project_id).block_storage.get_backup(backup_id))
            except os_exceptions.NotFoundException:
                return None

    def delete_volume_backup(self, project_id, backup_id):
        """Delete a Cinder backup (an errored one with force); absent counts as deleted."""
        view = self.get_volume_backup(project_id, backup_id)
        if view is None or view["status"] == "deleting":
            return
        with translate_errors("delete volume backup"):
            if view["status"] == "error":
                self.admin.block_storage.delete_backup(backup_id, ignore_missing=True, force=True)
            else:
                self.project(project_id).block_storage.delete_backup(backup_id, ignore_missing=True)

    def wait_for_deleted(self, project_id, kind, openstack_id, wait_seconds=None):
        """Wait until a volume backup, image or volume is gone."""
        getter = {"backup": self.get_volume_backup, "image": self.get_image}.get(kind)
        deadline = time.monotonic() + (wait_seconds or self.wait_seconds)
        while True:
            if kind == "volume":
                with translate_errors("find volume"):
                    gone = self.project(project_id).block_storage.find_volume(openstack_id) is None
            else:
                view = getter(project_id, openstack_id)
                gone = view is None or view["status"] == "deleted"
            if gone:
                return
            if time.monotonic() > deadline:
                raise errors.TransientCloudError(errors.TIMEOUT, f"{kind} {openstack_id} not deleted")
            time.sleep(POLL_SECONDS)

    def restore_volume_backup(self, project_id, backup_id, *, volume_id=None, name=None):
        """Start restoring a Cinder backup into volume_id (it must be available), or into a new volume
        called name; return the volume id (it is `restoring-backup` until done)."""
        with translate_errors("restore volume backup"):
            result = self.project(project_id).block_storage.restore_backup(backup_id, volume=volume_id, name=name)
        return result.volume_id

    def detach_volume(self, project_id, server_id, volume_id):
        """Start detaching volume_id from server_id (absent attachment counts as detached)."""
        with translate_errors("detach volume"):
            self.project(project_id).compute.delete_volume_attachment(server_id, volume_id, ignore_missing=True)

    def start_volume_attach(self, project_id, server_id, volume_id):
        """Start attaching volume_id to server_id (it must be available)."""
        with translate_errors("attach volume"):
            self.project(project_id).compute.create_volume_attachment(server_id, volume_id=volume_id)

    def rebuild_server_from_image(self, project_id, server_id, image_id):
        """Start rebuilding server_id from image_id (its disk replaced by the snapshot)."""
        with translate_errors("rebuild server"):
            self.project(project_id).compute.rebuild_server(server_id, image=image_id)

    def create_server_from_snapshot(self, project_id, name, image_id, source, metadata):
        """Start a new server from a snapshot image with the flavor, networks, security groups and
        key of the original (`source` as returned by server_backup_source); return its id."""
        with translate_errors("create server from snapshot"):
            conn = self.project(project_id)
            flavor = conn.compute.find_flavor(source["flavor"])
            if flavor is None:
                raise errors.PermanentCloudError(errors.FLAVOR_MISSING, source["flavor"])
            kwargs = {"name": name, "flavor_id": flavor.id, "image_id": image_id, "metadata": metadata,
                      "networks": [{"uuid": n} for n in source.get("network_ids") or []] or "none"}
            if source.get("security_groups"):
                kwargs["security_groups"] = [{"name": sg} for sg in source["security_groups"]]
            if source.get("key_name"):
                kwargs["key_name"] = source["key_name"]
            return conn.compute.create_server(**kwargs).id

    def upload_volume_to_image(self, project_id, volume_id, image_name):
        """Start uploading a volume's data to a new private raw image; return the image id."""
        with translate_errors("upload volume to image"):
            result = self.project(project_id).block_storage.upload_volume_to_image(
                volume_id, image_name, force=True, disk_format="raw", container_format="bare")
        return result["image_id"]

    def image_data(self, project_id, image_id, chunk_size=1024 * 1024):
        """Return (size in bytes or None, an iterator over the image's data) streamed from Glance."""
        with translate_errors("download image"):
            response = self.project(project_id).image.download_image(image_id, stream=True)
        size = response.headers.get("Content-Length")

        def chunks():
            try:
                with translate_errors("read image data"):
                    yield from response.iter_content(chunk_size=chunk_size)
            finally:
                response.close()
        return (int(size) if size else None), chunks()

    def list_backups_tagged(self, project_id):
        """Return the project's govcloud backups as [{kind, id, name, status}] (images tagged
        `govcloud-backup`, Cinder backups whose metadata names a govcloud policy)."""
        out = []
        with translate_errors("list backup images"):
            for image in self.project(project_id).image.images(tag=["govcloud-backup"], owner=project_id):
                out.append({"kind": "snapshot", "id": image.id, "name": image.name, "status": image.status})
        with translate_errors("list volume backups"):
            for backup in self.project(project_id).block_storage.backups(details=True):
                if (backup.metadata or {}).get("govcloud_backup_policy") is not None:
                    out.append({"kind": "volume", "id": backup.id, "name": backup.name, "status": backup.status})
        return out

    def list_run_backups(self, project_id, run_id):
        """Return the images and Cinder backups of a project made by backup run `run_id` (property or
        metadata govcloud_run), as [{kind, id, name, status}]: finds what a run created but had not
        recorded when its process died."""
        out = []
        with translate_errors("list images of a backup run"):
            for image in self.project(project_id).image.images(owner=project_id):
                if str((image.properties or {}).get("govcloud_run", "")) == str(run_id):
                    out.append({"kind": "snapshot", "id": image.id, "name": image.name, "status": image.status})
        with translate_errors("list volume backups of a backup run"):
            for backup in self.project(project_id).block_storage.backups(details=True):
                if str((backup.metadata or {}).get("govcloud_run", "")) == str(run_id):
                    out.append({"kind": "volume", "id": backup.id, "name": backup.name, "status": backup.status})
        return out
