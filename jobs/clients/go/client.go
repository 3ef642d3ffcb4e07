// Package hoopoe enqueues Hoopoe jobs, waits for free credit's answer and reads the events stream, over redigo
// (the wire format of jobs/PROTOCOL.md).
package hoopoe

import (
	"container/list"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomodule/redigo/redis"
)

// EnqueueFunction is the enqueue script as a function of the library every hoopoe worker loads into Redis
// (jobs/PROTOCOL.md): FCALL hoopoe_enqueue 5 stream scheduled scheduled:jobs unique:<key> once:<key> ARGV...
const EnqueueFunction = "hoopoe_enqueue"

const (
	day         = 24 * time.Hour
	onceDefault = 7 * day
)

// Options of one enqueue; the zero value means "now, on the type's queue, not unique". A field's zero value (0, "") is
// "not given", its default; any other value the protocol refuses is an *InvalidJobError naming the option
// (jobs/PROTOCOL.md, "Enqueue options"), never clamped or replaced by the default.
type Options struct {
	Queue       string        // default: the type's queue (Queues: critical for freecredit.request, else default)
	ID          string        // default: a new 26-character time-ordered id
	At          time.Time     // run no earlier than this (zero: now; before 1970: refused)
	In          time.Duration // run no earlier than this from now (negative, or with At: refused)
	UniqueKey   string        // refused (DuplicateError) while a job with it is pending or running
	UniqueFor   time.Duration // the lock lasts this at most, up to 30 days (0: the delay + 24 h, at most MaxKeySeconds; needs UniqueKey)
	OnceKey     string        // refused (AlreadyEnqueuedError) for OnceFor after the first enqueue
	OnceFor     time.Duration // up to MaxKeySeconds (0: 7 days; needs OnceKey)
	MaxAttempts int           // 1 to 1000 (0: the handler's default)
	Timeout     time.Duration // up to a day (0: the handler's default)
	Notify      bool          // the worker pushes the job's final outcome for WaitFor(job.ID, job.Queue, ...)
}

// Enqueued is what an enqueue did: Status "enqueued" (ready now) or "scheduled" (waiting for its run_at), the job's
// ID, and Queue, the queue it went to (the type's when Options named none), so that WaitFor(job.ID, job.Queue, ...)
// waits where the answer will be. Queue "" is not known (an Enqueued built by hand).
type Enqueued struct {
	Status string
	ID     string
	Queue  string
}

// Remembered is how many notify jobs' queues a Client keeps for WaitFor(id, "", ...) (the oldest is forgotten first).
const Remembered = 10000

var rememberLimit = Remembered // Remembered; the tests lower it

// Client talks the wire protocol over a redigo pool.
type Client struct {
	Pool      *redis.Pool
	Namespace string
	MaxBytes  int
	drained   sync.Map // group + consumer pairs whose unacknowledged events this client has handed back
	notify    notifyQueues
}

// notifyQueues is id -> queue of the notify jobs a Client enqueued, oldest first, for WaitFor without a queue. The
// zero value is ready: a Client may be built as a struct literal, without New.
type notifyQueues struct {
	mu    sync.Mutex
	order *list.List               // ids, oldest first
	byID  map[string]*list.Element // id -> its element, whose Value is [2]string{id, queue}
}

func (n *notifyQueues) remember(id, queue string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byID == nil {
		n.order, n.byID = list.New(), map[string]*list.Element{}
	}
	if e, ok := n.byID[id]; ok { // set again: the newest
		n.order.Remove(e)
	}
	n.byID[id] = n.order.PushBack([2]string{id, queue})
	for n.order.Len() > rememberLimit {
		oldest := n.order.Front()
		n.order.Remove(oldest)
		delete(n.byID, oldest.Value.([2]string)[0])
	}
}

func (n *notifyQueues) queue(id string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if e, ok := n.byID[id]; ok {
		return e.Value.([2]string)[1]
	}
	return ""
}

func (n *notifyQueues) forget(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if e, ok := n.byID[id]; ok {
		n.order.Remove(e)
		delete(n.byID, id)
	}
}

