"""How many shortage alarms were true (issue 14): the fallback rule's shortage signals raised at
past days of a generated network, against what the stock counts show afterwards.

An alarm (risk >= the default threshold 0.5) raised as of day D is true when a stock count of
that plant and material within its lead time after D is at or below zero (the generator counts
daily at sensor and MES plants, weekly at spreadsheet plants). Prints alarms, true ones and the
precision, and the alarms of the morning after the last data day (when counts of spreadsheet
plants and of plants with a feed outage are days old). To compare with the code before issue
14, export that commit (`git archive 09832d5 | tar -x -C /tmp/base`) and run this file there.

    python -m bench.shortage_alarms                      # 4 plants, 180 days, 6 days checked
    python -m bench.shortage_alarms --plants 12 --days 365 --checks 12   # the audit's network
"""

import argparse
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from sqlalchemy import select

import sample_data
from data_access.engine import make_engine
from data_access.schema import inventory_snapshot
from data_access.scope import PlantScope
from governance import signals

END = date(2026, 6, 30)
THRESHOLD = 0.5


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=4)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--checks", type=int, default=6, help="as-of days checked, 7 days apart")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        started = time.perf_counter()
        sample_data.generate(engine, plants=args.plants, days=args.days, seed=args.seed, end_day=END)
        print(f"generated {args.plants} plants x {args.days} days in {time.perf_counter() - started:.0f} s")
        with engine.connect() as conn:
            counts = pd.DataFrame(
                conn.execute(
                    select(
                        inventory_snapshot.c.plant_id,
                        inventory_snapshot.c.material_id,
                        inventory_snapshot.c.day,
                        inventory_snapshot.c.on_hand,
                    )
                ).all(),
                columns=["plant_id", "material_id", "day", "on_hand"],
            )
        counts["day"] = pd.to_datetime(counts["day"]).dt.date
        alarms = true = 0
        for k in range(args.checks):
            day = END - timedelta(days=60 + 7 * k)
            as_of = datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=23)
            found = signals.risk_signals(engine, PlantScope.everything(), as_of, kinds=("shortage",))
            for s in found[found["risk"] >= THRESHOLD].itertuples(index=False):
                lead = float(s.evidence["lead_time_days"])
                later = counts[
                    (counts["plant_id"] == s.plant_id)
                    & (counts["material_id"] == s.subject_id)
                    & (counts["day"] > day)
                    & (counts["day"] <= day + timedelta(days=lead))
                ]
                alarms += 1
                true += bool((later["on_hand"] <= 0).any())
        # as the nightly orchestration sees it: the morning after the last data day, when the
        # stock counts of spreadsheet plants and of plants with a feed outage are days old
        now = signals.risk_signals(
            engine,
            PlantScope.everything(),
            datetime.combine(END + timedelta(days=1), datetime.min.time(), timezone.utc) + timedelta(hours=6),
            kinds=("shortage",),
        )
        engine.dispose()
    precision = true / alarms if alarms else float("nan")
    print(
        f"past days: shortage alarms {alarms}, followed by a zero stock count within the lead time {true} "
        f"(precision {precision:.0%}, false alarms {alarms - true})"
    )
    print(
        f"the morning after the data: shortage alarms {int((now['risk'] >= THRESHOLD).sum())} "
        f"of {len(now)} materials scored"
    )


if __name__ == "__main__":
    main()
