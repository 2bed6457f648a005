"""The one way the tests build :class:`Settings`: cut off from the environment.

Every test folder builds its settings here, so they differ only where a test says
so: no ``.env`` file, no ``DANCE_*``/``DATABASE_URL``/``REDIS_URL`` from the shell
(SQLite and the SQLite queue in the test's own folder unless a test passes a URL),
the mock analysis, a queue of the data folder's own, loopback hosts and a free port.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from dance_analysis.config import Settings

LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "testserver"]  # testserver: httpx's ASGI client

# Leases long enough that a busy CI machine never lets one lapse by accident.
STEADY_LEASES: dict[str, Any] = {"lease_s": 10, "heartbeat_s": 1, "sweep_interval_s": 2}
# Short leases, so the crash tests see recovery within seconds.
FAST_LEASES: dict[str, Any] = {"lease_s": 3.0, "heartbeat_s": 1.0, "sweep_interval_s": 1.0}


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test whose data lives in ``data_dir``; ``overrides`` win."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "use_mock_analysis": True,
        # One queue per data folder: two services on one folder share it (as the app
        # and its worker do), while tests on the one Redis never see each other's.
        "queue_name": "t" + uuid.uuid5(uuid.NAMESPACE_URL, str(Path(data_dir).resolve())).hex[:12],
        "database_url": None,
        "redis_url": None,
        "api_host": "127.0.0.1",
        "api_port": 0,
        "allowed_hosts": LOOPBACK_HOSTS,
        **STEADY_LEASES,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)
