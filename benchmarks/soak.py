"""Fault soak: SIGKILL `synthcat` writers at random moments and check the catalog after each kill.

    nice -n 19 python benchmarks/soak.py /tmp/soak-work --kills 300 --seed 1 > soak.json

Each *episode* picks a writing command (import, embed, dedup plain and --into, dedup-runs undo,
decontaminate, generate table, generate text with the bundled model), starts it as a `synthcat`
subprocess on a small catalog under WORKDIR, kills it (SIGKILL, whole process group) at a moment
drawn uniformly over that command's measured duration, and checks the catalog
(benchmarks/soak_invariants.py): it opens, row counts, references and dedup runs agree, no dataset
is half-written (the episode's target dataset holds all its rows or does not exist), and a stale
FAISS file is rebuilt on load, never used. An episode kills its command 1..--max-kills-per-episode
times (restarting it after each check), then runs it to the end: the re-run must succeed (exit 0),
or -- when a killed run had already committed -- refuse cleanly in one line (a dataset that
exists, a run already undone). Every `synthcat` run must be free of tracebacks.

In a share of episodes (--reader-share) a reader process runs beside the writer: it opens the
catalog read-only in a loop, checks the same counts and searches; "catalog in use" is the designed
answer while a writer holds the file, anything else unexpected is a violation.

Prints one JSON object: kills per command, violations (must be 0), re-run failures, wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from soak_invariants import check_all, check_keyword  # noqa: E402

COMMANDS = ("import", "import_embed", "import_table", "embed", "dedup", "dedup_semantic", "dedup_into",
            "undo", "decontaminate", "generate_table", "generate_text")
# how often each command is picked: the cheap ones most, the ones that load models less
WEIGHTS = {"import": 14, "import_embed": 4, "import_table": 8, "embed": 5, "dedup": 12, "dedup_semantic": 3,
           "dedup_into": 10, "undo": 12, "decontaminate": 12, "generate_table": 10, "generate_text": 3}
CLEAN_REFUSALS = ("already exists", "already undone")


@dataclass
class Episode:
    """One command to kill and re-run, and what its target must look like if it committed."""

    command: str
    argv: list[str]
    target: str | None = None  # the dataset it creates, if any
    expect_rows: int | None = None  # rows that dataset must hold if it exists
    run_id: int | None = None  # the run an undo restores


@dataclass
class Tally:
    kills: Counter = field(default_factory=Counter)
    episodes: Counter = field(default_factory=Counter)
    finished_before_kill: Counter = field(default_factory=Counter)
    committed_before_kill: Counter = field(default_factory=Counter)
    busy_refusals: Counter = field(default_factory=Counter)
    rerun_ok: Counter = field(default_factory=Counter)
    rerun_clean_refusal: Counter = field(default_factory=Counter)
    rerun_failures: list = field(default_factory=list)
    violations: list = field(default_factory=list)
    stale_indexes_seen: int = 0
    stale_keyword_seen: int = 0
    checks: int = 0
    durations: dict = field(default_factory=dict)
    reader: Counter = field(default_factory=Counter)
    reader_violations: list = field(default_factory=list)


# --------------------------------------------------------------------------- inputs
def _pairs(n: int, tag: str, rng: random.Random) -> list[dict]:
    topics = ["router", "billing", "outage", "wifi", "speed", "installation", "moving", "account"]
    rows = []
    for i in range(n):
        t = rng.choice(topics)
        extra = f" Reach me at user{i}.{tag}@example.com" if i % 50 == 0 else ""
        rows.append({"id": f"{tag}-{i}", "category": t,
                     "prompt": f"Question {i} in {tag} about {t}: my {t} has trouble since "
                               f"{rng.randint(1, 28)} May.{extra}",
                     "response": f"For {t} case {i} ({tag}) restart the router, wait {rng.randint(5, 90)} seconds "
                                 f"and check light {rng.randint(1, 4)}."})
    return rows


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    return path


NEEDS_VECTORS = {"import_embed", "embed", "dedup_semantic", "generate_text"}
IMPORT_ROWS = 20_000  # rows of each import episode's file (--import-rows)


def setup(work: Path, seed: int, *, embed: bool = True) -> None:
    """The small catalog every episode works on (built in process; nothing here is killed).
    ``embed=False`` skips the embedder when no command of the soak needs vectors."""
    from catalog import Catalog

    demo = [json.loads(line) for line in (ROOT / "data" / "demo_pairs.jsonl").read_text().splitlines()]
    inputs = work / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    _write_jsonl(inputs / "seed.jsonl", demo[:60])
    _write_jsonl(inputs / "dup.jsonl", demo)
    _write_jsonl(inputs / "contam.jsonl", demo[100:160])
    _write_jsonl(inputs / "eval.jsonl", [{"id": f"e{i}", "text": r["response"]} for i, r in enumerate(demo[100:110])])
    with Catalog.open(work / "cat", create=True, encrypt=bool(os.environ.get("SYNTHCAT_KEY"))) as cat:
        cat.import_file(inputs / "seed.jsonl", "seed", id_field="id", embed=embed)
        cat.import_file(inputs / "dup.jsonl", "dup", id_field="id", embed=embed)
        cat.import_file(inputs / "contam.jsonl", "contam", id_field="id", embed=False)
        cat.import_file(ROOT / "data" / "demo_customers.csv", "customers")


def _latest_live_run(cat_dir: Path) -> int | None:
    from catalog import Catalog

    with Catalog.open(cat_dir, read_only=True) as cat:
        row = cat.con.execute("SELECT max(run_id) FROM dedup_runs WHERE undone_at IS NULL AND removed > 0").fetchone()
    return row[0]


def make_episode(command: str, number: int, work: Path, rng: random.Random) -> Episode:
    """The command line of one episode, preparing what it needs (in process, not killed)."""
    from catalog import Catalog

    cat_dir, inputs = work / "cat", work / "inputs"
    if command == "import":
        n = IMPORT_ROWS
        path = _write_jsonl(inputs / f"imp-{number}.jsonl", _pairs(n, f"imp{number}", rng))
        return Episode(command, ["import", str(path), "--dataset", f"imp-{number}", "--id-field", "id",
                                 "--no-embed"], target=f"imp-{number}", expect_rows=n)
    if command == "import_embed":
        n = 60
        path = _write_jsonl(inputs / f"impe-{number}.jsonl", _pairs(n, f"impe{number}", rng))
        return Episode(command, ["import", str(path), "--dataset", f"impe-{number}", "--id-field", "id"],
                       target=f"impe-{number}", expect_rows=n)
    if command == "import_table":
        n = IMPORT_ROWS
        path = inputs / f"tab-{number}.csv"
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("id,region,age,score,note\n")
            for i in range(n):
                fh.write(f"{i},r{rng.randint(1, 9)},{rng.randint(18, 90)},{rng.random():.4f},note {number}-{i}\n")
        return Episode(command, ["import", str(path), "--dataset", f"tab-{number}"], target=f"tab-{number}",
                       expect_rows=n)
    if command == "embed":
        n = 60
        with Catalog.open(cat_dir) as cat:
            cat.import_file(_write_jsonl(inputs / f"emb-{number}.jsonl", _pairs(n, f"emb{number}", rng)),
                            f"emb-{number}", id_field="id", embed=False, pii="off")
        return Episode(command, ["embed", f"emb-{number}"])
    if command == "dedup":
        return Episode(command, ["dedup", "dup", "--no-semantic"])
    if command == "dedup_semantic":
        return Episode(command, ["dedup", "dup", "--on", "text"])
    if command == "dedup_into":
        return Episode(command, ["dedup", "dup", "--no-semantic", "--into", f"into-{number}"], target=f"into-{number}")
    if command == "undo":
        run = _latest_live_run(cat_dir)
        if run is None:  # nothing to undo: make a run first (in process, not killed)
            with Catalog.open(cat_dir) as cat:
                cat.dedup("dup", semantic=False)
            run = _latest_live_run(cat_dir)
        return Episode(command, ["dedup-runs", "undo", str(run)], run_id=run)
    if command == "decontaminate":
        mode = rng.choice(["drop", "cut", "flag"])
        return Episode(command, ["decontaminate", "contam", "--against", str(inputs / "eval.jsonl"), "--mode", mode])
    if command == "generate_table":
        n = 2000
        return Episode(command, ["generate", "table", "--from", "customers", "--method", "copula", "--n", str(n),
                                 "--dataset", f"syn-{number}", "--seed", str(number)],
                       target=f"syn-{number}", expect_rows=n)
    if command == "generate_text":
        return Episode(command, ["generate", "text", "--dataset", f"gen-{number}", "--n", "1", "--ground-on", "seed",
                                 "--k", "2", "--seed", str(number), "--max-tokens", "160",
                                 "--task", "customer support for a home-internet provider"], target=f"gen-{number}")
    raise ValueError(command)


# ----------------------------------------------------------------------- running
def synthcat_argv(work: Path, args: list[str]) -> list[str]:
    return [sys.executable, "-c", "from cli import app; app(prog_name='synthcat')", "--catalog", str(work / "cat"),
            *args]


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["HF_HUB_OFFLINE"] = "1"
    return env


def start(work: Path, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(synthcat_argv(work, args), cwd=work, env=child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def run_to_end(work: Path, args: list[str], timeout: float) -> tuple[int, str, str, float]:
    began = time.perf_counter()
    proc = start(work, args)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return -999, out, err + "\n(timed out)", time.perf_counter() - began
    return proc.returncode, out, err, time.perf_counter() - began


def kill_at(work: Path, args: list[str], after: float) -> tuple[bool, int, str]:
    """Start ``args``, SIGKILL its process group ``after`` seconds in; (killed?, exit code, stderr)."""
    proc = start(work, args)
    try:
        proc.wait(timeout=after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        return True, proc.returncode, err
    _, err = proc.communicate()
    return False, proc.returncode, err


def committed(cat, episode: Episode) -> bool:
    """Whether the episode's command already made its effect (so a re-run should refuse cleanly)."""
    if episode.target is not None:
        return cat.has_dataset(episode.target)
    if episode.run_id is not None:
        return cat.scalar("SELECT undone_at IS NOT NULL FROM dedup_runs WHERE run_id = ?", [episode.run_id])
    return False


