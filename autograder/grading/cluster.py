"""Grading a class on a Dask cluster: the same grading, on other machines' cores.

A course outgrows one machine; Dask's workers (on a laptop, SSH hosts, Kubernetes or
an HPC queue, one API) are long-lived, so each keeps one warm forkserver for every
submission it grades. The contract:

- **A task is data.** It carries the notebook's runnable cells (read by the client),
  the student's id, the seed, the limits, the digest of the course's reference and the
  kit's fingerprint. A worker needs the kit installed and nothing else of the course:
  it reads no file of the course or of the submissions. The reference cells travel
  once per worker, in the :class:`WarmWorker` plugin the client registers under the
  reference's digest (Dask hands it to workers that join later too), and each worker
  grades with the trusted reference processes of that reference (``reference.shared``;
  a worker with one thread keeps one).
  Several courses can share a cluster: each task names the reference it was made for.
- **A worker refuses a task from another kit** (:class:`KitMismatch`): its results
  would be recorded as current for a kit that did not grade them.
- **The sandbox applies on the workers exactly as locally.** :class:`WarmWorker`, a
  worker plugin, starts the forkserver (and the reference process) when a worker
  starts, so the TensorFlow import is paid there, once, not by the first student.
- **The client writes.** Results come back as they finish and the client writes each
  student's files itself, atomically, with the resume rule of a local run
  (``batch``). A task is pure: a worker that dies mid-task has its tasks run again
  elsewhere by the scheduler, and each student's future completes once, so nobody is
  lost or written twice. A task that keeps killing workers ends as a grader error for
  that student only (graded again on the next run).

Dask is an optional extra (``pip install tfkit[dask]``): the command line imports this
module only for ``--scheduler`` and ``--cluster``.
"""
from __future__ import annotations

import collections
import contextlib
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass

INSTALL_HINT = "Dask is not installed: pip install 'tfkit[dask]' (on the client and every worker)"
try:
    import distributed
except ImportError as exc:
    raise ImportError(INSTALL_HINT) from exc

PLUGIN_NAME = "tfkit-warm-sandbox"
SUBMIT_AHEAD = 4  # tasks queued per worker thread: enough to keep them busy, bounded memory


class ClusterError(Exception):
    """The cluster cannot be used (the message says why, in one line)."""


class KitMismatch(RuntimeError):
    """A worker's kit is not the client's: its grades would not be the client's kit's."""


# --- On a worker ---

def _allow_children() -> None:
    """Dask starts its workers as daemonic processes by default, and a daemonic process
    may not start children; the sandbox and the reference are children. The worker
    stays tied to its nanny either way. (``distributed.worker.daemon: false`` in
    Dask's config does the same from outside.)"""
    process = multiprocessing.current_process()
    if process.daemon:
        process.daemon = False


class WarmWorker(distributed.WorkerPlugin):
    """A Dask worker plugin: when a worker starts (or joins later), start the sandbox's
    forkserver, which imports TensorFlow once for every sandbox of this worker, and the
    reference process for ``reference_cells``, a forkserver child. The plugin keeps the
    cells: tasks name them by digest (:func:`plugin_name`)."""

    def __init__(self, reference_cells=None):
        self.reference_cells = [tuple(cell) for cell in reference_cells or ()]

    def setup(self, worker=None) -> None:
        from autograder.sandbox import forkserver
        _allow_children()
        forkserver.start_forkserver()
        if self.reference_cells:
            from autograder.grading.batch import warm_reference
            # one reference process per thread of this worker (one, as docs/cluster.md asks)
            warm_reference(self.reference_cells, worker.state.nthreads if worker else None)

    def teardown(self, worker=None) -> None:
        pass


def plugin_name(reference_digest: str) -> str:
    """The name a client registers :class:`WarmWorker` under for one reference."""
    return f"{PLUGIN_NAME}-{reference_digest}"


