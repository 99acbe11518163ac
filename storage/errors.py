"""Storage exceptions.

StorageError
├── MigrationError   a migration failed or the file is newer than this program
└── NotFound         a row the caller named does not exist
"""


class StorageError(Exception):
    """Base of everything storage/ raises on purpose."""


class MigrationError(StorageError):
    pass


class NotFound(StorageError):
    pass