def check_target(cat, episode: Episode) -> list[str]:
    """All or nothing for the episode's own output."""
    if episode.target is None or not cat.has_dataset(episode.target):
        return []
    ds = cat.dataset(episode.target)
    out = []
    if episode.expect_rows is not None and ds.row_count != episode.expect_rows:
        out.append(f"{episode.command}: dataset {ds.name!r} is visible with {ds.row_count} of "
                   f"{episode.expect_rows} rows")
    if episode.command == "dedup_into":
        missing = cat.scalar("SELECT count(*) FROM records r WHERE r.dataset_id = ? AND NOT EXISTS "
                             "(SELECT 1 FROM lineage l WHERE l.record_id = r.record_id AND "
                             "l.relation = 'deduplicated_from')", [ds.dataset_id])
        if missing or ds.row_count == 0:
            out.append(f"dedup --into: {ds.name!r} has {ds.row_count} rows, {missing} without lineage")
    return out


def check(work: Path, episode: Episode | None, tally: Tally, rng: np.random.Generator, where: str) -> bool:
    """Run the invariants; record violations. Returns whether the episode's command had committed."""
    from catalog import Catalog
    from catalog.errors import CatalogInUse, SynthcatError

    tally.checks += 1
    load = bool(rng.random() < 0.5)  # half the time leave a stale index for the next command to meet
    done = False
    try:
        with Catalog.open(work / "cat", read_only=True) as cat:
            result = check_all(cat, load_indexes=load, rng=rng)
            bad = result.violations + (check_target(cat, episode) if episode else [])
            tally.stale_indexes_seen += result.stale_indexes
            done = committed(cat, episode) if episode else False
        if rng.random() < 0.3:  # keyword search needs a writable catalog when its index is stale
            try:
                with Catalog.open(work / "cat") as cat:
                    found, stale = check_keyword(cat)
                    bad += found
                    tally.stale_keyword_seen += stale
            except CatalogInUse:  # a reader beside holds it: the designed answer, checked next time
                pass
    except SynthcatError as exc:
        bad = [f"catalog does not open cleanly: {exc}"]
    except Exception:
        bad = [f"checker crashed: {traceback.format_exc(limit=4)}"]
    for v in bad:
        tally.violations.append({"where": where, "command": episode.command if episode else None, "violation": v})
        print(f"VIOLATION {where}: {v}", file=sys.stderr, flush=True)
    return done


