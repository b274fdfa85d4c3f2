"""What an execution environment restored from a SnapStart snapshot must redo (docs/DEPLOY.md).

Many environments resume from one snapshot, so whatever init made random or read from the clock is
shared by all of them. Ids and ticket numbers come from `secrets` (the OS's generator, fresh after a
restore); the DynamoDB client, the settings and the signing key are made on the first request, after
the restore. That leaves `random`, seeded when it was imported and used for retry jitter: jitter that
every restored environment shares is no jitter, so it is reseeded from the OS after each restore.
"""

from __future__ import annotations

import random

try:
    # Lambda's Python runtime (3.12+) provides it; elsewhere nothing is ever restored.
    from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
except ImportError:
    pass
else:
    register_after_restore(random.seed)
