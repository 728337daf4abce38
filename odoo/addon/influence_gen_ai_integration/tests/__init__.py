from . import test_queue
from . import test_sync_guard