def has_traceback(err: str) -> bool:
    return "Traceback (most recent call last)" in err


# ------------------------------------------------------------------------ reader
READER = r"""
import json, os, subprocess, sys, time, traceback
sys.path[:0] = [{root!r}, {bench!r}]
from catalog import Catalog
from catalog.errors import CatalogInUse, SynthcatError
from soak_invariants import check_counts, check_runs, check_references
stop, out = {stop!r}, {out!r}
counts = {{"opened": 0, "busy": 0, "clean_errors": 0, "searches": 0, "cli_runs": 0, "cli_busy": 0}}
violations = []
i = 0
while not os.path.exists(stop):
    i += 1
    try:
        with Catalog.open({cat!r}, read_only=True) as cat:
            counts["opened"] += 1
            bad = check_counts(cat) + check_runs(cat) + check_references(cat)
            violations += ["partial state seen by a reader: " + b for b in bad]
            try:
                cat.search("router restart", mode="keyword", k=5)
                counts["searches"] += 1
            except SynthcatError:
                counts["clean_errors"] += 1
            cat.show("dup")
    except CatalogInUse:
        counts["busy"] += 1
    except SynthcatError as exc:
        counts["clean_errors"] += 1
    except Exception:
        violations.append("reader crashed: " + traceback.format_exc(limit=3))
    if i % 8 == 0:
        p = subprocess.run([sys.executable, "-c", "from cli import app; app(prog_name='synthcat')", "--catalog",
                            {cat!r}, "show", "dup"], capture_output=True, text=True, cwd={root!r})
        counts["cli_runs"] += 1
        if "Traceback" in p.stderr or p.returncode not in (0, 1):
            violations.append("reader CLI crashed: " + p.stderr[-800:])
        elif p.returncode == 1:
            counts["cli_busy"] += 1
            if "catalog in use" not in p.stderr:
                violations.append("reader CLI failed: " + p.stderr.strip()[-300:])
    time.sleep(0.15)
json.dump({{"counts": counts, "violations": violations}}, open(out, "w"))
"""


