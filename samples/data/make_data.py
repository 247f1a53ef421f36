"""Generate the sample datasets behind the sample mesh's feature sets (deterministic).

Three data products, a few thousand rows each, as Parquet next to this script:

* ``payments_transactions.parquet``: card payments, with an event timestamp, amounts,
  merchant categories and the payer's e-mail on a minority of rows;
* ``customer_profiles.parquet``: one row per customer, e-mail and phone contact, age,
  segment, lifetime value, updated_at;
* ``marketing_clicks.parquet``: campaign click events with channel, device, client IP
  and a free-text referrer.

Run ``python samples/data/make_data.py`` to regenerate; the output is byte-stable for
a given pyarrow version.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20240611
HERE = Path(__file__).resolve().parent
END = datetime(2024, 6, 1, tzinfo=timezone.utc)

FIRST = ["anna", "bram", "chloe", "daan", "emma", "finn", "giulia", "hugo", "ines", "jan"]
LAST = ["jansen", "devries", "bakker", "visser", "smit", "meijer", "mulder", "bos"]
DOMAINS = ["example.com", "example.org", "mail.example.net"]
CATEGORIES = ["grocery", "fuel", "travel", "dining", "electronics", "apparel", "health"]
SEGMENTS = ["new", "regular", "loyal", "at_risk", "churned"]
CHANNELS = ["email", "search", "social", "display", "affiliate"]
DEVICES = ["ios", "android", "desktop", "tablet"]


def _emails(rng: np.random.Generator, ids: np.ndarray) -> list[str]:
    return [
        f"{FIRST[i % len(FIRST)]}.{LAST[(i // 7) % len(LAST)]}{i}@{DOMAINS[i % len(DOMAINS)]}"
        for i in ids.tolist()
    ]


def _timestamps(rng: np.random.Generator, n: int, days: int) -> pa.Array:
    offsets = np.sort(rng.integers(0, days * 86_400, n))
    start = END - timedelta(days=days)
    return pa.array([start + timedelta(seconds=int(s)) for s in offsets], type=pa.timestamp("us", tz="UTC"))


def payments_transactions(rng: np.random.Generator, n: int = 5000) -> pa.Table:
    customers = rng.integers(1, 1500, n)
    emails = np.array(_emails(rng, customers), dtype=object)
    emails[rng.random(n) < 0.7] = None  # only card-not-present payments carry an e-mail
    amount = np.round(rng.lognormal(3.2, 1.0, n), 2)
    return pa.table(
        {
            "transaction_id": [f"tx-{i:07d}" for i in range(n)],
            "customer_id": customers,
            "event_timestamp": _timestamps(rng, n, 30),
            "amount_eur": amount,
            "merchant_category": rng.choice(CATEGORIES, n),
            "payer_email": pa.array(emails.tolist(), type=pa.string()),
            "is_fraud": rng.random(n) < 0.02,
        }
    )


def customer_profiles(rng: np.random.Generator, n: int = 1500) -> pa.Table:
    ids = np.arange(1, n + 1)
    age = rng.integers(18, 90, n).astype(float)
    age[rng.random(n) < 0.05] = np.nan
    phones = [f"+31 6 {rng.integers(10_000_000, 99_999_999)}" for _ in range(n)]
    return pa.table(
        {
            "customer_id": ids,
            "updated_at": _timestamps(rng, n, 90),
            "email": _emails(rng, ids),
            "phone": phones,
            "age": pa.array(age, mask=np.isnan(age)).cast(pa.int32()),
            "segment": rng.choice(SEGMENTS, n, p=[0.15, 0.4, 0.25, 0.12, 0.08]),
            "lifetime_value_eur": np.round(rng.gamma(2.0, 400.0, n), 2),
        }
    )


def marketing_clicks(rng: np.random.Generator, n: int = 4000) -> pa.Table:
    ips = [
        f"192.0.2.{rng.integers(1, 255)}" if rng.random() < 0.5 else f"198.51.100.{rng.integers(1, 255)}"
        for _ in range(n)
    ]
    referrers = np.array(
        [
            f"newsletter week {w} from {e}" if rng.random() < 0.1 else f"campaign-{w}"
            for w, e in zip(
                rng.integers(1, 52, n).tolist(), _emails(rng, rng.integers(1, 1500, n)), strict=True
            )
        ],
        dtype=object,
    )
    return pa.table(
        {
            "click_id": [f"clk-{i:06d}" for i in range(n)],
            "customer_id": rng.integers(1, 1500, n),
            "clicked_at": _timestamps(rng, n, 14),
            "channel": rng.choice(CHANNELS, n),
            "device": rng.choice(DEVICES, n),
            "client_ip": ips,
            "referrer": referrers.tolist(),
            "dwell_seconds": np.round(rng.exponential(35.0, n), 1),
        }
    )


def main() -> None:
    rng = np.random.default_rng(SEED)
    for name, build in (
        ("payments_transactions", payments_transactions),
        ("customer_profiles", customer_profiles),
        ("marketing_clicks", marketing_clicks),
    ):
        pq.write_table(build(rng), HERE / f"{name}.parquet", compression="zstd")


if __name__ == "__main__":
    main()
