"""Small generated data for the profiling tests (imported by name from this folder)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa

NOW = datetime(2024, 6, 2, tzinfo=timezone.utc)
NEWEST = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def make_table(n: int = 5000, seed: int = 1, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    amount = rng.normal(100.0 + shift, 15.0, n)
    amount_mask = np.zeros(n, dtype=bool)
    amount_mask[::10] = True  # 10 % nulls
    stamps = [NEWEST - timedelta(minutes=int(m)) for m in rng.integers(1, 10_000, n)]
    stamps[0] = NEWEST
    emails = [f"user{i}@example.com" if i % 4 == 0 else f"note {i}" for i in range(n)]
    return pa.table(
        {
            "id": pa.array(np.arange(n, dtype=np.int64)),
            "amount": pa.array(amount, mask=amount_mask),
            "category": pa.array(rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])),
            "contact": pa.array(emails),
            "event_timestamp": pa.array(stamps, type=pa.timestamp("us", tz="UTC")),
        }
    )