def dask_setup(worker) -> None:
    """``dask worker ... --preload autograder.grading.cluster``: warm a worker as it starts,
    before any client connects (a client's :class:`WarmWorker` then finds it warm)."""
    WarmWorker().setup(worker)


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to grade one student, as data."""

    student_id: str
    submitted_as: str
    cells: tuple  # (label, source) pairs: the notebook's runnable cells
    seed: int
    limits: object  # sandbox.settings.Limits
    reference: str  # the digest of the course's reference cells (reference.cells_digest)
    kit: str
    case_seed: int | None = None  # derived here, with the course's key no worker holds


class ReferenceMissing(RuntimeError):
    """A worker has not been sent the reference a task names."""


_kit_checked = None


def _reference_of(task: Task):
    from autograder.grading import reference
    plugin = distributed.get_worker().plugins.get(plugin_name(task.reference))
    if plugin is None:
        raise ReferenceMissing(f"this worker has no reference {task.reference}: the client "
                               "registers it when it connects (tfgrade ... --scheduler)")
    return reference.shared(plugin.reference_cells)


def grade_task(task: Task):
    """Grade one student on a worker; returns the :class:`grade.Result`."""
    global _kit_checked
    from autograder.grading.grade import grade_cells
    from autograder.results import kit
    if _kit_checked != task.kit:
        own = kit.kit_fingerprint()
        if own != task.kit:
            raise KitMismatch(f"this worker's kit is {own}, the client's {task.kit}: install the "
                              "same tfkit on the client and every worker")
        _kit_checked = task.kit
    _allow_children()
    result = grade_cells(list(task.cells), task.student_id, task.seed, task.limits,
                         _reference_of(task), task.case_seed)
    result.submitted_as = task.submitted_as
    return result


# --- On the client ---

class Cluster:
    """A connection to a Dask cluster (``--scheduler ADDRESS``) or a local one started
    here (``--cluster local:N``), with :class:`WarmWorker` registered on every worker
    for ``reference_cells`` (by default the course's, ``reference.read_reference``)."""

    def __init__(self, scheduler: str | None = None, local: int | None = None,
                 reference_cells=None, timeout: float = 30.0):
        from autograder.grading.reference import cells_digest, read_reference
        self.local_cluster = None
        self.reference_cells = tuple(tuple(c) for c in reference_cells or read_reference())
        self.reference = cells_digest(self.reference_cells)
        try:
            if scheduler:
                self.client = distributed.Client(scheduler, timeout=timeout)
            else:
                import dask
                with dask.config.set({"distributed.worker.daemon": False}), \
                        warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "port 8787 is in use"
                    self.local_cluster = distributed.LocalCluster(
                        n_workers=local or 1, threads_per_worker=1, processes=True,
                        dashboard_address=None, silence_logs=logging.ERROR)
                self.client = distributed.Client(self.local_cluster)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
            raise ClusterError(f"cannot reach {where}: {exc}") from None
        self.client.register_plugin(WarmWorker(self.reference_cells),
                                    name=plugin_name(self.reference))

    @property
    def threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def missing_isolation(self) -> list:
        """One line per worker that cannot isolate submissions."""
        from autograder.sandbox.settings import missing_isolation
        found = self.client.run(missing_isolation)
        return [f"{worker}: {why}" for worker, why in sorted(found.items()) if why]

    def grade(self, items):
        """Yield ``(key, outcome)`` for each ``(key, task)`` of ``items`` as it finishes:
        a :class:`Task` is graded on a worker (its outcome is the ``Result``, or the
        exception that ended it: a ``KilledWorker``, a :class:`KitMismatch`); anything
        else is already the outcome. At most ``SUBMIT_AHEAD`` tasks per worker thread
        are queued at a time, so a large class is read as it is graded."""
        pending, ready = iter(items), collections.deque()
        keys, running = {}, distributed.as_completed()

        def submit_more() -> None:
            while running.count() < SUBMIT_AHEAD * self.threads:
                item = next(pending, None)
                if item is None:
                    return
                key, task = item
                if not isinstance(task, Task):
                    ready.append((key, task))
                    continue
                future = self.client.submit(grade_task, task, pure=False,
                                            key=f"tfgrade-{task.student_id}-{os.urandom(4).hex()}")
                keys[future.key] = key
                running.add(future)

        submit_more()
        while True:
            while ready:
                yield ready.popleft()
            if running.is_empty():
                return
            future = next(running)
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, a worker's error: this student's
                outcome = exc
            future.release()
            yield keys.pop(future.key), outcome
            submit_more()

    def grade_class(self, todo: list, seed: int, limits):
        """``batch``'s grading on the cluster: yield ``(submission, key, result)`` for
        each ``(submission, key)`` of ``todo``, ``result`` as plain data. The notebooks
        are read here; what cannot be read never leaves the client."""
        from autograder.grading.batch import grader_error
        items = ((pair, self.task(pair[0], seed, limits)) for pair in todo)
        for (submission, key), outcome in self.grade(items):
            if isinstance(outcome, BaseException):
                outcome = grader_error(submission, seed, "grading on the cluster", outcome)
            elif not isinstance(outcome, dict):
                outcome = outcome.to_dict()
            yield submission, key, outcome

    def task_of(self, student_id: str, submitted_as: str, cells, seed: int, limits) -> Task:
        """The :class:`Task` that grades ``cells`` (``grade.runnable_cells``)."""
        from autograder.grading.grade import derive_case_seed
        from autograder.results import kit
        cells = tuple(tuple(c) for c in cells)
        return Task(student_id, submitted_as, cells, seed, limits, self.reference,
                    kit.kit_fingerprint(), derive_case_seed(seed, cells))

    def task(self, submission, seed: int, limits):
        """The :class:`Task` that grades ``submission``, or its result (plain data)
        when there is nothing to send: no notebook, or one that cannot be read."""
        from autograder.grading.batch import grader_error
        from autograder.grading.grade import Result, Ungradable, code_cells
        reason = submission.reason
        if submission.notebook is not None:
            try:
                return self.task_of(submission.student_id, submission.submitted_as,
                                    code_cells(submission.notebook), seed, limits)
            except Ungradable as exc:
                reason = str(exc)
            except Exception as exc:  # noqa: BLE001 - as a local run: this student's row
                return grader_error(submission, seed, "reading", exc)
        return Result(student_id=submission.student_id, submitted_as=submission.submitted_as,
                      status="ungradable", reason=reason, seed=seed).to_dict()

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.local_cluster is not None:
            self.local_cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


@contextlib.contextmanager
def standing_cluster(folder, workers: int, env=None, preload: bool = True, log=None,
                     timeout: float = 120.0):
    """A cluster as a course keeps one running, started in ``folder`` with this
    environment's ``dask`` command: ``dask scheduler`` and ``dask worker --nworkers
    workers --nthreads 1`` (with ``--preload autograder.grading.cluster`` when ``preload``).
    Yields ``(address, worker_process)`` once the workers have joined; both commands
    are stopped on exit. ``env`` is their environment (default: this one), ``log`` an
    open file for their output (default: none)."""
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    address_file = os.path.join(folder, "scheduler.json")
    output = dict(stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    started = []
    try:
        started.append(subprocess.Popen(
            [dask, "scheduler", "--scheduler-file", address_file, "--port", "0", "--no-dashboard"],
            cwd=folder, env=env, **output))
        deadline = time.monotonic() + timeout
        while not os.path.isfile(address_file):
            if time.monotonic() > deadline or started[0].poll() is not None:
                raise ClusterError(f"the Dask scheduler did not start in {folder}")
            time.sleep(0.05)
        started.append(subprocess.Popen(
            [dask, "worker", "--scheduler-file", address_file, "--nworkers", str(workers),
             "--nthreads", "1", "--no-dashboard", *(["--preload", __name__] if preload else [])],
            cwd=folder, env=env, **output))
        with open(address_file) as handle:
            address = json.load(handle)["address"]
        with distributed.Client(address, timeout=timeout) as client:
            client.wait_for_workers(workers, timeout=timeout)
        yield address, started[1]
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
