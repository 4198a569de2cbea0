"""The `kuramoto-jax` command (also `python -m kuramoto_jax`).

    kuramoto-jax run CONFIG [--set key.path=value ...] [--out DIR] [--resume | --overwrite] [--quiet]
    kuramoto-jax show CONFIG [--set ...] [--fields]
    kuramoto-jax list
    kuramoto-jax report [--check] [--root DIR]
    kuramoto-jax record RUN_DIR [--name NAME] [--note TEXT] [--root DIR] [--overwrite]
    kuramoto-jax --version

CONFIG is a shipped config's name (`quickstart`, `kuranet/global_case1`: its path under
the package's configs/ without `.yaml`) or a path to a YAML file anywhere.

Exit codes: 0 success; 2 bad config or arguments (one line naming the key, no
traceback); 1 failure during the run (with the message); 130 interrupted.
Multi-process runs: --coordinator HOST:PORT --num-processes N --process-id I (or the
environment variables KURAMOTO_JAX_COORDINATOR, KURAMOTO_JAX_NUM_PROCESSES,
KURAMOTO_JAX_PROCESS_ID) call jax.distributed.initialize before the study starts.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import traceback

PROG = "kuramoto-jax"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit code 2, like a bad config
        self.exit(2, f"{self.prog}: error: {message} (see {PROG} --help)\n")


def _parser() -> argparse.ArgumentParser:
    from kuramoto_jax import __version__

    p = _Parser(prog=PROG, description="Run kuramoto_jax studies from YAML configs.")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="{run,show,list,report,record}", parser_class=_Parser)
    sub.required = True

    def config_args(sp):
        sp.add_argument("config", help="a shipped config's name (e.g. quickstart, kuranet/global_case1; see "
                                       "`list`) or a YAML file whose `study:` names a registered study")
        sp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                        help="override a config value (repeatable); parsed with the field's type")

    r = sub.add_parser("run", help="run a study from a config")
    config_args(r)
    r.add_argument("--out", help="run folder (default runs/<study>/<UTC timestamp>)")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    g.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
    r.add_argument("--quiet", action="store_true", help="no terminal output (the run log is still written)")
    r.add_argument("--coordinator", default=os.environ.get("KURAMOTO_JAX_COORDINATOR"), metavar="HOST:PORT",
                   help="jax.distributed coordinator address (env KURAMOTO_JAX_COORDINATOR)")
    r.add_argument("--num-processes", default=os.environ.get("KURAMOTO_JAX_NUM_PROCESSES"), metavar="N",
                   help="number of processes (env KURAMOTO_JAX_NUM_PROCESSES)")
    r.add_argument("--process-id", default=os.environ.get("KURAMOTO_JAX_PROCESS_ID"), metavar="I",
                   help="index of this process (env KURAMOTO_JAX_PROCESS_ID)")

    s = sub.add_parser("show", help="print the resolved config (defaults filled in, --set applied)")
    config_args(s)
    s.add_argument("--fields", action="store_true", help="also list every field with its type, bounds and help")

    sub.add_parser("list", help="list the registered studies and the shipped configs")

    rp = sub.add_parser("report", help="write the results tables from the committed records (--check: compare only)")
    rp.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table or a record disagrees")
    rp.add_argument("--root", default=".", help="repository root (default: the current directory)")
    rc = sub.add_parser("record", help="make a committed record (experiments/<app>/records/<name>/) from a finished "
                                       "run of a shipped config as shipped")
    rc.add_argument("run_dir", metavar="RUN_DIR", help="the run folder (the --out of `kuramoto-jax run`)")
    rc.add_argument("--name", help="the record's name (default: the config's file stem)")
    rc.add_argument("--note", help="a few words on what the run is, for the summary's first line")
    rc.add_argument("--root", default=".", help="repository root (default: the current directory)")
    rc.add_argument("--overwrite", action="store_true", help="replace an existing record of that name")
    return p


def _int_arg(name: str, value) -> int | None:
    from kuramoto_jax.run import ConfigError

    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"--{name}: got {value!r}; expected an integer") from None


def _init_distributed(args) -> None:
    from kuramoto_jax.run import ConfigError

    nproc = _int_arg("num-processes", args.num_processes)
    pid = _int_arg("process-id", args.process_id)
    if args.coordinator is None:
        if nproc is not None or pid is not None:
            raise ConfigError("--num-processes/--process-id need --coordinator HOST:PORT (or KURAMOTO_JAX_COORDINATOR)")
        return
    host, _, port = str(args.coordinator).rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--coordinator: got {args.coordinator!r}; expected HOST:PORT")
    if nproc is not None and nproc < 1:
        raise ConfigError(f"--num-processes: got {nproc}; expected an integer >= 1")
    if pid is not None and nproc is not None and not 0 <= pid < nproc:
        raise ConfigError(f"--process-id: got {pid}; expected an integer in [0, {nproc - 1}]")
    from kuramoto_jax import parallel

    try:
        parallel.initialize(args.coordinator, nproc, pid)
    except ValueError as err:
        raise ConfigError(f"--coordinator/--num-processes/--process-id: {err}") from None


def _cmd_list() -> int:
    from kuramoto_jax.run import _registry

    studies, configs = _registry.studies(), _registry.configs()
    if not studies and not configs:
        print(f"{PROG}: no studies and no configs found: the package's kuramoto_jax.experiments and "
              "kuramoto_jax.configs are missing from this installation (reinstall kuramoto-jax)", file=sys.stderr)
        return 1
    print("studies:")
    for s in studies:
        where = "" if s.provider == "kuramoto_jax" else f"  [{s.provider}]"
        print(f"  {s.name:<32} {s.doc}{where}")
    print("configs (kuramoto-jax run NAME):")
    for c in configs:
        print(f"  {c.name:<40} study: {c.study}")
    return 0


def _cmd_show(args) -> int:
    from kuramoto_jax.run import resolve
    from kuramoto_jax.run._config import describe

    res = resolve(args.config, args.overrides)
    sys.stdout.write(res.to_yaml())
    if args.fields:
        print(f"# fields of {res.module.__name__}.Config:")
        for line in describe(res.module.Config):
            print(f"#   {line}")
    return 0


def _cmd_run(args, argv) -> int:
    from kuramoto_jax.run import execute, resolve
    from kuramoto_jax.run._study import default_out_dir

    # jax.distributed must start before anything touches a JAX backend (a study module may do so
    # at import); it only connects processes, the config is still validated before any computation.
    _init_distributed(args)
    res = resolve(args.config, args.overrides)
    if args.resume and not args.out:
        from kuramoto_jax.run import ConfigError

        raise ConfigError("--resume needs --out DIR (the run folder to continue)")
    out = pathlib.Path(args.out) if args.out else default_out_dir(res.study)
    _, ctx = execute(res, out, quiet=args.quiet, resume=args.resume, overwrite=args.overwrite,
                     argv=[PROG, *argv])
    if not args.quiet and ctx.is_main:
        if ctx.summary_text:
            print()
            print(ctx.summary_text)
        print(f"\nrun folder: {out}")
    return 0


def _cmd_record(args) -> int:
    from kuramoto_jax.run._record import make_record

    key, folder = make_record(args.run_dir, root=args.root, name=args.name, note=args.note, overwrite=args.overwrite)
    print(f"record {key}: {folder}")
    return 0


def main(argv=None) -> int:
    """Entry point; returns the exit code (0 ok, 1 run failure, 2 bad config/arguments)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = _parser().parse_args(argv)
    from kuramoto_jax.run import ConfigError, RunError
    from kuramoto_jax.run._study import AlreadyComplete

    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "show":
            return _cmd_show(args)
        if args.command == "report":
            from kuramoto_jax.run._report import main as report_main

            return report_main(args)
        if args.command == "record":
            return _cmd_record(args)
        return _cmd_run(args, argv)
    except ConfigError as err:
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except RunError as err:
        print(f"{PROG}: run failed: {err}", file=sys.stderr)
        return 1
    except AlreadyComplete as done:
        print(f"{PROG}: {done}")
        return 0
    except BrokenPipeError:
        # The reader went away (`kuramoto-jax list | head -1`): stop quietly. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug or a failure inside the study: keep the traceback for debugging
        traceback.print_exc()
        print(f"{PROG}: run failed: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
