from . import test_sync_guard
