"""Run the benchmarks of this project side by side with APScheduler 4.0.0a6 and 3.11.3.

    uv run python bench/run.py                    # everything, 3 repeats (~17 min)
    uv run python bench/run.py --smoke            # tiny sizes, 1 repeat (CI)
    uv run python bench/run.py --only burst --repeats 5

Each scenario runs for the three implementations in turn (ours, v4, v3, ours, v4, v3...),
each run in a fresh interpreter: ours in this project's environment, the upstream
releases in environments created under ``bench/.envs/`` on first use. The report (medians,
ratios, targets) goes to stdout and to ``bench/results/latest.md`` (``smoke.md`` in smoke
mode, ``partial.md`` when ``--only`` or ``--impls`` narrow the run), the raw records next
to it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchlib import cases as cases_module
from benchlib import envs, machine, report, runner

RESULTS_DIR = envs.BENCH_DIR / "results"
PG_DSN = os.environ.get("APSCHEDULER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repeat (for CI)")
    parser.add_argument("--repeats", type=int, help="runs per implementation (default 3)")
    parser.add_argument(
        "--only",
        action="append",
        help="run only scenarios whose key starts with this (or with this tag: throughput, "
        "burst, scale, cron, cluster); may be repeated",
    )
    parser.add_argument(
        "--impls",
        default=",".join(cases_module.IMPLS),
        help="comma-separated implementations to run (default: ours,v4,v3)",
    )
    parser.add_argument("--output", type=Path, help="markdown report path")
    parser.add_argument("--envs-dir", type=Path, default=envs.DEFAULT_ENVS_DIR)
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.smoke else 3
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.impls = [impl.strip() for impl in args.impls.split(",") if impl.strip()]
    unknown = set(args.impls) - set(cases_module.IMPLS)
    if unknown:
        parser.error(f"unknown implementations: {', '.join(sorted(unknown))}")
    if args.output is None:
        partial = bool(args.only) or set(args.impls) != set(cases_module.IMPLS)
        name = "smoke.md" if args.smoke else "partial.md" if partial else "latest.md"
        args.output = RESULTS_DIR / name
    return args


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, cwd=envs.BENCH_DIR, timeout=10
    ).stdout.strip()


def code_version() -> str:
    """The commit the project's code is at, and whether the checkout has local changes."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (git not available)"
    if not commit:
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def interpreters(impls: list[str], envs_dir: Path) -> tuple[dict[str, Path | str], dict[str, str]]:
    """The interpreter of each implementation, and the reason for those unavailable."""
    pythons: dict[str, Path | str] = {}
    unavailable: dict[str, str] = {}
    specs = envs.specs()
    for impl in impls:
        if impl == "ours":
            pythons[impl] = sys.executable
            continue
        log(f"Preparing the {specs[impl].label} environment...")
        try:
            pythons[impl] = envs.ensure(specs[impl], envs_dir)
        except RuntimeError as exc:
            log(f"  unavailable: {exc}")
            unavailable[impl] = f"environment could not be created: {exc}"
    return pythons, unavailable


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(timezone.utc)
    code = code_version()  # before the run: the checkout may change while it runs
    clock = time.perf_counter()
    selected = cases_module.select(args.only)
    pythons, unavailable = interpreters(args.impls, args.envs_dir)

    records: dict[tuple[str, str], list[dict]] = {}
    for case in selected:
        repeats = case.repeats or args.repeats
        impls = [impl for impl in case.impls if impl in args.impls]
        for impl in impls:
            records[(case.key, impl)] = []
            if impl in unavailable:
                records[(case.key, impl)].append(
                    runner.failure(impl, "unavailable", unavailable[impl])
                )
        for repeat in range(repeats):
            for impl in impls:
                if impl in unavailable:
                    continue
                log(
                    f"[{time.perf_counter() - clock:6.0f} s] {case.key} {impl} "
                    f"(run {repeat + 1}/{repeats})"
                )
                record = runner.run_scenario(
                    pythons[impl], case.script, impl, case.args(args.smoke), case.timeout
                )
                if record.get("status") != "ok":
                    log(f"  {record.get('status')}: {record.get('note')}")
                records[(case.key, impl)].append(record)

    results = {key: report.aggregate(runs) for key, runs in records.items()}
    libraries = {impl: envs.library_versions(python) for impl, python in pythons.items()}
    given = argv if argv is not None else sys.argv[1:]
    command = "uv run python bench/run.py " + shlex.join(given)
    text = report.document(
        selected,
        results,
        machine={"Code": code, **machine.describe(PG_DSN)},
        libraries=libraries,
        command=command.strip(),
        repeats="1 run" if args.repeats == 1 else f"{args.repeats} runs",
        started=started.strftime("%Y-%m-%d %H:%M"),
        duration_s=time.perf_counter() - clock,
        smoke=args.smoke,
    )
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    raw = {f"{case} {impl}": runs for (case, impl), runs in records.items()}
    args.output.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str))
    log(f"Report written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