def start_reader(work: Path, n: int) -> tuple[subprocess.Popen, Path, Path]:
    stop, out = work / f"reader-{n}.stop", work / f"reader-{n}.json"
    code = READER.format(root=str(ROOT), bench=str(Path(__file__).resolve().parent), stop=str(stop), out=str(out),
                         cat=str(work / "cat"))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    return proc, stop, out


def stop_reader(reader: tuple[subprocess.Popen, Path, Path], tally: Tally) -> None:
    proc, stop, out = reader
    stop.touch()
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    if not out.exists():
        tally.reader_violations.append(f"reader died: {err[-800:]}")
        return
    data = json.loads(out.read_text())
    tally.reader.update(data["counts"])
    tally.reader["runs"] += 1
    tally.reader_violations += data["violations"]


# -------------------------------------------------------------------------- soak
def soak(work: Path, kills: int, seed: int, max_kills_per_episode: int, reader_share: float,
         commands: list[str], timeout: float, max_seconds: float = 0) -> dict:
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    tally = Tally()
    started = time.perf_counter()
    setup(work, seed, embed=bool(NEEDS_VECTORS & set(commands)))
    setup_seconds = time.perf_counter() - started
    weights = [WEIGHTS[c] for c in commands]
    number = 0
    stop = {"why": None}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(why="SIGTERM"))  # finish the episode, then report
    while sum(tally.kills.values()) < kills and stop["why"] is None:
        if max_seconds and time.perf_counter() - started > max_seconds:
            stop["why"] = f"--max-seconds {max_seconds:g} reached"
            break
        number += 1
        command = rng.choices(commands, weights)[0]
        episode = make_episode(command, number, work, rng)
        tally.episodes[command] += 1
        print(f"episode {number} {command}: {sum(tally.kills.values())} kills so far, "
              f"{len(tally.violations) + len(tally.reader_violations)} violations, "
              f"{time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
        wants_reader = rng.random() < reader_share and command in tally.durations
        reader = start_reader(work, number) if wants_reader else None
        try:
            if command not in tally.durations:  # measure the command's duration on a run to the end
                rc, _, err, seconds = run_to_end(work, episode.argv, timeout)
                tally.durations[command] = round(seconds, 2)
                _record_rerun(tally, episode, rc, err, was_committed=False, where=f"calibration {number}")
                check(work, episode, tally, nrng, f"after calibration {number}")
                continue
            was_committed = False
            for k in range(rng.randint(1, max_kills_per_episode)):
                after = rng.uniform(0.0, tally.durations[command])
                killed, rc, err = kill_at(work, episode.argv, after)
                if killed:
                    tally.kills[command] += 1
                elif rc == 1 and "catalog in use" in err:
                    tally.busy_refusals[command] += 1
                else:
                    tally.finished_before_kill[command] += 1
                    if has_traceback(err) or rc not in (0, 1):
                        tally.rerun_failures.append({"episode": number, "command": command, "rc": rc,
                                                     "stderr": err[-1500:]})
                was_committed = check(work, episode, tally, nrng, f"episode {number} after attempt {k + 1} "
                                      f"({'killed' if killed else 'exited'} at {after:.2f}s)")
                if was_committed:
                    tally.committed_before_kill[command] += killed
                    break
                if sum(tally.kills.values()) >= kills:
                    break
            for _ in range(20):  # the re-run; a reader may hold the catalog for a moment
                rc, _, err, _ = run_to_end(work, episode.argv, timeout)
                if not (rc == 1 and "catalog in use" in err):
                    break
                tally.busy_refusals[command] += 1
                time.sleep(0.3)
            _record_rerun(tally, episode, rc, err, was_committed, where=f"episode {number} re-run")
            check(work, episode, tally, nrng, f"episode {number} after re-run")
        finally:
            if reader is not None:
                stop_reader(reader, tally)
    total_violations = len(tally.violations) + len(tally.reader_violations)
    return {
        "benchmark": "fault soak: SIGKILL during synthcat writers, invariants after each kill",
        "seed": seed, "encrypted_catalog": bool(os.environ.get("SYNTHCAT_KEY")),
        "kills_total": sum(tally.kills.values()), "kills_asked": kills, "stopped_early": stop["why"],
        "kills_per_command": dict(tally.kills),
        "episodes_per_command": dict(tally.episodes),
        "kills_after_commit": dict(tally.committed_before_kill),
        "finished_before_kill": dict(tally.finished_before_kill),
        "writer_refused_busy": dict(tally.busy_refusals),
        "reruns_ok": dict(tally.rerun_ok), "reruns_clean_refusal_after_commit": dict(tally.rerun_clean_refusal),
        "rerun_failures": len(tally.rerun_failures), "rerun_failure_details": tally.rerun_failures[:20],
        "invariant_checks": tally.checks, "invariant_violations": total_violations,
        "violation_details": (tally.violations + [{"reader": v} for v in tally.reader_violations])[:30],
        "stale_faiss_indexes_seen": tally.stale_indexes_seen, "stale_keyword_index_seen": tally.stale_keyword_seen,
        "stray_tmp_files": sorted(p.name for p in (work / "cat").rglob("*.tmp")),
        "reader": dict(tally.reader), "command_seconds_measured": tally.durations,
        "setup_seconds": round(setup_seconds, 1), "wall_seconds": round(time.perf_counter() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


def _record_rerun(tally: Tally, episode: Episode, rc: int, err: str, was_committed: bool, where: str) -> None:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if rc == 0 and not has_traceback(err):
        tally.rerun_ok[episode.command] += 1
    elif rc == 1 and was_committed and not has_traceback(err) and len(lines) == 1 \
            and any(s in lines[0] for s in CLEAN_REFUSALS):
        tally.rerun_clean_refusal[episode.command] += 1
    else:
        tally.rerun_failures.append({"where": where, "command": episode.command, "argv": episode.argv, "rc": rc,
                                     "stderr": err[-1500:]})


def main() -> None:
    global IMPORT_ROWS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path, help="an empty (or missing) directory for the catalog and inputs")
    parser.add_argument("--kills", type=int, default=300, help="SIGKILLs in total (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-kills-per-episode", type=int, default=3)
    parser.add_argument("--reader-share", type=float, default=0.25, help="share of episodes with a reader beside")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated subset of: "
                        + ", ".join(COMMANDS))
    parser.add_argument("--timeout", type=float, default=600, help="seconds a run to the end may take")
    parser.add_argument("--import-rows", type=int, default=IMPORT_ROWS, help="rows of each import's file")
    parser.add_argument("--max-seconds", type=float, default=0,
                        help="stop after the episode running at this wall time (0: only at --kills)")
    parser.add_argument("--encrypt", action="store_true",
                        help="soak an encrypted catalog (a throwaway key in SYNTHCAT_KEY, passed to every process)")
    args = parser.parse_args()
    IMPORT_ROWS = args.import_rows
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    unknown = set(commands) - set(COMMANDS)
    if unknown:
        parser.error(f"unknown command(s): {', '.join(sorted(unknown))}")
    if args.workdir.exists() and any(args.workdir.iterdir()):
        parser.error(f"{args.workdir} is not empty")
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.pop("SYNTHCAT_KEY_FILE", None)
    if args.encrypt:
        os.environ["SYNTHCAT_KEY"] = f"soak throwaway key {random.Random(args.seed).getrandbits(64):016x}"
    else:
        os.environ.pop("SYNTHCAT_KEY", None)
    result = soak(args.workdir.resolve(), args.kills, args.seed, args.max_kills_per_episode, args.reader_share,
                  commands, args.timeout, args.max_seconds)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
