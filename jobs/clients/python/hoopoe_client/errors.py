"""The protocol's refusals as exceptions: every one names what was refused, so callers can branch on the class."""


class HoopoeError(Exception):
    """Base class of every error this client raises on purpose."""


class InvalidJob(HoopoeError, ValueError):
    """The envelope breaks a rule of jobs/PROTOCOL.md ("Envelope rules"); `field` names the field."""

    def __init__(self, field, message):
        super().__init__(f"invalid envelope: {message}")
        self.field = field


class TooLarge(HoopoeError, ValueError):
    """The envelope is over the size limit (512 KiB): pass a reference (an id, a URL) instead of the data."""

    def __init__(self, size, limit):
        super().__init__(f"the envelope is {size} bytes, the limit is {limit}")
        self.size = size
        self.limit = limit


class Duplicate(HoopoeError):
    """A job with the same unique key is pending or running; `existing_id` is its id."""

    def __init__(self, existing_id):
        super().__init__(f"duplicate: job {existing_id} holds the unique key")
        self.existing_id = existing_id


class AlreadyEnqueued(HoopoeError):
    """The once-key was used before (the script's reply `once`); `existing_id` is the job that used it."""

    def __init__(self, existing_id):
        super().__init__(f"once: job {existing_id} was already enqueued with this once-key")
        self.existing_id = existing_id
