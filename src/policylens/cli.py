"""The ``policylens`` command line: one typer app, one module per stage's commands.

Each command module under ``policylens.commands`` has a ``register(app)``
function; this file only assembles them, so ``policylens --help`` stays fast.
"""

from __future__ import annotations

from typing import NoReturn

import typer

from policylens import __version__
from policylens.commands import corpus, extract, rank, tag

app = typer.Typer(
    name="policylens",
    help=(
        "Read AI-governance policy documents and measure how they propose to govern: "
        "one central, horizontal rulebook (centralized) or sector regulators and "
        "use-case rules (sector-specific).\n\n"
        "Exit codes: 0 all ok, 1 some inputs failed or an output could not be written, 2 usage error, "
        "3 another refresh holds the store's lock."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"policylens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True,
                                help="Log more on stderr: -v what the run does, -vv debugging detail."),
    quiet: int = typer.Option(0, "--quiet", "-q", count=True,
                              help="Log less: -q errors only (and no progress bars), -qq nothing."),
) -> None:
    """policylens: governance-design analysis of policy documents."""
    from policylens.logs import configure

    configure(verbose=verbose, quiet=quiet)


for module in (extract, tag, rank, corpus):
    module.register(app)


def main() -> None:
    """Console-script entry point: runs the app, then ends the process without tearing it down.

    A run that tagged anything holds the loaded pipeline (hundreds of thousands of objects);
    freeing them one by one at interpreter shutdown took about 0.3 s of CPU after the output
    was written, serial time every ``rank`` paid after its last document. Once the command
    has returned, the exit handlers run and the standard streams are flushed, then the
    process exits at once (``os._exit``) with the command's exit code. With another
    non-daemon thread still running, the normal shutdown (which waits for it) is kept.
    """
    try:
        app()
    except SystemExit as exc:
        code = exc.code
    else:  # pragma: no cover - typer's standalone mode always raises SystemExit
        code = 0
    _exit(code)


def _exit(code: object) -> NoReturn:
    """Exit with ``code`` as ``SystemExit`` would, skipping the interpreter's teardown when safe."""
    import atexit
    import os
    import sys
    import threading

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"): the message on stderr, exit code 1
        print(code, file=sys.stderr)
        status = 1
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others:
        raise SystemExit(status)
    atexit._run_exitfuncs()  # logging's flush, multiprocessing's clean-up: what shutdown would run
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be written
            if stream is sys.stdout and status == 0:
                status = 1
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
