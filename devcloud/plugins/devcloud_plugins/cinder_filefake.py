"""Cinder volume driver keeping each volume as a sparse file.

Attach goes through os-brick's `local` connector (the path is the file), which is what lets
cinder-backup's posix driver read and restore real volume contents.
"""
import os
import shutil

from oslo_config import cfg
from oslo_log import log as logging

from cinder.tests import fake_driver
from cinder.volume import configuration

LOG = logging.getLogger(__name__)

volume_opts = [
    cfg.StrOpt('devcloud_volume_dir', default='/var/lib/devcloud/volumes',
               help='Directory holding one sparse file per volume.'),
    cfg.IntOpt('devcloud_capacity_gb', default=10000,
               help='Capacity reported to the scheduler.'),
]
cfg.CONF.register_opts(volume_opts, group=configuration.SHARED_CONF_GROUP)

GiB = 1024 ** 3


class FileFakeVolumeDriver(fake_driver.FakeLoggingVolumeDriver):

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(volume_opts)
        self.backend_name = (self.configuration.safe_get('volume_backend_name')
                             or 'devcloud')
        self.protocol = 'local'

    def _dir(self):
        path = self.configuration.devcloud_volume_dir
        os.makedirs(path, exist_ok=True)
        return path

    def _path(self, volume):
        return os.path.join(self._dir(), 'volume-%s' % volume['id'])

    def local_path(self, volume, vg=None):
        # the LVM base class uploads this path to Glance (volume upload-to-image)
        return self._path(volume)

    def _make(self, volume, size_gb, source=None):
        path = self._path(volume)
        if source and os.path.exists(source):
            shutil.copyfile(source, path)
        with open(path, 'ab') as f:
            f.truncate(size_gb * GiB)
        return path

    def do_setup(self, context):
        self._dir()

    def check_for_setup_error(self):
        pass

    def create_volume(self, volume):
        self._make(volume, volume['size'])

    def create_volume_from_snapshot(self, volume, snapshot):
        self._make(volume, volume['size'],
                   source=os.path.join(self._dir(), 'snapshot-%s' % snapshot['id']))

    def create_cloned_volume(self, volume, src_vref):
        self._make(volume, volume['size'], source=self._path(src_vref))

    def create_snapshot(self, snapshot):
        src = self._path(snapshot['volume'])
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(self._dir(), 'snapshot-%s' % snapshot['id']))

    def delete_snapshot(self, snapshot):
        try:
            os.unlink(os.path.join(self._dir(), 'snapshot-%s' % snapshot['id']))
        except FileNotFoundError:
            pass

    def delete_volume(self, volume):
        try:
            os.unlink(self._path(volume))
        except FileNotFoundError:
            pass

    def extend_volume(self, volume, new_size):
        with open(self._path(volume), 'ab') as f:
            f.truncate(new_size * GiB)

    def validate_connector(self, connector):
        pass

    def initialize_connection(self, volume, connector):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._path(volume),
                         'access_mode': 'rw'}}

    def terminate_connection(self, volume, connector, **kwargs):
        # a backup restore opens the file for writing (truncating it) and skips zero chunks:
        # give the volume its size back, as a block device would have kept it
        super().terminate_connection(volume, connector, **kwargs)
        if os.path.exists(self._path(volume)):
            self._make(volume, volume['size'])

    def _update_volume_stats(self):
        allocated = 0
        for name in os.listdir(self._dir()):
            if name.startswith('volume-'):
                allocated += os.stat(os.path.join(self._dir(), name)).st_size // GiB
        total = self.configuration.devcloud_capacity_gb
        self._stats = {
            'volume_backend_name': self.backend_name,
            'vendor_name': 'govcloud devcloud',
            'driver_version': '1.0',
            'storage_protocol': self.protocol,
            'pools': [{
                'pool_name': self.backend_name,
                'total_capacity_gb': total,
                'free_capacity_gb': max(total - allocated, 0),
                'provisioned_capacity_gb': allocated,
                'reserved_percentage': 0,
                'QoS_support': False,
                'thin_provisioning_support': True,
                'max_over_subscription_ratio': 1.0,
                'multiattach': False,
            }],
        }
