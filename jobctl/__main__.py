"""The ``jobctl`` command (console script and ``python -m jobctl``).

- ``jobctl [flags]`` runs the Job controller against a cluster (see
  ``jobctl.app.controller_manager``); ``jobctl --help`` lists the flags.
- ``jobctl version`` prints the jobctl version and the Kubernetes release it ports.
- ``jobctl sync ...`` runs one-off syncs (``jobctl.app.sync_command``).

Exit codes: 0 after a requested shutdown (SIGTERM/SIGINT); 2 for a bad command line;
1 when the controller cannot start or stops on its own (lost lease, failure). Errors
are one line on stderr, never a traceback.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from jobctl.app import UPSTREAM_RELEASE, version
from jobctl.app.options import JobctlOptions, OptionsError, parse_args

logger = logging.getLogger("jobctl")

# Beyond the drain and release bounds, a stuck shutdown is cut short after this long.
_SHUTDOWN_GRACE = 10.0


def _one_line(text: object) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()


def _error(message: object, code: int) -> int:
    print(f"jobctl: {_one_line(message)}", file=sys.stderr)
    return code


def _version_text() -> str:
    return f"jobctl {version()} (Kubernetes Job controller {UPSTREAM_RELEASE})"


def _install_signal_handlers(
    stop: threading.Event, opts: JobctlOptions
) -> dict[int, object] | None:
    """SIGTERM/SIGINT: first one asks for a clean shutdown (bounded by a watchdog);
    a second one exits at once, like KCM's SetupSignalContext."""
    if threading.current_thread() is not threading.main_thread():
        return None
    bound = (
        opts.controller_shutdown_timeout
        + (opts.leader_elect_renew_deadline if opts.leader_elect else 0.0)
        + _SHUTDOWN_GRACE
    )

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            os._exit(1)
        logger.info("Received %s, shutting down", signal.Signals(signum).name)
        stop.set()

        def force_exit() -> None:
            print(
                f"jobctl: shutdown did not finish within {bound:g}s, exiting",
                file=sys.stderr,
            )
            os._exit(1)

        timer = threading.Timer(bound, force_exit)
        timer.daemon = True
        timer.start()

    previous: dict[int, object] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handle)
    return previous


def _restore_signal_handlers(previous: dict[int, object] | None) -> None:
    if previous is None:
        return
    for sig, handler in previous.items():
        signal.signal(sig, handler)  # type: ignore[arg-type]


def _run_controller(opts: JobctlOptions) -> int:
    from jobctl.app.controller_manager import (
        RunError,
        StartupError,
        create_config,
        run,
        run_startup_probes,
    )
    from jobctl.app.gc_policy import tune_for_controller

    tune_for_controller()
    stop = threading.Event()
    previous = _install_signal_handlers(stop, opts)
    try:
        config = create_config(opts)
        run_startup_probes(config)
        if stop.is_set():  # asked to stop while the probes were running
            return 0
        run(config, stop)
    except (StartupError, RunError) as err:
        return _error(err, 1)
    except Exception as err:
        # Keep the one-line contract; the traceback is there at -v=4 and above.
        logger.debug("unexpected error", exc_info=True)
        return _error(f"unexpected error: {type(err).__name__}: {err}", 1)
    finally:
        _restore_signal_handlers(previous)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("version", "--version"):
        print(_version_text())
        return 0
    if args and args[0] == "sync":
        from jobctl.app.sync_command import main as sync_main

        code: int = sync_main(args[1:])
        return code

    try:
        opts = parse_args(args)
    except OptionsError as err:
        return _error(f"error: {err}", 2)
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0

    from jobctl.k8s_libs.features import DEFAULT_FEATURE_GATE, unimplemented_gate_settings
    from jobctl.k8s_libs.metrics_registration import disable_created_series

    disable_created_series()
    if opts.feature_gates:
        try:
            DEFAULT_FEATURE_GATE.set(opts.feature_gates)
        except ValueError as err:
            return _error(f"error: invalid --feature-gates: {err}", 2)
    refused, ignored = unimplemented_gate_settings(DEFAULT_FEATURE_GATE)
    if refused:
        return _error(
            "error: --feature-gates: jobctl does not implement alpha feature "
            f"{', '.join(refused)}; remove it or set it to false",
            2,
        )

    from jobctl.app.logging_setup import setup_logging

    setup_logging(opts.verbosity, opts.logging_format)
    if ignored:
        logger.warning(
            "Feature gates %s are set but jobctl does not implement them; they change nothing",
            ", ".join(ignored),
        )
    return _run_controller(opts)


if __name__ == "__main__":
    sys.exit(main())