// New: namespace "" is HOOPOE_NAMESPACE, default "hoopoe" (the workers' setting, shared by every enqueuer). A namespace
// the workers refuse (a brace, a space, a control character: NamespaceProblem) makes every enqueue fail with an
// *InvalidJobError whose Field is "namespace".
func New(pool *redis.Pool, namespace string) *Client {
	if namespace == "" {
		namespace = DefaultNamespace()
	}
	return &Client{Pool: pool, Namespace: namespace, MaxBytes: MaxBytes}
}

// DefaultNamespace is HOOPOE_NAMESPACE, or "hoopoe".
func DefaultNamespace() string {
	if ns := os.Getenv("HOOPOE_NAMESPACE"); ns != "" {
		return ns
	}
	return "hoopoe"
}

// Key is "<namespace>:{<queue>}:<suffix>": every key of a queue carries the hash tag {queue} (one cluster slot).
func (c *Client) Key(queue, suffix string) string {
	return c.Namespace + ":{" + queue + "}:" + suffix
}

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID is a 26-character time-ordered id like Hoopoe's own (48 bits of milliseconds, 80 random, Crockford base32).
func NewID() string {
	ms := time.Now().UnixMilli()
	var b strings.Builder
	for i := 9; i >= 0; i-- {
		b.WriteByte(alphabet[(ms>>(5*uint(i)))&31])
	}
	for i := 0; i < 16; i++ {
		n, _ := rand.Int(rand.Reader, big.NewInt(32))
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String()
}

type envelope struct {
	ID          string      `json:"id"`
	Type        string      `json:"type"`
	Queue       string      `json:"queue"`
	Payload     interface{} `json:"payload"`
	Attempt     int         `json:"attempt"`
	EnqueuedAt  float64     `json:"enqueued_at"`
	RunAt       *float64    `json:"run_at,omitempty"`
	UniqueKey   *string     `json:"unique_key,omitempty"`
	UniqueFor   *float64    `json:"unique_for,omitempty"`
	MaxAttempts *int        `json:"max_attempts,omitempty"`
	Timeout     *float64    `json:"timeout,omitempty"`
	Notify      bool        `json:"notify,omitempty"`
}

type prepared struct {
	id, queue string
	body      []byte
	scripted  bool
	scheduled bool          // the envelope has a run_at in the future
	notify    bool          // the worker pushes its answer (Options.Notify)
	args      []interface{} // FCALL's arguments: the function, the key count, KEYS, then ARGV
}

// seconds is Unix seconds with a fraction (UnixNano would overflow after 2262, hiding a time sent in milliseconds).
func seconds(t time.Time) float64 { return float64(t.Unix()) + float64(t.Nanosecond())/1e9 }

func (c *Client) prepare(jobType string, payload interface{}, o Options) (*prepared, error) {
	if problem := NamespaceProblem(c.Namespace); problem != "" {
		return nil, &InvalidJobError{"namespace", problem}
	}
	now := time.Now()
	nowSeconds := seconds(now)
	id := o.ID
	if id == "" {
		id = NewID()
	}
	queue := o.Queue
	if queue == "" {
		// Not given: the type's queue (Queues, the table Jobs uses), as `hoopoe enqueue` picks it; "default" sent a
		// freecredit.request where a worker serving critical only never looked.
		queue = queueOf(jobType)
	}
	if isNothing(payload) {
		payload = map[string]interface{}{} // handlers expect an object
	}
	var runAt *float64
	if !o.At.IsZero() && o.In != 0 {
		return nil, &InvalidJobError{"run_at", "give At (a time) or In (a delay), not both"}
	}
	if !o.At.IsZero() {
		at := seconds(o.At)
		if problem := TimeProblem("run_at", at, true); problem != nil {
			return nil, problem
		}
		if at > nowSeconds {
			runAt = &at
		}
	} else if o.In < 0 {
		return nil, &InvalidJobError{"run_at", "a delay must be >= 0"}
	} else if o.In > 0 {
		at := nowSeconds + o.In.Seconds()
		runAt = &at
	}
	env := envelope{ID: id, Type: jobType, Queue: queue, Payload: payload, EnqueuedAt: nowSeconds, RunAt: runAt, Notify: o.Notify}
	if o.UniqueKey != "" {
		key := o.UniqueKey
		env.UniqueKey = &key
	}
	if problem := optionProblem(o, runAt, nowSeconds); problem != nil {
		return nil, problem
	}
	if o.UniqueFor > 0 {
		s := o.UniqueFor.Seconds()
		env.UniqueFor = &s
	}
	if o.MaxAttempts != 0 {
		n := o.MaxAttempts
		env.MaxAttempts = &n
	}
	if o.Timeout != 0 {
		s := o.Timeout.Seconds()
		env.Timeout = &s
	}
	body, err := encode(env)
	if err != nil { // only the payload can hold what JSON cannot carry: the envelope's other fields are typed and finite
		why := err.Error()
		var unsupported *json.UnsupportedValueError
		if errors.As(err, &unsupported) && (unsupported.Str == "NaN" || strings.HasSuffix(unsupported.Str, "Inf")) {
			why = unsupported.Str + ", which is not a JSON number"
		}
		return nil, &InvalidJobError{"payload", "payload is not JSON: " + why}
	}
	if problem := Problem(body, math.MaxInt); problem != nil {
		return nil, problem
	}
	limit := c.MaxBytes
	if limit <= 0 || limit > MaxBytes { // at most the workers' limit: they bury a larger envelope
		limit = MaxBytes
	}
	if len(body) > limit {
		return nil, &TooLargeError{len(body), limit}
	}
	p := &prepared{id: id, queue: queue, body: body, scheduled: runAt != nil, notify: o.Notify}
	if runAt == nil && o.UniqueKey == "" && o.OnceKey == "" {
		return p, nil
	}
	uniqueSeconds, onceSeconds, runAtArg := "", "", "0"
	uniqueKey, onceKey := "-", "-"
	if runAt != nil {
		runAtArg = strconv.FormatFloat(*runAt, 'f', 6, 64)
	}
	if o.UniqueKey != "" {
		uniqueKey = o.UniqueKey
		lock := o.UniqueFor.Seconds()
		if o.UniqueFor <= 0 {
			lock = day.Seconds()
			if runAt != nil {
				lock += math.Max(0, *runAt-nowSeconds)
			}
		}
		uniqueSeconds = strconv.FormatInt(int64(math.Ceil(lock)), 10)
	}
	if o.OnceKey != "" {
		onceKey = o.OnceKey
		onceFor := o.OnceFor
		if onceFor <= 0 {
			onceFor = onceDefault
		}
		onceSeconds = strconv.FormatInt(int64(math.Ceil(onceFor.Seconds())), 10)
	}
	p.scripted = true
	p.args = []interface{}{
		EnqueueFunction, 5, c.Key(queue, "stream"), c.Key(queue, "scheduled"), c.Key(queue, "scheduled:jobs"),
		c.Key(queue, "unique:"+uniqueKey), c.Key(queue, "once:"+onceKey),
		body, id, runAtArg, uniqueSeconds, onceSeconds, strconv.Itoa(limit),
	}
	return p, nil
}

// optionProblem is the first option of o that cannot mean what the caller asked (the option edges of jobs/PROTOCOL.md,
// "Enqueue options", that the envelope rules do not cover), or nil. Refused, not clamped or defaulted: each changed
// when or whether the job runs. runAt is the job's run time (nil: now). A zero value is "not given" (Options).
func optionProblem(o Options, runAt *float64, now float64) *InvalidJobError {
	if o.UniqueFor != 0 && o.UniqueKey == "" {
		return &InvalidJobError{"unique_for", "unique_for needs a unique_key: without one the job is not unique"}
	}
	if o.UniqueFor < 0 { // past 30 days: the envelope rules refuse it
		return &InvalidJobError{"unique_for", fmt.Sprintf("unique_for must be > 0 and <= 2592000 seconds (got %v)", o.UniqueFor.Seconds())}
	}
	if o.UniqueKey != "" && o.UniqueFor == 0 && runAt != nil && *runAt-now+day.Seconds() > MaxKeySeconds {
		return &InvalidJobError{"run_at", fmt.Sprintf("run_at is %.0f seconds ahead, too far for a unique job: its lock lasts until 24 h "+
			"after the run time, at most %d seconds (about 31 years); give unique_for or an earlier run_at", math.Ceil(*runAt-now), MaxKeySeconds)}
	}
	if o.OnceFor != 0 && o.OnceKey == "" {
		return &InvalidJobError{"once_for", "once_for needs a once_key: without one the job is not once-only"}
	}
	if o.OnceFor < 0 || o.OnceFor.Seconds() > MaxKeySeconds {
		return &InvalidJobError{"once_for", fmt.Sprintf("once_for must be > 0 and <= %d seconds, about 31 years (got %v)", MaxKeySeconds, o.OnceFor.Seconds())}
	}
	return nil
}

// isNothing reports whether a payload would be written as JSON null or []: nil, a typed nil in the interface (a nil
// map, slice or pointer: `payload == nil` is false for `map[string]interface{}(nil)`, which went as "payload":null and
// was buried), or an empty slice or array of any element type. Handlers expect an object, so these are sent as {}.
func isNothing(v interface{}) bool {
	if v == nil {
		return true
	}
	value := reflect.ValueOf(v)
	switch value.Kind() {
	case reflect.Map, reflect.Ptr, reflect.Interface:
		return value.IsNil()
	case reflect.Slice:
		return value.IsNil() || value.Len() == 0
	case reflect.Array:
		return value.Len() == 0
	}
	return false
}

func scriptResult(p *prepared, reply interface{}, err error) (Enqueued, error) {
	if err != nil {
		var redisError redis.Error
		if errors.As(err, &redisError) && strings.Contains(err.Error(), "HOOPOE too large") {
			return Enqueued{}, &TooLargeError{-1, -1}
		}
		if missing := libraryNotLoaded(err); missing != nil {
			return Enqueued{}, missing
		}
		return Enqueued{}, err
	}
	parts, err := redis.Strings(reply, nil)
	if err != nil || len(parts) != 2 {
		return Enqueued{}, fmt.Errorf("hoopoe: unexpected reply from the enqueue function: %v", reply)
	}
	if (parts[0] == "duplicate" || parts[0] == "once") && parts[1] == p.id {
		// The key is held by this very job: the same call sent again (the caller's retry after a lost reply).
		if p.scheduled {
			return Enqueued{"scheduled", p.id, p.queue}, nil
		}
		return Enqueued{"enqueued", p.id, p.queue}, nil
	}
	switch parts[0] {
	case "duplicate":
		return Enqueued{}, &DuplicateError{parts[1]}
	case "once":
		return Enqueued{}, &AlreadyEnqueuedError{parts[1]}
	}
	return Enqueued{Status: parts[0], ID: parts[1], Queue: p.queue}, nil
}

// Enqueue enqueues one job: one XADD when it is for now and neither unique nor once, else FCALL hoopoe_enqueue.
// Errors: *InvalidJobError, *TooLargeError, *DuplicateError, *AlreadyEnqueuedError, *LibraryNotLoadedError, or Redis's.
func (c *Client) Enqueue(jobType string, payload interface{}, o Options) (Enqueued, error) {
	p, err := c.prepare(jobType, payload, o)
	if err != nil {
		return Enqueued{}, err
	}
	c.remember(p)
	conn := c.Pool.Get()
	defer conn.Close()
	if !p.scripted {
		if _, err := conn.Do("XADD", c.Key(p.queue, "stream"), "*", "job", p.body); err != nil {
			return Enqueued{}, err
		}
		return Enqueued{"enqueued", p.id, p.queue}, nil
	}
	reply, err := conn.Do("FCALL", p.args...)
	return scriptResult(p, reply, err)
}

// EnqueueAt runs no earlier than at.
func (c *Client) EnqueueAt(jobType string, payload interface{}, at time.Time, o Options) (Enqueued, error) {
	o.At = at
	return c.Enqueue(jobType, payload, o)
}

// EnqueueIn runs no earlier than delay from now.
func (c *Client) EnqueueIn(jobType string, payload interface{}, delay time.Duration, o Options) (Enqueued, error) {
	o.In = delay
	return c.Enqueue(jobType, payload, o)
}

// EnqueueUnique is refused (*DuplicateError) while a job with key is pending or running.
func (c *Client) EnqueueUnique(jobType string, payload interface{}, key string, o Options) (Enqueued, error) {
	// "" would make it a plain job, with no lock: refused, as the Python and PHP clients refuse it.
	if key == "" {
		return Enqueued{}, &InvalidJobError{"unique_key", "unique_key is empty: a unique job needs its key"}
	}
	o.UniqueKey = key
	return c.Enqueue(jobType, payload, o)
}

// EnqueueOnce is refused (*AlreadyEnqueuedError) when key was used within o.OnceFor (default 7 days).
func (c *Client) EnqueueOnce(jobType string, payload interface{}, key string, o Options) (Enqueued, error) {
	// "" would make it a plain job, enqueued again by every call: refused, as the Python and PHP clients refuse it.
	if key == "" {
		return Enqueued{}, &InvalidJobError{"once_key", "once_key is empty: a once-only job needs its key"}
	}
	o.OnceKey = key
	return c.Enqueue(jobType, payload, o)
}

// Job is one entry of a batch.
type Job struct {
	Type    string
	Payload interface{}
	Options Options
}

// Result of one job of a batch: Enqueued, or Err (*DuplicateError, *AlreadyEnqueuedError, ...).
type Result struct {
	Enqueued
	Err error
}

// EnqueueBatch enqueues many jobs in one round trip; results are in order, a refused duplicate or once-key in its
// job's Err (it does not stop the others).
//
// Before anything is sent, an invalid or too large job returns an error, and so does *LibraryNotLoadedError when a
// job needs the function library (later, unique, once-only) and Redis lacks it (FCALL hoopoe_library_version 0
// first). After sending, Redis runs each job on its own: an error for one job (an error reply, e.g. WRONGTYPE) or a
// lost connection does not undo the others. Every reply is read, and the first such error is returned beside the
// results, which say what happened to each job: Enqueued (written), Err a *DuplicateError or *AlreadyEnqueuedError
// (not written), Err the job's own error (not written), or Err the connection's error when its reply never came (it
// may be in). An error while sending (redigo's Send or Flush: its buffer may already have gone out in part) is such a
// connection error for every job of the batch.
func (c *Client) EnqueueBatch(jobs []Job) ([]Result, error) {
	all := make([]*prepared, len(jobs))
	scripted := false
	for i, job := range jobs {
		p, err := c.prepare(job.Type, job.Payload, job.Options)
		if err != nil {
			return nil, fmt.Errorf("job %d: %w", i, err)
		}
		all[i] = p
		scripted = scripted || p.scripted
	}
	for _, p := range all {
		c.remember(p)
	}
	conn := c.Pool.Get()
	defer conn.Close()
	if scripted {
		// Plain FCALL of the read-only version function: the enqueuer's ACL (docs/operating.md) allows FCALL, not FCALL_RO.
		if _, err := conn.Do("FCALL", "hoopoe_library_version", 0); err != nil {
			if missing := libraryNotLoaded(err); missing != nil {
				return nil, missing
			}
			return nil, err
		}
	}
	// redigo writes its buffer out when it fills, before Flush: a Send or Flush that fails may leave any job of the
	// batch written, so each gets the error (its reply never came: it may be in), not a nil result.
	unsent := func(err error) ([]Result, error) {
		results := make([]Result, len(all))
		for i := range results {
			results[i] = Result{Err: err}
		}
		return results, err
	}
	for _, p := range all {
		var err error
		if p.scripted {
			err = conn.Send("FCALL", p.args...)
		} else {
			err = conn.Send("XADD", c.Key(p.queue, "stream"), "*", "job", p.body)
		}
		if err != nil {
			return unsent(err)
		}
	}
	if err := conn.Flush(); err != nil {
		return unsent(err)
	}
	results := make([]Result, len(all))
	var first error
	for i, p := range all {
		reply, err := conn.Receive()
		if !p.scripted {
			if results[i] = (Result{Enqueued: Enqueued{"enqueued", p.id, p.queue}}); err != nil {
				results[i] = Result{Err: err}
			}
		} else {
			enqueued, err := scriptResult(p, reply, err)
			results[i] = Result{Enqueued: enqueued, Err: err}
		}
		var dup *DuplicateError
		var once *AlreadyEnqueuedError
		if err := results[i].Err; err != nil && first == nil && !errors.As(err, &dup) && !errors.As(err, &once) {
			first = err
		}
	}
	return results, first
}

// WaitFor is the final outcome of a job enqueued with Notify: {id, type, queue, outcome, attempt, error?, deferred_to?}
// with outcome processed, discarded, deferred (deferred_to: the job enqueued in its place), dead or cancelled; nil when none came
// within timeout. Kept an hour after the job settled, and popped by
// the first waiter.
//
// queue is the queue the job went to: the Enqueued's Queue (WaitFor(job.ID, job.Queue, timeout)). "" is the queue this
// Client sent the id to: it keeps those of the last Remembered notify jobs it enqueued. An id it did not enqueue with
// Notify, with queue "", is an *InvalidJobError (Field "queue") before any wait: the answer is under the job's queue,
// and "default" for every job waited the whole timeout for an answer that was in critical (freecredit.request's queue).
func (c *Client) WaitFor(id, queue string, timeout time.Duration) (map[string]interface{}, error) {
	if queue == "" {
		if queue = c.notify.queue(id); queue == "" {
			return nil, &InvalidJobError{"queue", fmt.Sprintf("which queue job %s went to is not known: give the Queue of the "+
				"Enqueued that Enqueue returned, or the queue (a type's queue: Queues, else \"default\"); this Client keeps "+
				"the queues of the last %d notify jobs it enqueued", id, Remembered)}
		}
	}
	text, err := c.blpop(c.Key(queue, "answer:"+id), timeout)
	if text == "" || err != nil {
		return nil, err
	}
	c.notify.forget(id) // answered: the first waiter pops it, no second wait finds it
	var answer map[string]interface{}
	decoder := json.NewDecoder(strings.NewReader(text))
	decoder.UseNumber()
	return answer, decoder.Decode(&answer)
}

// remember keeps the queue of a notify job for WaitFor without a queue.
func (c *Client) remember(p *prepared) {
	if p.notify {
		c.notify.remember(p.id, p.queue)
	}
}

// blpop waits for key in BLPOPs of one second until timeout, each on a connection of its own from the pool: a wait
// must not depend on the connections' read timeout (a shorter one ends a long BLPOP with an i/o timeout and
// breaks that connection). It returns "" when nothing came.
func (c *Client) blpop(key string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		conn := c.Pool.Get()
		popped, err := redis.Strings(conn.Do("BLPOP", key, 1))
		conn.Close()
		var timedOut interface{ Timeout() bool }
		switch {
		case err == nil && len(popped) == 2:
			return popped[1], nil
		case err != nil && !errors.Is(err, redis.ErrNil) && !(errors.As(err, &timedOut) && timedOut.Timeout()):
			return "", err
		}
		if !time.Now().Before(deadline) {
			return "", nil
		}
	}
}

