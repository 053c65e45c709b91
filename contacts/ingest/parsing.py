"""The reading half of a contacts file import, and the processes that do it.

The import reads, maps and parses a file with voc/core/imports/batches.py's
``parsed_batches``; ``record_parser`` is its parse step for contacts: ``parse_row`` (which
redacts), then the content hash, the erasure keys and the COPY text of each record, computed
here where the time is cheap. The import writes each batch with ``contacts_ingest`` in its own
transaction.

Parsing and redaction cost about as much as writing, so ``ForkedBatches`` runs the same
generator in further processes while the importing process writes. They are forked, so they
start with the mapper and parser the import already built and checked; each opens the file
again, reads all of it (that is what tells where each batch ends) and parses every n-th batch,
so batch n + 1 is parsed (and received and unpacked by a thread of the importing process)
while batch n is written. Each stays at most one batch ahead (the pipes are small), so memory
stays bounded, and the import keeps its guarantees: each batch commits on its own, in file
order, and line numbers are those of the file. Records cross the pipes as plain tuples
(``pack``/``unpack``): pickling the dataclasses themselves, with their time zones, costs more
than parsing them again.
"""

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from contacts.ingest.pgcopy import record_copy_text
from contacts.ingest.records import ContactRecord, MessageRecord, ParseOptions, parse_row
from contacts.tombstones import record_erasure_keys
from voc.core.imports.batches import ParsedBatch, parsed_batches


def record_parser(
    options: ParseOptions, *, erasure_keys: bool, copy_text: bool
) -> Callable[[dict[str, Any]], ContactRecord]:
    """The parse step of ``parsed_batches`` for contacts: a mapped row as a ContactRecord, or
    RowError. ``erasure_keys``: compute each record's erasure HMACs here (worth it only while
    tombstones exist; the service computes any that are missing when it needs them).
    ``copy_text``: format each record's part of its COPY lines here (for the PostgreSQL
    writer)."""

    def parse(row: dict[str, Any]) -> ContactRecord:
        record = parse_row(row, options)
        record.content_hash()  # computed here, where the time is cheap (see above)
        if erasure_keys:
            record.erasure_keys = record_erasure_keys(record)  # likewise the HMACs (four a row)
        if copy_text:
            record.copy_text = record_copy_text(record)  # and the COPY text of the writer
        return record

    return parse


# --- records as plain tuples ------------------------------------------------------------------

_from_iso = datetime.fromisoformat


def pack(record: ContactRecord) -> tuple:
    return (
        record.source, record.external_id, str(record.channel), str(record.direction),
        record.occurred_at.isoformat(), record.customer_ref, record.customer_name,
        record.customer_email, record.customer_phone, record.customer_segment, record.rep,
        record.team, record.reason_path, record.tags, record.subject, record.notes,
        record.handle_seconds, record.outcome, record.first_contact_resolution, record.road,
        record.wait_seconds, record.occurred_date_only,
        [
            (m.external_id, m.position, str(m.direction), m.author,
             m.sent_at.isoformat() if m.sent_at is not None else None, m.text)
            for m in record.messages
        ],
        record.content_hash(),
        record.erasure_keys,
        record.copy_text,
    )  # fmt: skip


def unpack(values: tuple) -> ContactRecord:
    messages = [
        MessageRecord(external_id, position, direction, author, _from_iso(sent) if sent else None, text)
        for external_id, position, direction, author, sent, text in values[22]
    ]  # fmt: skip
    # pack() fixes the tuple's length, which the type checker cannot see through the slice.
    record = ContactRecord(values[0], values[1], values[2], values[3], _from_iso(values[4]),
                           *values[5:22], messages)  # type: ignore[call-arg]  # fmt: skip
    record.digest = values[23]
    record.erasure_keys = values[24]
    record.copy_text = values[25]
    return record


