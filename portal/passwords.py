"""Password hashing with argon2id (argon2-cffi)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Checked against when the username is unknown, so timing does not tell who exists.
DUMMY_PASSWORD = "govcloud-dummy-password"


class Passwords:
    """Hash and verify passwords with cost parameters from the configuration."""

    def __init__(self, time_cost=3, memory_kib=65536, parallelism=4):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                      parallelism=parallelism)
        self._dummy_hash = None

    @classmethod
    def from_config(cls, config):
        return cls(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"],
                   config["PASSWORD_HASH_PARALLELISM"])

    def hash(self, password):
        return self._hasher.hash(password)

    def verify(self, password_hash, password):
        """Return True when password matches the hash."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password):
        """Spend the time of a real check, for unknown usernames; always False."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hash(DUMMY_PASSWORD)
        self.verify(self._dummy_hash, password)
        return False

    def needs_rehash(self, password_hash):
        return self._hasher.check_needs_rehash(password_hash)
