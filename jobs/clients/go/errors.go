package hoopoe

import (
	"fmt"
	"strings"
)

// InvalidJobError: the envelope breaks a rule of jobs/PROTOCOL.md ("Envelope rules"); Field names the field.
type InvalidJobError struct {
	Field   string
	Message string
}

func (e *InvalidJobError) Error() string { return "invalid envelope: " + e.Message }

// TooLargeError: the envelope is over the size limit (512 KiB); pass a reference (an id, a URL) instead of the data.
type TooLargeError struct {
	Size, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the envelope is %d bytes, the limit is %d", e.Size, e.Limit)
}

// DuplicateError: a job with the same unique key is pending or running; ExistingID is its id.
type DuplicateError struct{ ExistingID string }

func (e *DuplicateError) Error() string {
	return "duplicate: job " + e.ExistingID + " holds the unique key"
}

// AlreadyEnqueuedError: the once-key was used before (the script's reply "once"); ExistingID is the job that used it.
type AlreadyEnqueuedError struct{ ExistingID string }

func (e *AlreadyEnqueuedError) Error() string {
	return "once: job " + e.ExistingID + " was already enqueued with this once-key"
}

// RequestIDReusedError: a free-credit request id whose answer is another user's (the answer's user_id is not the user
// asked for). The worker refuses such a request (freecredit.lua: the job goes to the dead set) and the result key under
// that id holds the other user's answer, which is not returned. Ids must be unique across users: give each request its
// own (a UUID). The message names neither the other user nor the answer (that user's data).
type RequestIDReusedError struct{ RequestID string }

func (e *RequestIDReusedError) Error() string {
	return "request_id " + e.RequestID + " was decided for another user: give each request its own id (a UUID)"
}

// LibraryNotLoadedError: Redis has no hoopoe_enqueue function. Hoopoe's function library is not loaded there (no
// worker has started since Redis (re)started: start one, or run `hoopoe functions load`), or this Redis predates
// functions (7.0).
type LibraryNotLoadedError struct{ Message string }

func (e *LibraryNotLoadedError) Error() string { return e.Message }

// libraryNotLoaded is the error for a Redis error reply that says so, else nil.
func libraryNotLoaded(err error) error {
	text := err.Error()
	switch {
	case strings.Contains(text, "Function not found"):
		return &LibraryNotLoadedError{"the hoopoe function library is not loaded on this Redis (FCALL hoopoe_enqueue: function not found): " +
			"start a hoopoe worker or run `hoopoe functions load`"}
	case strings.Contains(strings.ToLower(text), "unknown command") && strings.Contains(strings.ToLower(text), "fcall"):
		return &LibraryNotLoadedError{"this Redis has no functions (FCALL came in Redis 7.0): enqueueing later, unique or once-only " +
			"jobs through this client needs Redis 7 or later"}
	}
	return nil
}
