"""Generate data/demo_customers.csv: ~600 fictional Brightwave Fibre customer records.

Seeded and offline. Built-in relationships for synthesizers to learn:
  plan -> monthly_fee (list price + noise from discounts), plan -> data_used_gb (lognormal, right-skewed),
  router_model (older hubs) -> more support_tickets, older customers -> older routers,
  tickets and fee -> churned (logistic, ~18% yes). ~2% missing in data_used_gb and router_model.

    python data/make_demo_customers.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 7
N = 600
OUT = Path(__file__).resolve().parent / "demo_customers.csv"

PLANS = ["Spark 100", "Glow 300", "Beam 500", "Blaze 1000"]
PLAN_P = [0.34, 0.33, 0.21, 0.12]
PLAN_FEE = {"Spark 100": 29.0, "Glow 300": 36.0, "Beam 500": 44.0, "Blaze 1000": 58.0}
PLAN_GB = {"Spark 100": 180.0, "Glow 300": 320.0, "Beam 500": 480.0, "Blaze 1000": 750.0}  # median
REGIONS = ["North", "Midlands", "South East", "South West", "Wales"]
REGION_P = [0.31, 0.24, 0.22, 0.15, 0.08]
ROUTERS = ["BW Hub 2", "BW Hub 3", "BW Hub 4 Pro"]
ROUTER_TICKETS = {"BW Hub 2": 1.6, "BW Hub 3": 0.9, "BW Hub 4 Pro": 0.5}  # Poisson mean


def main() -> None:
    rng = np.random.default_rng(SEED)
    start, end = np.datetime64("2018-01-01"), np.datetime64("2026-09-30")
    signup = start + rng.integers(0, int((end - start).astype(int)), N).astype("timedelta64[D]")
    tenure_years = (end - signup).astype(int) / 365.25

    age = np.clip(rng.normal(46, 14, N), 18, 88).round().astype(int)
    region = rng.choice(REGIONS, N, p=REGION_P)
    # Younger customers lean to faster plans.
    plan_idx = []
    for a in age:
        shift = np.array([0.10, 0.0, -0.04, -0.06]) * (a - 46) / 14
        p = np.clip(np.array(PLAN_P) + shift, 0.02, None)
        plan_idx.append(rng.choice(4, p=p / p.sum()))
    plan = np.array(PLANS)[plan_idx]

    discount = rng.choice([0.0, 0.0, 0.0, 4.0, 6.0], N)  # some are still on an intro deal
    fee = np.array([PLAN_FEE[p] for p in plan]) - discount + rng.normal(0, 1.2, N)
    fee = fee.round(2)

    gb = np.exp(np.log([PLAN_GB[p] for p in plan]) + rng.normal(0, 0.6, N)) * (1.25 - 0.005 * age)
    gb = gb.round(1)

    # Routers: customers who joined earlier are more likely to still have an old hub.
    router = []
    for t in tenure_years:
        p = np.array([max(0.05, (t - 3) * 0.15), 0.45, max(0.1, 1 - t * 0.12)])
        router.append(rng.choice(ROUTERS, p=p / p.sum()))
    router = np.array(router)

    lam = np.array([ROUTER_TICKETS[r] for r in router]) * np.where(region == "Wales", 1.3, 1.0)
    tickets = rng.poisson(lam)

    logit = -1.75 + 0.55 * tickets + 0.06 * (fee - 38) - 0.12 * np.minimum(tenure_years, 6)
    churn_p = 1 / (1 + np.exp(-logit))
    churned = np.where(rng.random(N) < churn_p, "yes", "no")

    df = pd.DataFrame({
        "customer_id": np.arange(10001, 10001 + N),
        "signup_date": pd.to_datetime(signup).strftime("%Y-%m-%d"),
        "age": age, "region": region, "plan": plan, "monthly_fee": fee, "data_used_gb": gb,
        "support_tickets": tickets, "router_model": router, "churned": churned,
    })
    df["data_used_gb"] = df["data_used_gb"].mask(rng.random(N) < 0.02)
    df["router_model"] = df["router_model"].mask(rng.random(N) < 0.02)
    df.to_csv(OUT, index=False)

    back = pd.read_csv(OUT)
    print(f"{OUT.name}: {len(back)} rows")
    print(f"churned yes: {(back.churned == 'yes').mean():.1%}")
    print("missing:", back.isna().sum()[back.isna().sum() > 0].to_dict())
    print(back.groupby("plan")[["monthly_fee", "data_used_gb"]].median().round(1).to_string())
    print(back.groupby("router_model")["support_tickets"].mean().round(2).to_string())
    print(back.groupby("churned")[["support_tickets", "monthly_fee"]].mean().round(2).to_string())
    print(back.region.value_counts().to_string())


if __name__ == "__main__":
    main()