// WaitFreeCredit is the answer of a freecredit.request (status granted|rejected, ...), or nil when none came within
// timeout. It BLPOPs the request's notify list, then reads the result key (someone else may have popped it). The keys
// are the request id's alone: compare the answer's user_id with the user you asked for (an id another user's request
// was decided under gives that user's answer here). Jobs.FreeCredit does, and returns a *RequestIDReusedError.
func (c *Client) WaitFreeCredit(requestID string, timeout time.Duration) (map[string]interface{}, error) {
	text, err := c.blpop(c.Namespace+":{freecredit}:notify:"+requestID, timeout)
	if err != nil {
		return nil, err
	}
	if text == "" {
		return c.FreeCreditAnswer(requestID)
	}
	var answer map[string]interface{}
	return answer, json.Unmarshal([]byte(text), &answer)
}

// FreeCreditAnswer is the answer already decided under requestID (as WaitFreeCredit's), or nil when none is: one GET
// of the request's result key, kept FREECREDIT_RESULT_TTL_SECONDS (7 days) after the decision. Jobs.FreeCredit asks it
// before enqueueing, so a request id already answered (for this user or another) is settled at once.
func (c *Client) FreeCreditAnswer(requestID string) (map[string]interface{}, error) {
	conn := c.Pool.Get()
	defer conn.Close()
	stored, err := redis.String(conn.Do("GET", c.Namespace+":{freecredit}:result:"+requestID))
	if errors.Is(err, redis.ErrNil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var answer map[string]interface{}
	return answer, json.Unmarshal([]byte(stored), &answer)
}

// Event is one entry of <namespace>:events. Data keeps numbers as json.Number (integers stay exact); At is seconds;
// Job is the id of the job that wrote it (every event but job.dead; "" without it).
type Event struct {
	ID   string
	Type string
	Data map[string]interface{}
	At   float64
	Job  string
}

// DecodeEvent builds an Event from a stream entry's fields (type, data as JSON text, at as decimal text, job).
func DecodeEvent(id string, fields map[string]string) (Event, error) {
	decoder := json.NewDecoder(strings.NewReader(fields["data"]))
	decoder.UseNumber()
	var data map[string]interface{}
	if err := decoder.Decode(&data); err != nil {
		return Event{}, fmt.Errorf("event %s: data: %w", id, err)
	}
	at, err := strconv.ParseFloat(fields["at"], 64)
	if err != nil {
		return Event{}, fmt.Errorf("event %s: at: %w", id, err)
	}
	return Event{ID: id, Type: fields["type"], Data: data, At: at, Job: fields["job"]}, nil
}

// EventsKey is "<namespace>:events".
func (c *Client) EventsKey() string { return c.Namespace + ":events" }

// ReadEvents returns events after the stream id after ("$" = only new ones; then pass the last Event.ID back).
// block 0 does not block. A block is waited in XREADs of at most a second (see sliced), so it does not depend on
// the pool's read timeout; "$" is pinned to the stream's last id first, so no event between two slices is missed.
func (c *Client) ReadEvents(after string, count int, block time.Duration) ([]Event, error) {
	read := func(ms int64) ([]Event, error) {
		conn := c.Pool.Get()
		defer conn.Close()
		args := []interface{}{"COUNT", count}
		if ms > 0 {
			args = append(args, "BLOCK", ms)
		}
		args = append(args, "STREAMS", c.EventsKey(), after)
		return decodeStreams(conn.Do("XREAD", args...))
	}
	if block <= 0 {
		return read(0)
	}
	if after == "$" {
		conn := c.Pool.Get()
		last, err := redis.Values(conn.Do("XREVRANGE", c.EventsKey(), "+", "-", "COUNT", 1))
		conn.Close()
		if err != nil {
			return nil, err
		}
		after = "0-0"
		if len(last) > 0 {
			if entry, err := redis.Values(last[0], nil); err == nil && len(entry) > 0 {
				after, _ = redis.String(entry[0], nil)
			}
		}
	}
	return sliced(block, read)
}

// sliced calls read(ms) with ms at most 1000 until it returns events or block has passed: like blpop, a wait must
// not depend on the connections' read timeout (one shorter than the block ended a single long XREAD BLOCK with an
// i/o timeout). A slice cut short by that timeout counts as empty.
func sliced(block time.Duration, read func(ms int64) ([]Event, error)) ([]Event, error) {
	deadline := time.Now().Add(block)
	for {
		ms := time.Until(deadline).Milliseconds()
		if ms > 1000 {
			ms = 1000
		} else if ms < 1 {
			ms = 1
		}
		events, err := read(ms)
		var timedOut interface{ Timeout() bool }
		if err != nil && !(errors.As(err, &timedOut) && timedOut.Timeout()) {
			return nil, err
		}
		if len(events) > 0 || !time.Now().Before(deadline) {
			return events, nil
		}
	}
}

// CreateEventsGroup creates a consumer group on the events stream (once, at deploy) from start ("$" = new events
// only, "0" = everything kept). It returns false when the group exists already.
func (c *Client) CreateEventsGroup(group, start string) (bool, error) {
	conn := c.Pool.Get()
	defer conn.Close()
	_, err := conn.Do("XGROUP", "CREATE", c.EventsKey(), group, start, "MKSTREAM")
	if err != nil && strings.Contains(err.Error(), "BUSYGROUP") {
		return false, nil
	}
	return err == nil, err
}

// ReadEventsGroup returns new events for consumer of group (XREADGROUP ... >): a restart resumes where the group
// stopped. The first reads of this client give back what consumer read before but did not acknowledge (a reader that
// died between reading and AckEvents), so keep the consumer name stable (e.g. the host name). Acknowledge each
// handled one with AckEvents.
func (c *Client) ReadEventsGroup(group, consumer string, count int, block time.Duration) ([]Event, error) {
	pair := group + "\x00" + consumer
	if _, done := c.drained.Load(pair); !done {
		after := "0"
		for {
			conn := c.Pool.Get()
			pending, trimmed, last, err := decodeStreamEntries(conn.Do("XREADGROUP", "GROUP", group, consumer, "COUNT", count, "STREAMS", c.EventsKey(), after))
			// Trimmed by MAXLEN while pending, an entry comes back without fields: nothing to deliver, so it is
			// acknowledged and the catch-up goes on past it. Skipped and left pending, a first batch of only those ended
			// the catch-up, and the unacknowledged events after them were never given back.
			if err == nil && len(trimmed) > 0 {
				_, err = conn.Do("XACK", redis.Args{}.Add(c.EventsKey(), group).AddFlat(trimmed)...)
			}
			conn.Close()
			if err != nil || len(pending) > 0 {
				return pending, err
			}
			if last == "" {
				break
			}
			after = last
		}
		c.drained.Store(pair, true)
	}
	read := func(ms int64) ([]Event, error) {
		conn := c.Pool.Get()
		defer conn.Close()
		args := []interface{}{"GROUP", group, consumer, "COUNT", count}
		if ms > 0 {
			args = append(args, "BLOCK", ms)
		}
		args = append(args, "STREAMS", c.EventsKey(), ">")
		return decodeStreams(conn.Do("XREADGROUP", args...))
	}
	if block <= 0 {
		return read(0)
	}
	return sliced(block, read)
}

// AckEvents marks events handled by group (XACK); it returns how many were pending.
func (c *Client) AckEvents(group string, ids ...string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	conn := c.Pool.Get()
	defer conn.Close()
	args := []interface{}{c.EventsKey(), group}
	for _, id := range ids {
		args = append(args, id)
	}
	return redis.Int(conn.Do("XACK", args...))
}

// decodeStreams reads an XREAD/XREADGROUP reply of the events stream.
func decodeStreams(reply interface{}, err error) ([]Event, error) {
	events, _, _, err := decodeStreamEntries(reply, err)
	return events, err
}

// decodeStreamEntries returns the events of an XREAD or XREADGROUP reply, the ids of the entries that came back
// without fields (trimmed by MAXLEN while pending), and the reply's last entry id ("" when it has none).
func decodeStreamEntries(reply interface{}, err error) ([]Event, []string, string, error) {
	streams, err := redis.Values(reply, err)
	if errors.Is(err, redis.ErrNil) {
		return nil, nil, "", nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	var events []Event
	var trimmed []string
	last := ""
	for _, stream := range streams {
		pair, err := redis.Values(stream, nil)
		if err != nil || len(pair) != 2 {
			return nil, nil, "", fmt.Errorf("hoopoe: unexpected XREAD reply")
		}
		entries, err := redis.Values(pair[1], nil)
		if err != nil {
			return nil, nil, "", err
		}
		for _, entry := range entries {
			parts, err := redis.Values(entry, nil)
			if err != nil || len(parts) != 2 {
				return nil, nil, "", fmt.Errorf("hoopoe: unexpected XREAD entry")
			}
			id, _ := redis.String(parts[0], nil)
			last = id
			if parts[1] == nil { // an entry trimmed by MAXLEN while pending comes back without fields
				trimmed = append(trimmed, id)
				continue
			}
			fields, err := redis.StringMap(parts[1], nil)
			if err != nil {
				return nil, nil, "", err
			}
			event, err := DecodeEvent(id, fields)
			if err != nil {
				return nil, nil, "", err
			}
			events = append(events, event)
		}
	}
	return events, trimmed, last, nil
}
