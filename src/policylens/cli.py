"""The ``policylens`` command line: one typer app, one module per stage's commands.

Each command module under ``policylens.commands`` has a ``register(app)``
function; this file only assembles them, so ``policylens --help`` stays fast.
"""

from __future__ import annotations

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
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
