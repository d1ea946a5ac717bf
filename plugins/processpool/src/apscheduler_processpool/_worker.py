"""The code that runs inside a worker process.

A worker is a plain :mod:`multiprocessing` process running :func:`worker_main`. It talks
to the parent over one duplex pipe. Once started (and its initializer has run) it sends
``READY``; then one message goes each way per job:

* parent → worker: ``pickle((func, job))``; the worker calls
  ``func(*job.args, **job.kwargs)`` with :data:`apscheduler.current_job` set to ``job``;
* worker → parent: ``pickle(("ok", return_value))`` or
  ``pickle(("error", exception, traceback_lines, fatal))``.

The worker never raises out of its loop for a job's sake: everything the job does wrong
(an exception, ``sys.exit()``, a return value that cannot be pickled) becomes an
``"error"`` reply. Only what kills the process itself (``os._exit``, a signal, a
segfault) ends the loop, and the parent notices the process is gone. The worker exits
when the parent closes its end of the pipe.

This module is imported in every worker, so it imports as little as possible.
"""

from __future__ import annotations

import inspect
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL
#: Sent once by a worker that has started and is ready for jobs.
READY = pickle.dumps(("ready",), PICKLE_PROTOCOL)


def worker_main(
    conn: Connection,
    initializer: Callable[..., Any] | None = None,
    initargs: Sequence[Any] = (),
    inherited_fds: Sequence[int] = (),
) -> None:
    """Serve jobs sent over ``conn`` until the parent closes it.

    ``inherited_fds``: with the ``fork`` start method, the parent's ends of the pipes of
    this and the other workers, inherited by the fork. They are closed so that each
    worker sees end-of-file when the parent closes its end.
    """
    for fd in inherited_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when
    # workers stop (it closes the pipe or kills the process), so ignore it here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    if initializer is not None:
        try:
            initializer(*initargs)
        except BaseException as exc:
            failure = RuntimeError(
                f"The worker process initializer {initializer!r} failed: {exc!r}"
            )
            _send(conn, error_reply(failure, _format(exc), fatal=True))
            return
    if not _send(conn, READY):
        return

    while True:
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return  # the parent closed the pipe (shutdown, or the parent died)
        if not _send(conn, run_request(request)):
            return


def _send(conn: Connection, data: bytes) -> bool:
    try:
        conn.send_bytes(data)
    except OSError:  # the parent is gone
        return False
    return True


def run_request(request: bytes) -> bytes:
    """Run one pickled ``(func, job)`` request and return the pickled reply."""
    try:
        func, job = pickle.loads(request)
    except BaseException as exc:
        return error_reply(
            RuntimeError(f"The worker process could not unpickle the job: {exc!r}"),
            _format(exc),
        )

    from apscheduler import current_job

    token = current_job.set(job)
    try:
        result = func(*job.args, **job.kwargs)
        if inspect.isawaitable(result):
            result = _await(result)
    except BaseException as exc:
        tb_lines = _format(exc, skip_frames=1)
        if not isinstance(exc, Exception):
            # SystemExit / KeyboardInterrupt / GeneratorExit must not escape into the
            # parent (raising SystemExit there would stop the scheduler)
            exc = RuntimeError(f"The job raised {type(exc).__name__}({_args_text(exc)})")
        return error_reply(exc, tb_lines)
    finally:
        current_job.reset(token)

    try:
        return pickle.dumps(("ok", result), PICKLE_PROTOCOL)
    except Exception as exc:
        from apscheduler import SerializationError

        return error_reply(
            SerializationError(
                f"The return value of the job (type {type(result).__qualname__}) could not be "
                f"pickled to send it back from the worker process: {exc}"
            ),
            _format(exc),
        )


def error_reply(exc: BaseException, tb_lines: list[str], *, fatal: bool = False) -> bytes:
    """Pickle an error reply; an exception that does not survive pickling is replaced by
    an :class:`apscheduler.RemoteError` carrying its type name and message."""
    try:
        data = pickle.dumps(("error", exc, tb_lines, fatal), PICKLE_PROTOCOL)
        pickle.loads(data)  # e.g. custom __init__ signatures break unpickling
        return data
    except Exception:
        from apscheduler import RemoteError

        substitute = RemoteError.from_exception(exc)
        return pickle.dumps(("error", substitute, tb_lines, fatal), PICKLE_PROTOCOL)


def _await(awaitable: Any) -> Any:
    """Run a coroutine returned by the job to completion on a fresh event loop."""
    import asyncio

    async def wait() -> Any:
        return await awaitable

    return asyncio.run(wait())


def _format(exc: BaseException, skip_frames: int = 0) -> list[str]:
    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    return traceback.format_exception(type(exc), exc, tb)


def _args_text(exc: BaseException) -> str:
    return ", ".join(repr(arg) for arg in exc.args)
