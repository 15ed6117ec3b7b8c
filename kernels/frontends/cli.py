"""``python -m kernels``: machine information and benchmarks from the command line."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

from ..core import api, machine
from ..core.runtime import prepare


def _parse_param(text: str) -> tuple[str, int | str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param takes NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    try:
        return name.strip(), int(value)
    except ValueError:
        return name.strip(), value.strip()


def _parse_ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one worker count")
    return values


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m kernels``."""
    parser = argparse.ArgumentParser(
        prog="python -m kernels",
        description="Problems x backends of the parallel Python book: info and benchmarks.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="cores, CPU, libraries, MPI, C compiler with OpenMP, GPU")
    bench = sub.add_parser("bench", help="time backends on a problem and print a table")
    bench.add_argument("problem", nargs="?", help=f"one of: {', '.join(api.problems())}")
    bench.add_argument(
        "--all", action="store_true",
        help="every problem with every available backend (default --size default); saves "
             "bench-<problem>.png (and .json) in --out",
    )  # fmt: skip
    bench.add_argument("--out", type=Path, default=Path("."), help="folder for --all's files")
    bench.add_argument("--backends", help="comma-separated (default: all available)")
    bench.add_argument("--workers", type=_parse_ints, help="comma-separated, default 1..cores")
    bench.add_argument("--repeat", type=int, default=3, help="timed runs per point (default 3)")
    bench.add_argument(
        "--budget", type=float, metavar="SECONDS",
        help="after --repeat rounds, more until the runs have taken this long (fast points)",
    )  # fmt: skip
    bench.add_argument(
        "--number", type=int, default=1, metavar="N",
        help="calls per timed run, back to back, timed as their mean (timeit's number)",
    )  # fmt: skip
    bench.add_argument("--scaling", choices=["strong", "weak"], default="strong")
    bench.add_argument(
        "--size", choices=["default", "quick", "test", "live", "race", "bench"],
        help="size preset the --param values start from (default: bench; default with --all)",
    )  # fmt: skip
    bench.add_argument(
        "--param", action="append", type=_parse_param, default=[], metavar="NAME=VALUE",
        help="problem parameter or backend option; repeat for several",
    )  # fmt: skip
    bench.add_argument("--json", type=Path, help="write the records to this JSON file")
    bench.add_argument("--ceiling", action="store_true",
                       help="mandelbrot: add the C program at the same thread counts")  # fmt: skip
    bench.add_argument(
        "--cold", action="store_true",
        help="start each call's workers (pools, clusters, MPI ranks) inside the call, as a "
             "one-off call pays; by default they start once, first, and their start-up is "
             "the startup_s column",
    )  # fmt: skip
    bench.add_argument(
        "--processes", type=int, default=1, metavar="N",
        help="repeat the measurement in N fresh processes; report the median and range",
    )  # fmt: skip
    student = sub.add_parser("student", help="copy the notebooks without their solutions")
    student.add_argument("--source", type=Path, default=Path("notebooks"))
    student.add_argument("--out", type=Path, default=Path("student"))
    bench.add_argument("--plot", type=Path, help="save the speedup plot to this image file")
    chapters = sub.add_parser("chapters", help="time every chapter, run top to bottom")
    chapters.add_argument("--source", type=Path, default=Path("notebooks"))
    chapters.add_argument("--only", help="comma-separated chapter numbers, e.g. 02,04")
    chapters.add_argument("--json", type=Path, help="write the seconds to this JSON file")
    hosts = sub.add_parser("hosts", help="simulated hosts (network namespaces) until Ctrl-C")
    hosts.add_argument("action", choices=["up"], help="make the hosts and keep them up")
    hosts.add_argument("count", type=int, help="how many hosts, 1 to 20")
    hosts.add_argument("--rate", help="bandwidth of each host's link, e.g. 1gbit")
    hosts.add_argument("--delay", help="one-way delay on what each host sends, e.g. 1ms")
    slurm = sub.add_parser("slurm", help="a single-node SLURM: keep it up, or run the book's jobs")
    slurm.add_argument("action", choices=["up", "jobs"],
                       help="up: until Ctrl-C; jobs: run and check book/slurm's jobs")  # fmt: skip
    slurm.add_argument("--record", type=Path, help="jobs: write the transcripts to this folder")
    return parser


def _stop_on_sigterm() -> None:
    """Make ``kill`` (SIGTERM) end what holds as Ctrl-C does, through its clean-up."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _hold(wait=None) -> None:
    """Wait until Ctrl-C or SIGTERM (or until ``wait`` returns or raises KeyboardInterrupt)."""
    import signal

    try:
        (wait or signal.pause)()
    except KeyboardInterrupt:
        pass


def _hosts(args: argparse.Namespace, wait=None) -> int:
    """Make the hosts, print how to use them, hold them until interrupted, remove them."""
    from ..core.hosts import HostsUnavailable, SimulatedHosts

    _stop_on_sigterm()
    try:
        with SimulatedHosts(args.count, rate=args.rate, delay=args.delay) as hosts:
            print(f"{len(hosts)} simulated hosts on bridge {hosts.bridge}; this machine is "
                  f"{hosts.gateway} on it")  # fmt: skip
            for host in hosts:
                print(f"  {host.name:<7} {host.address:<15} run on it: ip netns exec "
                      f"{host.namespace} <command>")  # fmt: skip
            print("Ctrl-C removes them (processes, namespaces, links).", flush=True)
            _hold(wait)
    except HostsUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("removed")
    return 0


def _slurm(args: argparse.Namespace, wait=None) -> int:
    """Keep a single-node SLURM up until interrupted, or run the book's jobs on one."""
    import tempfile

    from ..core.slurm import SingleNodeSlurm, SlurmUnavailable

    _stop_on_sigterm()
    try:
        if args.action == "jobs":
            from .slurm_jobs import run_book_jobs

            with tempfile.TemporaryDirectory(prefix="kernels-jobs-") as work:
                for name, text in run_book_jobs(Path(work), args.record).items():
                    print(f"# {name}\n{text}")
            return 0
        with SingleNodeSlurm() as slurm:
            print(f"SLURM is up: partition book, {slurm.cpus} CPUs. In another shell:\n"
                  f"  export SLURM_CONF={slurm.conf}\n  sinfo; sbatch job.sbatch; squeue\n"
                  "Ctrl-C cancels the jobs and stops it.", flush=True)  # fmt: skip
            _hold(wait)
    except (SlurmUnavailable, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("stopped")
    return 0


def _chapters(args: argparse.Namespace) -> int:
    from ..core import sizes
    from .chapters import ChapterFailedError, chapter_paths, time_chapters

    def show(name: str, seconds: float) -> None:
        print(f"  {name:<22} {seconds:6.1f} s", flush=True)

    only = [c.strip() for c in args.only.split(",")] if args.only else None
    paths = chapter_paths(args.source, only)  # none there: an error before any output
    print(f"{machine.machine_summary()}, {sizes.size_name()} sizes", flush=True)
    try:
        seconds = time_chapters(paths, done=show)
    except ChapterFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"  {'all':<22} {sum(seconds.values()):6.1f} s")
    if args.json:
        args.json.write_text(json.dumps(seconds, indent=2) + "\n")
    return 0


def _print_info() -> None:
    from .info import info

    prepare()  # before JAX starts: it reports the devices the chapters get

    data = info()
    cores = data.pop("cores")
    libraries = data.pop("libraries")
    backends = data.pop("backends")
    missing = data.pop("missing")
    print(f"{'cpu':<10} {data.pop('cpu')}")
    print(f"{'cores':<10} {cores['usable']} usable, {cores['logical']} logical, "
          f"{cores['physical']} physical")  # fmt: skip
    for key, value in data.items():
        print(f"{key:<10} {value}")
    print("libraries")
    for name, version in libraries.items():
        print(f"  {name:<14} {version or 'not installed'}")
    print("backends")
    for problem, names in backends.items():
        print(f"  {problem:<14} {', '.join(names)}")
    if missing:
        print("not available here")
        for name, why in missing.items():
            print(f"  {name:<16} {why}")


def _bench_one(problem: str, args: argparse.Namespace, backends, workers, size: str,
               json_path: Path | None, plot_path: Path | None) -> None:  # fmt: skip
    from ..core import bench, sizes

    params = sizes.params(problem, size)
    params.update(dict(args.param))
    measure = functools.partial(
        bench.measure, problem, workers=workers, repeat=args.repeat, scaling=args.scaling,
        progress=True, budget=args.budget, number=args.number, **params,
    )  # fmt: skip
    if args.cold:
        df = measure(backends)
    else:
        from ..core.warm import measured_tool_by_tool

        df = measured_tool_by_tool(backends or api.backends(problem), workers, measure)
    if args.ceiling:
        from . import bench_runs

        df = bench_runs.with_ceiling(df, params, workers, args.repeat)
    shown = df.drop(columns=["problem", "params", "seconds", "scaling"])
    runs = f"{args.repeat}" if args.budget is None else f"{args.repeat}+ ({args.budget:g} s)"
    runs += " alternating runs"
    if args.number > 1:
        runs += f", each the mean of {args.number} calls back to back"
    started = "started in every call" if args.cold else "started first (startup_s)"
    print(f"{problem} {params} ({args.scaling} scaling, median of {runs}; "
          f"workers {started})")  # fmt: skip
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.ceiling:
        print("against the C program (1 = as fast as C):")
        print(bench_runs.of_ceiling(df).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if json_path:
        json_path.write_text(json.dumps(bench.to_records(df), indent=2) + "\n")
        print(f"wrote {json_path}")
    if plot_path:
        import matplotlib.pyplot as plt

        from .plot import speedup

        figure = speedup(df)
        figure.savefig(plot_path, dpi=120, bbox_inches="tight")
        plt.close(figure)
        print(f"wrote {plot_path}")


def _without_processes(argv: list[str]) -> list[str]:
    """``argv`` without its ``--processes N`` (the command each fresh process runs)."""
    kept, skip = [], False
    for arg in argv:
        if not skip and arg != "--processes" and not arg.startswith("--processes="):
            kept.append(arg)
        skip = arg == "--processes"
    return kept


def _bench(args: argparse.Namespace, argv: list[str]) -> int:
    if args.all == (args.problem is not None):
        raise ValueError("give one problem, or --all for every problem (not both)")
    if args.processes != 1:
        if args.all or args.json or args.plot:
            raise ValueError("--processes reports one table: not with --all, --json or --plot")
        from . import bench_runs

        table = bench_runs.in_fresh_processes(_without_processes(argv[1:]), args.processes)
        print(f"{args.problem}: medians of {args.processes} fresh processes, and their range")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        return 0
    backends = args.backends.split(",") if args.backends else None
    workers = args.workers or list(range(1, machine.usable_cores() + 1))
    # Before numba or JAX starts: threads and CPU devices for every worker count.
    prepare(max(workers))
    if not args.all:
        _bench_one(args.problem, args, backends, workers, args.size or "bench",
                   args.json, args.plot)  # fmt: skip
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for problem in api.problems():
        available = api.backends(problem)
        chosen = [b for b in backends if b in available] if backends else available
        files = args.out / f"bench-{problem}"
        _bench_one(problem, args, chosen, workers, args.size or "default",
                   files.with_suffix(".json"), files.with_suffix(".png"))  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        if args.command == "info":
            _print_info()
            return 0
        if args.command == "student":
            from .student import write_student_copies

            written = write_student_copies(args.source, args.out)
            print(f"wrote {len(written)} notebooks without solutions to {args.out}/")
            return 0
        if args.command == "chapters":
            return _chapters(args)
        if args.command == "hosts":
            return _hosts(args)
        if args.command == "slurm":
            return _slurm(args)
        return _bench(args, argv)
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
