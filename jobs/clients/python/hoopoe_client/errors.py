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


class RequestIDReused(HoopoeError):
    """A free-credit request id whose answer is another user's: the answer's user_id is not the user asked for. The
    worker refuses such a request (freecredit.lua: the job goes to the dead set) and the result key under that id holds
    the other user's answer, which is not returned. Ids must be unique across users: give each request its own (a UUID).
    `request_id` is the id; the message names neither the other user nor the answer (that user's data)."""

    def __init__(self, request_id):
        super().__init__(f"request_id {request_id} was decided for another user: give each request its own id (a UUID)")
        self.request_id = request_id


class LibraryNotLoaded(HoopoeError):
    """Redis has no `hoopoe_enqueue` function: Hoopoe's function library is not loaded there (no worker has started
    since Redis (re)started: start one, or run `hoopoe functions load`), or this Redis predates functions (7.0)."""

    NOT_LOADED = ("the hoopoe function library is not loaded on this Redis (FCALL hoopoe_enqueue: function not found): "
                  "start a hoopoe worker or run `hoopoe functions load`")
    NO_FUNCTIONS = ("this Redis has no functions (FCALL came in Redis 7.0): enqueueing later, unique or once-only jobs "
                    "through this client needs Redis 7 or later")

    @classmethod
    def from_reply(cls, text):
        """The error for a Redis error reply that says so, else None."""
        if "Function not found" in text:
            return cls(cls.NOT_LOADED)
        if "unknown command" in text.lower() and "fcall" in text.lower():
            return cls(cls.NO_FUNCTIONS)
        return None
