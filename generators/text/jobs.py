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

    def to_dict(self) -> dict:
        return {"job_id": self.job_id, "dataset": self.dataset, "target": self.target, "attempts": self.attempts,
                "status": self.status, "rejections": dict(self.rejections), "usage": self.usage,
                "parameters": self.parameters}


def new_job_id() -> str:
    return "gen-" + uuid.uuid4().hex[:10]


def insert_job(cat, job: Job) -> None:
    cat.con.execute(
        "INSERT INTO generation_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, now(), now())",
        [job.job_id, job.dataset, json.dumps(job.parameters), job.target, job.attempts, job.status,
         json.dumps(dict(job.rejections)), json.dumps(job.usage)])


def save_job(cat, job: Job) -> None:
    cat.con.execute(
        "UPDATE generation_jobs SET attempts = ?, status = ?, rejections = ?, usage = ?, updated_at = now() "
        "WHERE job_id = ?",
        [job.attempts, job.status, json.dumps(dict(job.rejections)), json.dumps(job.usage), job.job_id])


def _job_from_row(row) -> Job:
    job_id, dataset, params, target, attempts, status, rejections, usage = row
    return Job(job_id=job_id, dataset=dataset, parameters=json.loads(params), target=target, attempts=attempts,
               status=status, rejections=Counter(json.loads(rejections)), usage=json.loads(usage or "{}"))


_COLUMNS = "job_id, dataset, parameters, target, attempts, status, rejections, usage"


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
    rows = cat.con.execute(f"SELECT {_COLUMNS} FROM generation_jobs ORDER BY created_at").fetchall()
    out = []
    for row in rows:
        job = _job_from_row(row)
        accepted = accepted_count(cat, job.dataset)
        out.append(dict(job.to_dict(), accepted=accepted))
    return out


def accepted_count(cat, dataset: str) -> int:
    return cat.con.execute(
        "SELECT count(*) FROM records r JOIN datasets d USING (dataset_id) WHERE d.name = ?", [dataset]).fetchone()[0]
