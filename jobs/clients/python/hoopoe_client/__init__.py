"""Hoopoe's Python client: enqueue jobs (now, at, in, unique, once, batch), wait for free credit's answer, read the
events stream, and typed helpers for the domain jobs. The wire format is jobs/PROTOCOL.md."""
from .client import REMEMBERED, Client, Enqueued, Event, decode_event, default_namespace, new_id
from .domain import Jobs
from .envelope import MAX_BYTES, problem, problem_in_text
from .errors import AlreadyEnqueued, Duplicate, HoopoeError, InvalidJob, LibraryNotLoaded, RequestIDReused, TooLarge

__all__ = ["REMEMBERED", "Client", "Enqueued", "Event", "decode_event", "default_namespace", "new_id", "Jobs", "MAX_BYTES",
           "problem", "problem_in_text", "AlreadyEnqueued", "Duplicate", "HoopoeError", "InvalidJob", "LibraryNotLoaded",
           "RequestIDReused", "TooLarge"]
