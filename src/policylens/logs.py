"""Logging for the command line: one rich handler on stderr, its level set by ``-v`` / ``-q``.

Library modules log diagnostics to ``logging.getLogger(__name__)`` (all under the
``policylens`` logger) and never configure logging: a program that imports
policylens keeps its own setup. Only the CLI calls ``configure``, when a command
runs (never at import). Results go to stdout and summaries to stderr as before;
logging carries what explains a run: warnings about input, what the engine did.

    >>> import logging
    >>> level_for(verbose=0, quiet=0) == logging.WARNING
    True
    >>> level_for(verbose=2, quiet=0) == logging.DEBUG, level_for(verbose=0, quiet=1) == logging.ERROR
    (True, True)
"""

from __future__ import annotations

import logging

LOGGER = "policylens"
_MARK = "_policylens_cli"  # set on the handler configure installs, so it replaces only its own


def level_for(*, verbose: int, quiet: int) -> int:
    """WARNING by default; each ``-v`` one step more (INFO, DEBUG), each ``-q`` one less (ERROR, CRITICAL)."""
    return min(logging.CRITICAL, max(logging.DEBUG, logging.WARNING + 10 * (quiet - verbose)))


def configure(*, verbose: int = 0, quiet: int = 0) -> int:
    """Send ``policylens`` log records at the chosen level to stderr through rich; return the level."""
    from rich.console import Console
    from rich.logging import RichHandler

    level = level_for(verbose=verbose, quiet=quiet)
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if getattr(h, _MARK, False)]:
        logger.removeHandler(handler)
    # the console looks sys.stderr up when it writes, so redirected stderr (tests, pipes) is honoured
    handler = RichHandler(console=Console(stderr=True, highlight=False, soft_wrap=True), show_time=False,
                          show_path=level <= logging.DEBUG, markup=False, rich_tracebacks=False,
                          keywords=[])
    setattr(handler, _MARK, True)
    logger.addHandler(handler)
    logger.setLevel(level)
    return level


def is_quiet() -> bool:
    """Did the command line ask for quiet (``-q``)? Progress bars then stay off too."""
    logger = logging.getLogger(LOGGER)
    return any(getattr(h, _MARK, False) for h in logger.handlers) and logger.level > logging.WARNING
