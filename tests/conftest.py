"""Suite-wide test configuration.

Hypothesis runs with ``deadline=None`` everywhere (2 noisy cores make
per-example deadlines flaky), and under CI (``CI=true``) it is derandomized,
so a CI run is reproducible from the commit alone. Locally it explores new
examples each run; a failure prints the seed to reproduce it.

Every :class:`~clobkit.replication.Replica` checks its field invariants after each
``handle``/``tick`` (``Replica.check_invariants``), whoever drives it: the replication
harness, the simulator's host, the campaigns run in this process.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from clobkit.replication.replica import Replica

Replica.check_invariants = True

settings.register_profile(
    "dev",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
