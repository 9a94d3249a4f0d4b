"""Generation jobs as rows of the catalog: parameters, attempts, rejections by reason, status.

Accepted records are the source of truth for progress (count of records in the job's dataset), so a
job killed at any point resumes without losing or duplicating an accepted sample.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field

from catalog.errors import SynthcatError


@dataclass
class Job:
    job_id: str
    dataset: str
    parameters: dict
    target: int
    attempts: int = 0
    status: str = "running"
    rejections: Counter = field(default_factory=Counter)
    usage: dict = field(default_factory=dict)
    stop_reason: str | None = None

    def to_dict(self) -> dict:
        return {"job_id": self.job_id, "dataset": self.dataset, "target": self.target, "attempts": self.attempts,
                "status": self.status, "stop_reason": self.stop_reason, "rejections": dict(self.rejections),
                "usage": self.usage, "parameters": self.parameters}


def new_job_id() -> str:
    return "gen-" + uuid.uuid4().hex[:10]


def insert_job(cat, job: Job) -> None:
    cat.con.execute(
        "INSERT INTO generation_jobs (job_id, dataset, parameters, target, attempts, status, rejections, usage, "
        "created_at, updated_at, stop_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, now(), now(), ?)",
        [job.job_id, job.dataset, json.dumps(job.parameters), job.target, job.attempts, job.status,
         json.dumps(dict(job.rejections)), json.dumps(job.usage), job.stop_reason])


def save_job(cat, job: Job) -> None:
    cat.con.execute(
        "UPDATE generation_jobs SET attempts = ?, status = ?, rejections = ?, usage = ?, stop_reason = ?, "
        "updated_at = now() WHERE job_id = ?",
        [job.attempts, job.status, json.dumps(dict(job.rejections)), json.dumps(job.usage), job.stop_reason,
         job.job_id])


def _job_from_row(row) -> Job:
    job_id, dataset, params, target, attempts, status, rejections, usage, stop_reason = row
    return Job(job_id=job_id, dataset=dataset, parameters=json.loads(params), target=target, attempts=attempts,
               status=status, rejections=Counter(json.loads(rejections)), usage=json.loads(usage or "{}"),
               stop_reason=stop_reason)


_COLUMNS = "job_id, dataset, parameters, target, attempts, status, rejections, usage, stop_reason"


def load_job(cat, job_id: str) -> Job:
    row = cat.con.execute(f"SELECT {_COLUMNS} FROM generation_jobs WHERE job_id = ?", [job_id]).fetchone()
    if row is None:
        raise SynthcatError(f"unknown generation job '{job_id}' (see: synthcat generate jobs)")
    return _job_from_row(row)


def job_for_dataset(cat, dataset: str) -> Job | None:
    row = cat.con.execute(f"SELECT {_COLUMNS} FROM generation_jobs WHERE dataset = ? ORDER BY created_at DESC "
                          "LIMIT 1", [dataset]).fetchone()
    return _job_from_row(row) if row else None


def list_jobs(cat) -> list[dict]:
    """Every job with its progress, tokens (and cost, when it has a price table) and quality so far."""
    from generators.text.budget import Prices, usage_summary

    rows = cat.con.execute(f"SELECT {_COLUMNS} FROM generation_jobs ORDER BY created_at").fetchall()
    out = []
    for row in rows:
        job = _job_from_row(row)
        accepted = accepted_count(cat, job.dataset)
        prices = Prices(job.parameters.get("price_in"), job.parameters.get("price_out"))
        out.append(dict(job.to_dict(), accepted=accepted, summary=usage_summary(job.usage, prices, accepted),
                        quality=quality_summary(cat, job.dataset)))
    return out


def quality_summary(cat, dataset: str) -> dict:
    """Distribution of the dataset's groundedness, judge scores and judge failures (active records)."""
    row = cat.con.execute(
        "SELECT count(*), count(p.groundedness), avg(p.groundedness), quantile_cont(p.groundedness, 0.1), "
        "median(p.groundedness), count(*) FILTER (WHERE p.judge_status = 'scored'), avg(p.judge_score), "
        "count(*) FILTER (WHERE p.judge_status = 'failed'), sum(p.prompt_tokens + p.completion_tokens) "
        "FROM records r JOIN datasets d USING (dataset_id) JOIN generation_provenance p USING (record_id) "
        "WHERE d.name = ? AND r.status = 'active'", [dataset]).fetchone()
    records, scored, mean, p10, med, judged, judge_mean, judge_failed, tokens = row

    def rounded(value):
        return None if value is None else round(float(value), 4)

    return {"records": records, "groundedness_scored": scored, "groundedness_mean": rounded(mean),
            "groundedness_p10": rounded(p10), "groundedness_median": rounded(med), "judged": judged,
            "judge_mean": rounded(judge_mean), "judge_failed": judge_failed,
            "record_tokens": int(tokens) if tokens is not None else None}


def accepted_count(cat, dataset: str) -> int:
    return cat.con.execute(
        "SELECT count(*) FROM records r JOIN datasets d USING (dataset_id) WHERE d.name = ?", [dataset]).fetchone()[0]
