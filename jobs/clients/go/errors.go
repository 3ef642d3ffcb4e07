package hoopoe

import "fmt"

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
