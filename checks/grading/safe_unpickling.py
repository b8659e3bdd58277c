"""What the grader accepts from Dask's wire: plain data and exceptions, never code.

Dask's protocol is msgpack, but any peer may put a pickle inside a message (a task's result, an
exception, a ``__Pickled__`` frame), and the receiving process unpickles it whatever its
``deserializers`` say: a worker that returns ``os.system`` wrapped in a pickle runs it in the
grader. Mutual TLS (:mod:`checks.grading.cluster_tls`) keeps strangers off the cluster; this
module keeps even a certified worker from running code in the grader.

While :func:`plain_pickles_only` is active, every unpickling Dask does in this process goes
through :class:`PlainUnpickler`, which builds only plain data (str, bytes, numbers, containers),
exceptions (of Python, Dask, asyncio and concurrent.futures, with tblib's tracebacks, as Dask
sends them; a ``KilledWorker`` with its worker's state) and nothing else: a pickle naming any
other callable is refused with :class:`pickle.UnpicklingError`, which the grader turns into that
submission's one-line error.
A task's result never needs pickle at all: it is JSON text (:mod:`checks.grading.result_schema`).

Only the grader's process is restricted: a scheduler or worker in the same process (a
``LocalCluster``) would be refused the task graphs it must unpickle.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import io
import pickle
import threading
from collections.abc import Iterator

_PLAIN = frozenset(
    {"str", "bytes", "bytearray", "int", "float", "complex", "bool", "dict", "list", "tuple"}
    | {"set", "frozenset", "slice"}
)
# tblib rebuilds an exception's traceback from plain fields (Dask sends them so).
_TBLIB = frozenset(
    {
        ("tblib.pickling_support", "unpickle_exception"),
        ("tblib.pickling_support", "unpickle_exception_with_attrs"),
        ("tblib.pickling_support", "unpickle_traceback"),
        ("tblib", "Frame"),
        ("tblib", "Code"),
        ("tblib", "Traceback"),
    }
)
# What a KilledWorker carries: the last worker's state (plain fields, in plain containers).
_DASK_RECORDS = frozenset(
    {
        ("collections", "defaultdict"),
        ("collections", "deque"),
        ("collections", "OrderedDict"),
        ("distributed.core", "Status"),
        ("distributed.scheduler", "WorkerState"),
    }
)
# Modules whose exception classes Dask's client may receive (KilledWorker, CancelledError...).
_EXCEPTION_MODULES = ("builtins", "distributed.", "asyncio.", "concurrent.futures.")
_lock = threading.Lock()
_active = 0


class PlainUnpickler(pickle.Unpickler):
    """An unpickler that builds plain data and exceptions only."""

    def find_class(self, module: str, name: str) -> object:
        """The class ``module.name`` if it is plain data or an exception; else refuse it.

        Raises
        ------
        pickle.UnpicklingError
            Anything else: a function, a class that runs code when built, a module's attribute.
        """
        if module == "builtins" and name in _PLAIN:
            return getattr(builtins, name)
        if (module, name) in _TBLIB or (module, name) in _DASK_RECORDS:
            return super().find_class(module, name)
        if "." not in name and (module == "builtins" or module.startswith(_EXCEPTION_MODULES[1:])):
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and issubclass(found, BaseException):
                return found
        raise pickle.UnpicklingError(f"refused to unpickle {module}.{name} (not plain data)")


def plain_loads(data: bytes, *, buffers: object = ()) -> object:
    """Unpickle ``data`` with :class:`PlainUnpickler` (Dask's ``loads`` signature)."""
    return PlainUnpickler(io.BytesIO(data), buffers=buffers or ()).load()


@contextlib.contextmanager
def plain_pickles_only() -> Iterator[None]:
    """While active, Dask unpickles in this process only plain data and exceptions.

    Nested and concurrent uses share one restriction, lifted when the last one ends.
    """
    from distributed.protocol import pickle as dask_pickle

    global _active
    with _lock:
        if _active == 0:
            plain_pickles_only.original = dask_pickle.loads  # type: ignore[attr-defined]
            dask_pickle.loads = plain_loads
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                dask_pickle.loads = plain_pickles_only.original  # type: ignore[attr-defined]
