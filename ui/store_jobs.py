"""Database work the control window asks for while a class runs (attendance at the start,
RPE and events on the session page), done on one thread of its own so that a slow or
unreachable database never freezes the window. Jobs run one after another in the order
given (so a look-up submitted after the attendance job sees the attendance); each answer
comes back on the Qt thread, to the callback given with the job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from hiaim_monitor.storage.database import StorageError
from hiaim_monitor.storage.registry import RegistryError

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[str], None]  # one sentence for the operator


class StoreJobs(QObject):
    _answer = Signal(object, object)  # callback, its argument

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hiaim-ui-store")
        self._pending = 0
        # Emitted on the store's thread, delivered on the Qt thread (a queued connection).
        self._answer.connect(self._deliver)

    @property
    def busy(self) -> bool:
        """A job has not answered yet."""
        return self._pending > 0

    def submit(self, job: Callable[[], Any], done: Done, failed: Failed) -> None:
        """Run ``job`` on the store's thread; ``done(result)`` or ``failed(sentence)`` on
        the Qt thread afterwards."""
        self._pending += 1

        def run() -> None:
            try:
                result = job()
            except (StorageError, RegistryError) as err:
                self._answer.emit(failed, str(err))
            except Exception as err:  # a bug must not end the class
                log.exception("A database job of the control window failed")
                self._answer.emit(failed, f"{type(err).__name__}: {err}")
            else:
                self._answer.emit(done, result)

        self._pool.submit(run)

    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        self._pending -= 1
        callback(value)

    def close(self, wait: bool = True) -> None:
        """No more jobs; ``wait``: until those submitted have run."""
        self._pool.shutdown(wait=wait)
