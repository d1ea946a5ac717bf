"""The process pool job executor: runs each job in a separate worker process.

Why not :class:`concurrent.futures.ProcessPoolExecutor`: when one of its workers dies
(``os._exit``, a segfault, the out-of-memory killer) the whole pool is marked broken and
every later job fails. Here each worker is its own :mod:`multiprocessing` process with
its own pipe, so a dead worker fails only the job it was running and is replaced.

How a job runs: the parent pickles ``(func, job)`` and sends it to an idle worker (or
starts one, up to ``max_workers``), then waits, without blocking the event loop, until
the worker's pipe has a reply or the worker process has exited. The function is pickled
by reference (``module:qualname``), so it must be importable in the worker.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for_objects
from multiprocessing.context import BaseContext
from typing import Any

import anyio
import anyio.lowlevel
from anyio import CancelScope, CapacityLimiter
from apscheduler import Job, JobTimedOut, RemoteError, SerializationError
from apscheduler.abc import JobExecutor

from ._worker import PICKLE_PROTOCOL, READY, worker_main

#: The key of ``Job.metadata`` (set through task or schedule metadata) that gives a job
#: its own timeout in seconds, overriding the executor's ``job_timeout``.
TIMEOUT_METADATA_KEY = "timeout"

#: Requests up to this size are written to the pipe directly (they fit in the pipe's
#: buffer, so the write cannot block); bigger ones are written from a worker thread.
_INLINE_SEND_LIMIT = 16 * 1024
#: How long a worker asked to exit may take before it is killed.
_EXIT_GRACE = 5.0
_POSIX = os.name == "posix"


class WorkerCrashedError(RuntimeError):
    """The worker process running a job died before the job finished.

    ``exitcode`` is the process's exit code (negative: the number of the signal that
    killed it), ``pid`` its process ID. The message explains what happened.
    """

    exitcode: int | None = None
    pid: int | None = None

    def __init__(self, message: str, exitcode: int | None = None, pid: int | None = None):
        super().__init__(message)
        self.exitcode = exitcode
        self.pid = pid

    def __reduce__(self) -> Any:
        return (type(self), (str(self), self.exitcode, self.pid))


class RemoteTraceback(Exception):
    """Carries the formatted traceback of an exception raised in a worker process.

    It is set as the ``__cause__`` of the exception ``run_job`` re-raises, so that
    ``traceback.format_exception`` in the parent shows where the job failed.
    """

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'


class _Timeout(Exception):
    pass


class _WorkerGone(Exception):
    pass


class _Worker:
    """One worker process and the parent's end of its pipe."""

    __slots__ = ("process", "conn", "pid", "jobs_done")

    def __init__(self, process: Any, conn: Connection):
        self.process = process
        self.conn = conn
        self.pid: int = process.pid
        self.jobs_done = 0

    def close_conn(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self, grace: float) -> None:
        """Blocking: ask the process to exit (close the pipe), kill it after ``grace``
        seconds, and reap it so that no zombie is left."""
        self.close_conn()
        try:
            self.process.join(grace)
            if self.process.exitcode is None:
                self.process.kill()
                self.process.join()
            self.process.close()
        except ValueError:  # already reaped and closed elsewhere
            pass

    def kill(self) -> None:
        """Blocking: kill the process now and reap it."""
        try:
            if self.process.exitcode is None:
                self.process.kill()
            self.process.join()
            self.process.close()
        except ValueError:  # already reaped and closed elsewhere
            pass
        self.close_conn()