# --- the second process -------------------------------------------------------------------


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class ForkedBatches:
    """``parsed_batches`` run in ``processes`` forked processes, each parsing every n-th
    batch of its own reader (``open_reader()`` gives one: a reader and its position); iterate
    for the batches, in file order. A problem in a second process (the file cannot be read to
    the end, a bug) is raised here, after the batches before it. ``warnings`` holds the
    mapper's warnings once all is read. Use as a context manager: leaving it stops the
    processes."""

    def __init__(self, open_reader, mapper, *, processes: int, **kwargs) -> None:
        self.warnings: list[str] = []
        self._mapper = mapper
        context = multiprocessing.get_context("fork")
        self._pipes = []
        self._processes = []
        for mine in range(processes):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_produce,
                args=(send, open_reader, mapper, {**kwargs, "share": (mine, processes)}),
                daemon=True,
            )
            process.start()
            send.close()  # this process only reads
            self._pipes.append(receive)
            self._processes.append(process)

    def __enter__(self) -> "ForkedBatches":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for pipe in self._pipes:
            pipe.close()

    def __iter__(self) -> Iterator[ParsedBatch]:
        # The next batch is received and unpacked in a thread while the caller writes this
        # one: the writing mostly waits for PostgreSQL, with the GIL released, and the
        # unpacking (about 6 µs a record) then costs the writing process no time of its own.
        ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voc-batches")
        pending = ahead.submit(self._receive, 0)
        number = 0
        try:
            while True:
                pipe, kind, payload = pending.result()
                if kind == "batch":
                    number += 1
                    pending = ahead.submit(self._receive, number)
                    yield payload
                elif kind == "done":  # no batch with this number: the file is read
                    self._finish(pipe, payload)
                    return
                else:
                    raise payload
        finally:
            # Not waited for: a receive under way ends when close() stops the processes.
            pending.cancel()
            ahead.shutdown(wait=False)

    def _receive(self, number: int) -> tuple[Connection, str, Any]:
        """(pipe, kind, payload) of message ``number``: a batch comes as a ParsedBatch."""
        pipe = self._pipes[number % len(self._pipes)]
        try:
            kind, payload = pickle.loads(pipe.recv_bytes())  # noqa: S301 (our child)
        except (EOFError, OSError):
            raise RuntimeError("a process reading the file stopped unexpectedly") from None
        if kind == "batch":
            rows_read, packed, lines, errors, position = payload
            payload = ParsedBatch(rows_read, [unpack(v) for v in packed], lines, errors, position)
        return pipe, kind, payload

    def _finish(self, last: Connection, unknown: dict[str, int]) -> None:
        """The mapper's warnings. Each process saw the unknown field names of its own batches
        only: the others' come with their "done" (the next message, as the file is read)."""
        everything = dict(unknown)
        for pipe in self._pipes:
            if pipe is last:
                continue
            try:
                kind, payload = pickle.loads(pipe.recv_bytes())  # noqa: S301 (our child)
            except EOFError:
                continue
            if kind == "done":
                for name, number in payload.items():
                    everything[name] = min(number, everything.get(name, number))
        self._mapper.note_unknown_fields(sorted(everything, key=everything.__getitem__))
        self.warnings = self._mapper.warnings


def _produce(send, open_reader, mapper, kwargs) -> None:
    # Ctrl-C reaches the whole process group: the importing process handles it and stops this
    # one. The database connection inherited from it is never used (nor closed) here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.set_threshold(1_000_000)  # as the import sets it: see import_file
    try:
        reader, position = open_reader()
        mine, every = kwargs["share"]
        unknown: dict[str, int] = {}  # field names ignored → the batch that first had them
        for count, batch in enumerate(parsed_batches(reader, mapper, position=position, **kwargs)):
            payload = (
                batch.rows_read,
                [pack(record) for record in batch.records],
                batch.lines,
                batch.errors,
                batch.position,
            )
            send.send_bytes(pickle.dumps(("batch", payload), pickle.HIGHEST_PROTOCOL))
            for name in mapper.unknown_fields():
                unknown.setdefault(name, mine + count * every)
        send.send_bytes(pickle.dumps(("done", unknown), pickle.HIGHEST_PROTOCOL))
    except BaseException as error:  # handed to the importing process
        try:
            message = pickle.dumps(("failed", error), pickle.HIGHEST_PROTOCOL)
            pickle.loads(message)  # noqa: S301 (an exception that can't be rebuilt is described)
        except Exception:
            message = pickle.dumps(
                ("failed", RuntimeError(f"{type(error).__name__} while reading the file")),
                pickle.HIGHEST_PROTOCOL,
            )
        with contextlib.suppress(OSError):
            send.send_bytes(message)
    finally:
        send.close()
        os._exit(0)  # no clean-up of what was inherited (the database connection above all)
