from . import test_curation
from . import test_queue
from . import test_sync_guard
