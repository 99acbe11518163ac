"""Storage exceptions.

StorageError
├── MigrationError     a migration failed or the file is newer than this program
├── NotFound           a row the caller named does not exist
└── AlreadyAssembled   an SMS's parts were joined by another attempt meanwhile: roll this one back
"""


class StorageError(Exception):
    """Base of everything storage/ raises on purpose."""


class MigrationError(StorageError):
    pass


class NotFound(StorageError):
    pass


class AlreadyAssembled(StorageError):
    """The parts were assembled by someone else meanwhile; roll back this attempt."""