class ProcessPoolJobExecutor(JobExecutor):
    """Runs jobs in a pool of worker processes, isolated from the scheduler.

    :param max_workers: how many worker processes (and so jobs) may run at once;
        default: the number of CPUs
    :param max_jobs_per_worker: replace a worker after it has run this many jobs (bounds
        memory that jobs leak); default: never
    :param job_timeout: seconds (or a ``timedelta``) a job may run before its worker is
        killed and ``run_job`` raises :class:`~apscheduler.JobTimedOut`; a job's
        ``metadata["timeout"]`` (seconds) overrides it; default: no limit
    :param mp_context: the :mod:`multiprocessing` start method (``"spawn"``,
        ``"forkserver"``, ``"fork"``) or context. ``"spawn"`` (the default) is safe in a
        multi-threaded program such as a running scheduler; ``"fork"`` is not.
    :param initializer: called with ``initargs`` in each new worker before its first job
        (for example to configure logging); must be picklable

    A job that kills its worker (``os._exit``, a signal, a segfault) makes ``run_job``
    raise :class:`WorkerCrashedError` explaining how the process ended; the pool starts
    a new worker for the next job. Cancelling ``run_job`` (scheduler stop) kills the
    worker running that job. :data:`apscheduler.current_job` is set in the worker.
    """

    def __init__(
        self,
        *,
        max_workers: int | None = None,
        max_jobs_per_worker: int | None = None,
        job_timeout: float | timedelta | None = None,
        mp_context: str | BaseContext = "spawn",
        initializer: Callable[..., Any] | None = None,
        initargs: Sequence[Any] = (),
    ) -> None:
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        if max_jobs_per_worker is not None and max_jobs_per_worker < 1:
            raise ValueError("max_jobs_per_worker must be at least 1 (or None)")
        self.max_workers = max_workers
        self.max_jobs_per_worker = max_jobs_per_worker
        self.job_timeout = _as_timeout(job_timeout, "job_timeout")
        self._context: Any = (
            multiprocessing.get_context(mp_context) if isinstance(mp_context, str) else mp_context
        )
        self.initializer = initializer
        self.initargs = tuple(initargs)
        self._limiter: CapacityLimiter | None = None
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()  # every live worker: idle, busy or starting
        self._retiring: set[threading.Thread] = set()
        self._spawn_lock = threading.Lock()
        self._shut_down = False
        _live_executors.add(self)

    def __repr__(self) -> str:
        return (
            f"ProcessPoolJobExecutor(max_workers={self.max_workers}, "
            f"max_jobs_per_worker={self.max_jobs_per_worker}, job_timeout={self.job_timeout}, "
            f"mp_context={self._context.get_start_method()!r})"
        )

    @property
    def worker_pids(self) -> list[int]:
        """Process IDs of the current worker processes (idle and busy)."""
        return sorted(worker.pid for worker in self._workers)

    # Lifecycle

    async def start(self, exit_stack: AsyncExitStack) -> None:
        """Prepare the pool; workers start on demand. Closing ``exit_stack`` stops them."""
        self._limiter = CapacityLimiter(self.max_workers)
        self._shut_down = False
        exit_stack.push_async_callback(self.shutdown)

    async def shutdown(self) -> None:
        """Stop the pool: idle workers exit (or are killed after a grace period) and are
        reaped; busy workers are killed, and their ``run_job`` reports the crash."""
        self._shut_down = True
        idle = list(self._idle)
        busy = [worker for worker in self._workers if worker not in idle]
        self._idle.clear()
        self._workers.clear()
        for worker in busy:
            try:
                worker.process.kill()
            except ValueError:
                pass
        retiring = list(self._retiring)
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(_stop_all, idle, retiring)

    # Running jobs

    def check_job_arguments(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Raise :class:`~apscheduler.SerializationError` unless ``func``, ``args`` and
        ``kwargs`` can be pickled to a worker process, naming the part that cannot."""
        _check_picklable(func, "the job function", func)
        module = getattr(func, "__module__", None)
        if module == "__main__" and not getattr(sys.modules.get("__main__"), "__file__", None):
            raise SerializationError(
                f"The 'processpool' executor cannot run {_describe(func)}: it is defined in "
                f"an interactive session (no __main__ file), which worker processes cannot "
                f"import. Put it in a module."
            )
        for index, arg in enumerate(args):
            _check_picklable(arg, f"positional argument {index}", func)
        for name, value in kwargs.items():
            _check_picklable(value, f"keyword argument {name!r}", func)

    async def run_job(self, func: Callable[..., Any], job: Job) -> Any:
        request = self._make_request(func, job)
        timeout = self._timeout_for(job)
        if self._limiter is None:
            self._limiter = CapacityLimiter(self.max_workers)
        async with self._limiter:
            worker = await self._checkout(job)
            sent = False
            try:
                await anyio.lowlevel.checkpoint_if_cancelled()
                sent = True  # from here on, the worker may have (part of) the request
                await self._send(worker, request)
                reply = await self._wait_for_reply(worker, timeout)
            except _Timeout:
                with CancelScope(shield=True):
                    await self._kill(worker)
                raise JobTimedOut(
                    f"Job {job.id} ran longer than its timeout of {timeout:g} s; its worker "
                    f"process (pid {worker.pid}) was killed"
                ) from None
            except _WorkerGone:
                with CancelScope(shield=True):
                    error = await self._crash_error(worker, job)
                raise error from None
            except BaseException:
                with CancelScope(shield=True):
                    if sent:
                        await self._kill(worker)  # cancelled mid-job: the state is unknown
                    else:
                        self._checkin(worker, count=False)
                raise
            self._checkin(worker)
        return self._unpack(reply)

    def _make_request(self, func: Callable[..., Any], job: Job) -> bytes:
        try:
            return pickle.dumps((func, job), PICKLE_PROTOCOL)
        except Exception as exc:
            self.check_job_arguments(func, job.args, job.kwargs)  # names the culprit
            raise SerializationError(
                f"Job {job.id} cannot be sent to a worker process: {exc}"
            ) from exc

    def _timeout_for(self, job: Job) -> float | None:
        if TIMEOUT_METADATA_KEY in job.metadata:
            return _as_timeout(
                job.metadata[TIMEOUT_METADATA_KEY], f"job metadata {TIMEOUT_METADATA_KEY!r}"
            )
        return self.job_timeout

    def _unpack(self, reply: bytes) -> Any:
        try:
            message = pickle.loads(reply)
        except Exception as exc:
            raise SerializationError(
                f"The reply of the worker process could not be unpickled: {exc}"
            ) from exc
        if message[0] == "ok":
            return message[1]
        _, error, tb_lines, _fatal = message
        if not isinstance(error, BaseException):
            error = RemoteError(str(error))
        error.__cause__ = RemoteTraceback("".join(tb_lines))
        raise error

    # Worker management

    async def _checkout(self, job: Job) -> _Worker:
        """Return an idle worker, or start one and wait until it is ready."""
        while self._idle:
            worker = self._idle.pop()
            if worker.process.exitcode is None:
                return worker
            # It died while idle (killed from outside): forget it
            await self._kill(worker)

        with CancelScope(shield=True):
            worker = await anyio.to_thread.run_sync(self._spawn)
        try:
            await _wait_readable_any(worker)
            message = await self._receive(worker)
        except BaseException:
            with CancelScope(shield=True):
                await self._kill(worker)
            raise
        if message == READY:
            return worker
        if message is None:
            with CancelScope(shield=True):
                error = await self._crash_error(worker, job, starting=True)
            raise error
        with CancelScope(shield=True):
            await self._kill(worker)
        self._unpack(message)  # the initializer failed: raises its error
        raise RuntimeError(f"Unexpected first message from worker process {worker.pid}")

    def _spawn(self) -> _Worker:
        # One at a time: a fork must not inherit the pipe of a worker being started
        with self._spawn_lock:
            parent_conn, child_conn = self._context.Pipe(duplex=True)
            inherited: list[int] = []
            if self._context.get_start_method() == "fork":
                inherited = [parent_conn.fileno()]
                for worker in list(self._workers):
                    try:
                        inherited.append(worker.conn.fileno())
                    except OSError:  # closed meanwhile
                        pass
            process = self._context.Process(
                target=worker_main,
                args=(child_conn, self.initializer, self.initargs, inherited),
                name="apscheduler-processpool-worker",
            )
            try:
                process.start()
            finally:
                child_conn.close()
            worker = _Worker(process, parent_conn)
            self._workers.add(worker)
            return worker

    def _checkin(self, worker: _Worker, *, count: bool = True) -> None:
        """Give back a healthy worker after a job, or retire it."""
        if count:
            worker.jobs_done += 1
        if worker not in self._workers:  # the pool was shut down meanwhile
            self._retire(worker)
        elif self.max_jobs_per_worker is not None and (
            worker.jobs_done >= self.max_jobs_per_worker
        ):
            self._workers.discard(worker)
            self._retire(worker)
        else:
            self._idle.append(worker)

    def _retire(self, worker: _Worker) -> None:
        """Let a healthy worker exit in the background (it gets EOF on its pipe)."""
        worker.close_conn()

        def stop() -> None:
            try:
                worker.stop(_EXIT_GRACE)
            finally:
                self._retiring.discard(thread)

        thread = threading.Thread(target=stop, name="apscheduler-processpool-reaper", daemon=True)
        self._retiring.add(thread)
        thread.start()

    async def _kill(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        await anyio.to_thread.run_sync(worker.kill)

    async def _crash_error(
        self, worker: _Worker, job: Job, *, starting: bool = False
    ) -> WorkerCrashedError:
        """Reap a worker that died (or closed its pipe) and explain what happened."""
        self._workers.discard(worker)
        process = worker.process
        await anyio.to_thread.run_sync(process.join, _EXIT_GRACE)
        exitcode = process.exitcode
        if exitcode is None:
            how = "closed its connection without replying and was killed"
        else:
            how = _describe_exit(exitcode)
        if self._shut_down:
            how += " (the executor was shut down)"
        await anyio.to_thread.run_sync(worker.kill)
        if starting:
            message = (
                f"The worker process (pid {worker.pid}) {how} while starting, before it "
                f"could run job {job.id}; see its error output (stderr) for the cause."
            )
            if self._context.get_start_method() != "fork":
                message += (
                    " Each worker imports the main module again: start the scheduler "
                    "under 'if __name__ == \"__main__\":'."
                )
        else:
            message = (
                f"The worker process (pid {worker.pid}) running job {job.id} {how}; the "
                f"job did not complete. The pool replaces the worker."
            )
        return WorkerCrashedError(message, exitcode, worker.pid)

    # Talking to a worker

    async def _send(self, worker: _Worker, request: bytes) -> None:
        try:
            if len(request) <= _INLINE_SEND_LIMIT:
                worker.conn.send_bytes(request)
            else:
                await anyio.to_thread.run_sync(worker.conn.send_bytes, request)
        except OSError:  # BrokenPipeError: the worker is gone
            raise _WorkerGone from None

    async def _wait_for_reply(self, worker: _Worker, timeout: float | None) -> bytes:
        with anyio.move_on_after(math.inf if timeout is None else timeout) as scope:
            await _wait_readable_any(worker)
        if scope.cancelled_caught:
            raise _Timeout
        reply = await self._receive(worker)
        if reply is None:
            raise _WorkerGone
        return reply

    @staticmethod
    async def _receive(worker: _Worker) -> bytes | None:
        """Read the message waiting on the pipe; ``None`` if the worker is gone."""
        if not worker.conn.poll():
            return None  # the process exited with nothing to read
        try:
            return await anyio.to_thread.run_sync(worker.conn.recv_bytes)
        except (EOFError, OSError):
            return None


async def _wait_readable_any(worker: _Worker) -> None:
    """Return when the worker's pipe is readable (a reply, or EOF) or the process ended."""
    if not _POSIX:
        await anyio.to_thread.run_sync(
            wait_for_objects, [worker.conn, worker.process.sentinel], abandon_on_cancel=True
        )
        return

    async with anyio.create_task_group() as tg:

        async def watch(fd: int) -> None:
            await anyio.wait_readable(fd)
            tg.cancel_scope.cancel()

        tg.start_soon(watch, worker.conn.fileno())
        tg.start_soon(watch, worker.process.sentinel)


def _stop_all(workers: list[_Worker], retiring: list[threading.Thread]) -> None:
    """Blocking: let the workers exit (closing their pipes), kill those still running
    after the grace period, reap them all, and wait for retiring workers."""
    for worker in workers:
        worker.close_conn()
    for worker in workers:
        worker.stop(_EXIT_GRACE)
    for thread in retiring:
        thread.join(_EXIT_GRACE * 2)


def _describe_exit(exitcode: int) -> str:
    if exitcode >= 0:
        return f"exited with code {exitcode}"
    number = -exitcode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    text = signal.strsignal(number)
    description = f"was killed by {name}" + (f" ({text})" if text else "")
    if number == getattr(signal, "SIGKILL", None):
        description += "; SIGKILL often comes from the out-of-memory killer or an operator"
    return description


def _as_timeout(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{what} must be a positive number of seconds or None, got {value!r}")
    return float(value)


def _describe(func: Any) -> str:
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return repr(name) if isinstance(name, str) else repr(func)


def _check_picklable(value: Any, what: str, func: Any) -> None:
    try:
        pickle.dumps(value, PICKLE_PROTOCOL)
    except Exception as exc:
        hint = (
            "Use a function defined at module level (not a lambda, a nested function or a "
            "bound method of an unpicklable object)."
            if what == "the job function"
            else "Pass plain, picklable data (not locks, sockets, open files, database "
            "connections, lambdas or generators)."
        )
        raise SerializationError(
            f"The 'processpool' executor cannot send {what} of {_describe(func)} "
            f"(type {type(value).__qualname__}) to a worker process: {exc}. {hint}"
        ) from exc


# Workers must not outlive the interpreter, even if the executor was never shut down:
# this handler runs before multiprocessing's own exit handler (atexit is LIFO), which
# would otherwise wait forever for workers that are waiting for their next job.
_live_executors: weakref.WeakSet[ProcessPoolJobExecutor] = weakref.WeakSet()


@atexit.register
def _stop_leftover_workers() -> None:
    for executor in list(_live_executors):
        workers = list(executor._workers)
        executor._idle.clear()
        executor._workers.clear()
        for worker in workers:
            worker.kill()
        for thread in list(executor._retiring):
            thread.join(_EXIT_GRACE * 2)
