package hoopoe

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
)

// The client's own behaviour against REDIS_URL's Redis (with the function library a worker loaded).

func testClient(t *testing.T, name string) *Client {
	t.Helper()
	return New(testPool(t), name+"-go-"+strconv.FormatInt(time.Now().UnixNano(), 36))
}

// A duplicate or once reply that names the id this call sent is the call's own job, enqueued before (the same call
// sent again after a lost reply): Enqueued, not a refusal. Another job's call is still refused.
func TestTheSameCallSentTwiceIsItsOwnJob(t *testing.T) {
	c := testClient(t, "again")
	payload := map[string]interface{}{"key": "k", "member": "m"}
	for _, o := range []Options{{UniqueKey: "again-u", ID: "again-1"}, {OnceKey: "again-o", ID: "again-2"}, {UniqueKey: "again-later", In: 10 * time.Minute, ID: "again-3"}} {
		want := Enqueued{"enqueued", o.ID, "default"}
		if o.In > 0 {
			want.Status = "scheduled"
		}
		for i := 0; i < 2; i++ {
			if got, err := c.Enqueue("diag.record", payload, o); err != nil || got != want {
				t.Errorf("%+v, call %d: %+v %v, want %+v", o, i+1, got, err, want)
			}
		}
	}
	results, err := c.EnqueueBatch([]Job{{"diag.record", payload, Options{OnceKey: "again-o", ID: "again-2"}}, {"diag.record", payload, Options{OnceKey: "again-o", ID: "other"}}})
	if err != nil || results[0].Err != nil || results[0].Enqueued != (Enqueued{"enqueued", "again-2", "default"}) {
		t.Errorf("in a batch: %+v %v", results, err)
	}
	var once *AlreadyEnqueuedError
	if err == nil && (!errors.As(results[1].Err, &once) || once.ExistingID != "again-2") {
		t.Errorf("another job: %+v", results[1])
	}
}

// Redis runs each job of a batch's pipeline on its own: one it refuses (WRONGTYPE) does not undo the others, and the
// results returned beside the error say which were written.
func TestAnErrorAfterABatchWasSentComesWithEveryJobsResult(t *testing.T) {
	c := testClient(t, "partial")
	conn := c.Pool.Get()
	defer conn.Close()
	if _, err := conn.Do("SET", c.Key("broken", "stream"), "not a stream"); err != nil {
		t.Fatal(err)
	}
	diag := func(member string) map[string]interface{} {
		return map[string]interface{}{"key": "k", "member": member}
	}
	results, err := c.EnqueueBatch([]Job{
		{"diag.record", diag("1"), Options{ID: "p-1"}},
		{"diag.record", diag("2"), Options{ID: "p-2", Queue: "broken"}},
		{"diag.record", diag("3"), Options{ID: "p-3", OnceKey: "p"}},
		{"diag.record", diag("4"), Options{ID: "p-4", OnceKey: "p"}},
	})
	if err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Fatalf("the error: %v", err)
	}
	var once *AlreadyEnqueuedError
	if len(results) != 4 || results[0] != (Result{Enqueued: Enqueued{"enqueued", "p-1", "default"}}) || results[1].Err != err ||
		results[2] != (Result{Enqueued: Enqueued{"enqueued", "p-3", "default"}}) || !errors.As(results[3].Err, &once) {
		t.Fatalf("results: %+v", results)
	}
	if n, _ := redis.Int(conn.Do("XLEN", c.Key("default", "stream"))); n != 2 {
		t.Errorf("%d jobs in the stream, want p-1 and p-3", n)
	}
}

// "" is unset, as the worker takes an empty HOOPOE_NAMESPACE.
func TestAnEmptyNamespaceIsUnset(t *testing.T) {
	saved, had := os.LookupEnv("HOOPOE_NAMESPACE")
	defer func() {
		if had {
			os.Setenv("HOOPOE_NAMESPACE", saved)
		} else {
			os.Unsetenv("HOOPOE_NAMESPACE")
		}
	}()
	os.Setenv("HOOPOE_NAMESPACE", "")
	if ns := New(nil, "").Namespace; ns != "hoopoe" {
		t.Errorf("HOOPOE_NAMESPACE= gives %q", ns)
	}
	os.Setenv("HOOPOE_NAMESPACE", "panel")
	if ns := New(nil, "").Namespace; ns != "panel" {
		t.Errorf("HOOPOE_NAMESPACE=panel gives %q", ns)
	}
}

// The worker refuses a namespace with a brace (its queues' keys carry {queue} as their hash tag), a space or a
// control character (Sources/hoopoe/GlobalOptions.swift, namespaceProblem): so does every enqueue of the client.
func TestANamespaceTheWorkerRefusesIsRefused(t *testing.T) {
	payload := map[string]interface{}{"key": "k", "member": "m"}
	for _, bad := range []string{"{hoopoe}", "hoo}poe", "my app", "tab\there", "new\nline", "nbsp\u00a0", "ideographic\u3000space", "del\x7f", "nul\x00"} {
		c := New(nil, bad) // no pool: refused before anything is sent
		_, err := c.Enqueue("diag.record", payload, Options{})
		_, batchErr := c.EnqueueBatch([]Job{{"diag.record", payload, Options{}}})
		var invalid *InvalidJobError
		if !errors.As(err, &invalid) || invalid.Field != "namespace" || !strings.Contains(err.Error(), "brace") || !errors.As(batchErr, &invalid) {
			t.Errorf("%q: %v / %v", bad, err, batchErr)
		}
	}
	for _, good := range []string{"hoopoe", "clients-123", "a:b.c_d", "هدهد"} {
		if p := NamespaceProblem(good); p != "" {
			t.Errorf("%q: %s", good, p)
		}
	}
}

// A payload JSON cannot carry (NaN, Infinity, a channel) is an *InvalidJobError naming the payload, like the other
// clients' InvalidJob, not encoding/json's own error.
func TestAPayloadJSONCannotCarryIsAnInvalidJob(t *testing.T) {
	c := New(nil, "checks") // no pool: refused before anything is sent
	for _, payload := range []interface{}{map[string]interface{}{"x": math.NaN()}, map[string]interface{}{"x": []float64{math.Inf(1)}}, map[string]interface{}{"c": make(chan int)}} {
		_, err := c.Enqueue("diag.record", payload, Options{})
		var invalid *InvalidJobError
		if !errors.As(err, &invalid) || invalid.Field != "payload" || !strings.Contains(err.Error(), "JSON") {
			t.Errorf("%v: %v", payload, err)
		}
	}
}

// encoding/json writes a json.Number, a json.RawMessage and a *big.Int as they are: one of 101 characters is refused
// (the worker refuses a number written in more than 100: Foundation's decoder traps on some longer ones), naming
// "number", before anything is sent. 100 characters, and digits in a string, pass.
func TestANumberWrittenInMoreThan100CharactersIsAnInvalidJob(t *testing.T) {
	c := New(nil, "checks") // no pool: refused before anything is sent
	googol, _ := new(big.Int).SetString("1"+strings.Repeat("0", 100), 10)
	for _, n := range []interface{}{json.Number("1" + strings.Repeat("0", 100)), json.RawMessage("-0." + strings.Repeat("1", 99)), googol} {
		_, err := c.Enqueue("diag.record", map[string]interface{}{"key": "k", "member": "m", "n": n}, Options{})
		var invalid *InvalidJobError
		if !errors.As(err, &invalid) || invalid.Field != "number" || !strings.Contains(err.Error(), "a number is written in more than 100 characters") {
			t.Errorf("%T: %v", n, err)
		}
		if _, err := c.EnqueueBatch([]Job{{Type: "diag.record", Payload: map[string]interface{}{"n": n}}}); !errors.As(err, &invalid) || invalid.Field != "number" {
			t.Errorf("%T in a batch: %v", n, err)
		}
	}
	for _, n := range []interface{}{json.Number("1" + strings.Repeat("0", 99)), strings.Repeat("9", 500), "\"" + strings.Repeat("9", 500)} {
		if _, err := c.prepare("diag.record", map[string]interface{}{"key": "k", "member": "m", "n": n}, Options{}); err != nil {
			t.Errorf("%.20v: %v", n, err)
		}
	}
}

// freecredit.request's user_id and request_id go into Redis keys: its handler takes 1-100 characters of
// A-Z a-z 0-9 . _ : - (KeySafe, Sources/HoopoeJobs/Support/DomainID.swift) and buries anything else, while the caller
// waits out its timeout. The helpers refuse them first.
// An empty unique or once key is refused, not taken as "no key" (a plain job, with no lock and no once-only guarantee).
func TestAnEmptyUniqueOrOnceKeyIsRefused(t *testing.T) {
	c := New(nil, "checks") // no pool: refused before anything is sent
	p := map[string]interface{}{"key": "k", "member": "m"}
	var invalid *InvalidJobError
	if _, err := c.EnqueueUnique("diag.record", p, "", Options{}); !errors.As(err, &invalid) || invalid.Field != "unique_key" {
		t.Errorf("EnqueueUnique with \"\": %v", err)
	}
	if _, err := c.EnqueueOnce("diag.record", p, "", Options{}); !errors.As(err, &invalid) || invalid.Field != "once_key" {
		t.Errorf("EnqueueOnce with \"\": %v", err)
	}
}

// An amount outside the handler's range buried the job while the caller waited (0 is the default; a negative one was
// silently taken as the default).
func TestFreeCreditAmountsTheHandlerRefusesAreRefusedBeforeSending(t *testing.T) {
	j := Jobs{Client: New(nil, "checks")} // no pool: refused before anything is sent
	for _, amount := range []int{-5, 1_000_000_001} {
		_, err := j.RequestFreeCredit("176", "r-1", amount)
		var invalid *InvalidJobError
		if !errors.As(err, &invalid) || invalid.Field != "payload.amount" {
			t.Errorf("RequestFreeCredit(amount %d): %v", amount, err)
		}
	}
}

func TestFreeCreditIDsTheHandlerRefusesAreRefusedBeforeSending(t *testing.T) {
	j := Jobs{Client: New(nil, "checks")} // no pool: refused before anything is sent
	for _, c := range []struct{ user, request, field string }{
		{"user 176", "r-1", "payload.user_id"}, {"176", "r/1", "payload.request_id"}, {"176", "سلام", "payload.request_id"},
		{"176", strings.Repeat("r", 101), "payload.request_id"}, {"", "r-1", "payload.user_id"}, {"176", "", "payload.request_id"},
	} {
		errs := map[string]error{}
		_, errs["RequestFreeCredit"] = j.RequestFreeCredit(c.user, c.request, 0)
		if c.request != "" { // FreeCredit makes a request id when given ""
			started := time.Now()
			_, errs["FreeCredit"] = j.FreeCredit(c.user, c.request, 0, 30*time.Second)
			if time.Since(started) > 5*time.Second {
				t.Errorf("FreeCredit(%q, %q) waited", c.user, c.request)
			}
		}
		for name, err := range errs {
			var invalid *InvalidJobError
			if !errors.As(err, &invalid) || invalid.Field != c.field || !strings.Contains(err.Error(), "A-Z a-z 0-9 . _ : -") {
				t.Errorf("%s(%q, %q): %v", name, c.user, c.request, err)
			}
		}
	}
}

// The gift helpers' ids go into Redis keys too (gift.granted, gift.used, gift.expire): the same rule, refused first.
func TestGiftIDsTheHandlerRefusesAreRefusedBeforeSending(t *testing.T) {
	j := Jobs{Client: New(nil, "checks")} // no pool: refused before anything is sent
	for _, c := range []struct{ user, gift, field string }{
		{"user 176", "g-1", "payload.user_id"}, {"176", "g/1", "payload.user_gift_id"}, {"176", "", "payload.user_gift_id"},
	} {
		errs := map[string]error{}
		_, errs["GiftGranted"] = j.GiftGranted(c.user, c.gift, time.Now().Add(time.Hour), "", "")
		_, errs["GiftUsed"] = j.GiftUsed(c.user, c.gift)
		_, errs["GiftExpire"] = j.GiftExpire(c.user, c.gift)
		for name, err := range errs {
			var invalid *InvalidJobError
			if !errors.As(err, &invalid) || invalid.Field != c.field {
				t.Errorf("%s(%q, %q): %v", name, c.user, c.gift, err)
			}
		}
	}
}

// A negative UniqueFor or OnceFor is refused, as the Python and PHP clients refuse unique_for / once_for <= 0 (it
// was ignored: the lock then lasted the default, a day or a week, not what the caller asked). Zero is "the default".
func TestANegativeLockDurationIsAnInvalidJob(t *testing.T) {
	c := New(nil, "checks") // no pool: refused before anything is sent
	payload := map[string]interface{}{"key": "k", "member": "m"}
	for _, want := range []struct {
		field string
		o     Options
	}{
		{"unique_for", Options{UniqueKey: "u", UniqueFor: -time.Second}},
		{"unique_for", Options{UniqueKey: "u", UniqueFor: -time.Second, In: time.Minute}},
		{"once_for", Options{OnceKey: "o", OnceFor: -time.Hour}},
	} {
		_, err := c.Enqueue("diag.record", payload, want.o)
		_, batchErr := c.EnqueueBatch([]Job{{"diag.record", payload, want.o}})
		var invalid *InvalidJobError
		if !errors.As(err, &invalid) || invalid.Field != want.field || !errors.As(batchErr, &invalid) {
			t.Errorf("%+v: %v / %v", want.o, err, batchErr)
		}
	}
}

// Go's Options cannot tell 0 or "" from "not given", so they are the defaults (the Options doc, jobs/PROTOCOL.md
// "Enqueue options"), where the other clients refuse them (the enqueue.json cases this client's conformance test skips):
// a new id, the queue "default", the handler's attempts and timeout, a lock of the delay + 24 h, a once-key of 7 days.
func TestZeroOptionsAreTheDefaults(t *testing.T) {
	c := testClient(t, "zero")
	conn := c.Pool.Get()
	defer conn.Close()
	payload := map[string]interface{}{"key": "k", "member": "m"}
	got, err := c.Enqueue("diag.record", payload, Options{ID: "", Queue: "", MaxAttempts: 0, Timeout: 0, UniqueKey: "zu", UniqueFor: 0, OnceKey: "zo", OnceFor: 0})
	if err != nil || got.Status != "enqueued" || len(got.ID) != 26 {
		t.Fatalf("%+v %v", got, err)
	}
	entries, _ := redis.Values(conn.Do("XRANGE", c.Key("default", "stream"), "-", "+"))
	if len(entries) != 1 {
		t.Fatalf("%d entries on default", len(entries))
	}
	parts, _ := redis.Values(entries[0], nil)
	fields, _ := redis.StringMap(parts[1], nil)
	var env map[string]interface{}
	if err := json.Unmarshal([]byte(fields["job"]), &env); err != nil || env["id"] != got.ID || env["queue"] != "default" {
		t.Errorf("envelope %s %v", fields["job"], err)
	}
	for _, absent := range []string{"max_attempts", "timeout", "unique_for"} {
		if _, present := env[absent]; present {
			t.Errorf("%s in %s", absent, fields["job"])
		}
	}
	uniqueTTL, _ := redis.Int(conn.Do("TTL", c.Key("default", "unique:zu")))
	onceTTL, _ := redis.Int(conn.Do("TTL", c.Key("default", "once:zo")))
	if uniqueTTL < 86340 || uniqueTTL > 86400 || onceTTL < 604740 || onceTTL > 604800 {
		t.Errorf("unique TTL %d (want a day), once TTL %d (want 7 days)", uniqueTTL, onceTTL)
	}
}

// failingConn is a redis.Conn whose failSend-th Send (or, with failFlush, its Flush) fails as a broken connection's
// write does: redigo may have written part of its buffer by then. Nothing reaches a Redis.
type failingConn struct {
	sends, failSend int
	failFlush       bool
	err             error
}

func (f *failingConn) Close() error { return nil }
func (f *failingConn) Err() error   { return f.err }
func (f *failingConn) Do(string, ...interface{}) (interface{}, error) {
	return nil, f.err // the library check before a batch with a once-only job: passed
}
func (f *failingConn) Send(string, ...interface{}) error {
	if f.sends++; f.sends == f.failSend {
		f.err = errors.New("write tcp 127.0.0.1:6379: write: broken pipe")
	}
	return f.err
}
func (f *failingConn) Flush() error {
	if f.failFlush && f.err == nil {
		f.err = errors.New("write tcp 127.0.0.1:6379: write: connection reset by peer")
	}
	return f.err
}
func (f *failingConn) Receive() (interface{}, error) {
	if f.err == nil {
		return nil, errors.New("failingConn: a reply was read after a failed write")
	}
	return nil, f.err
}

// A Send or Flush that fails may leave part of the batch written (redigo writes its buffer out when it fills): every
// job gets a Result with Err set (its reply never came: it may be in), as the README promises, not a nil slice.
func TestABatchThatFailsWhileSendingHasEveryJobsResult(t *testing.T) {
	payload := map[string]interface{}{"key": "k", "member": "m"}
	jobs := []Job{{"diag.record", payload, Options{}}, {"diag.record", payload, Options{OnceKey: "o"}}, {"diag.record", payload, Options{}}, {"diag.record", payload, Options{}}}
	for _, fake := range []*failingConn{{failSend: 3}, {failFlush: true}} {
		conn := fake
		c := New(&redis.Pool{Dial: func() (redis.Conn, error) { return conn, nil }}, "fails-while-sending")
		results, err := c.EnqueueBatch(jobs)
		if err == nil || err != fake.err {
			t.Errorf("send %d / flush %v: the error %v, want %v", fake.failSend, fake.failFlush, err, fake.err)
		}
		if len(results) != len(jobs) {
			t.Fatalf("send %d / flush %v: %d results for %d jobs: %+v", fake.failSend, fake.failFlush, len(results), len(jobs), results)
		}
		for i, r := range results {
			if r.Err != fake.err || r.Enqueued != (Enqueued{}) {
				t.Errorf("send %d / flush %v: job %d: %+v, want Err %v", fake.failSend, fake.failFlush, i, r, fake.err)
			}
		}
	}
}

// The answer is kept under the request id alone: user B asking with the id user A was answered under got A's answer
// ("granted, 93"), from the notify list or, after the wait, from the result key (the worker buries B's job). It is a
// *RequestIDReusedError naming neither A nor the amount. No worker reads this namespace.
func TestAnotherUsersFreeCreditAnswerIsRefused(t *testing.T) {
	c := testClient(t, "reused")
	j := Jobs{Client: c}
	conn := c.Pool.Get()
	defer conn.Close()
	theirs := `{"status":"granted","amount":93,"month_used":1,"user_id":"user-a-176","request_id":"r-1","at":1.5}`
	base := c.Namespace + ":{freecredit}"
	for _, where := range []string{"result", "notify"} {
		if _, err := conn.Do("DEL", base+":result:r-1", base+":notify:r-1"); err != nil {
			t.Fatal(err)
		}
		command := "SET"
		if where == "notify" {
			command = "LPUSH"
		}
		if _, err := conn.Do(command, base+":"+where+":r-1", theirs); err != nil {
			t.Fatal(err)
		}
		before, _ := redis.Int(conn.Do("XLEN", c.Key("critical", "stream")))
		answer, err := j.FreeCredit("user-b-177", "r-1", 0, time.Second)
		var reused *RequestIDReusedError
		if !errors.As(err, &reused) || reused.RequestID != "r-1" || answer != nil {
			t.Fatalf("%s: %v %v, want a *RequestIDReusedError", where, answer, err)
		}
		if after, _ := redis.Int(conn.Do("XLEN", c.Key("critical", "stream"))); where == "result" && after != before {
			t.Errorf("result: %d jobs enqueued for an id already answered (it waited the whole timeout), want none", after-before)
		}
		if strings.Contains(err.Error(), "user-a-176") || strings.Contains(err.Error(), "93") {
			t.Errorf("%s: the message names the other user's data: %v", where, err)
		}
	}
	if _, err := conn.Do("SET", base+":result:r-1", theirs); err != nil {
		t.Fatal(err)
	}
	before, _ := redis.Int(conn.Do("XLEN", c.Key("critical", "stream")))
	if answer, err := j.FreeCredit("user-a-176", "r-1", 0, time.Second); err != nil || answer["status"] != "granted" {
		t.Errorf("its own user: %v %v", answer, err)
	}
	if after, _ := redis.Int(conn.Do("XLEN", c.Key("critical", "stream"))); after != before {
		t.Errorf("its own user: %d jobs enqueued for a kept answer, want none", after-before)
	}
}

// subscription.upsert's optional email: the worker stores what each upsert sends, so a renewal through a helper that
// could not send it erased the stored address.
func TestTheSubscriptionEmailIsSentWhenGiven(t *testing.T) {
	c := testClient(t, "sub-email")
	j := Jobs{Client: c}
	s := Subscription{UserID: "176", Phone: "09121234567", FirstName: "Sara", ExpiresAt: time.Unix(1795400000, 0), ReceiptID: "r1"}
	with := s
	with.Email = "sara@example.com"
	for _, sub := range []Subscription{with, s} {
		if _, err := j.SubscriptionUpsert(sub); err != nil {
			t.Fatal(err)
		}
	}
	conn := c.Pool.Get()
	defer conn.Close()
	entries, err := redis.Values(conn.Do("XRANGE", c.Key("default", "stream"), "-", "+"))
	if err != nil || len(entries) != 2 {
		t.Fatalf("the stream: %v %v", entries, err)
	}
	var emails []interface{}
	for _, entry := range entries {
		parts, _ := redis.Values(entry, nil)
		fields, _ := redis.StringMap(parts[1], nil)
		var env struct{ Payload map[string]interface{} }
		if err := json.Unmarshal([]byte(fields["job"]), &env); err != nil {
			t.Fatal(err)
		}
		email, sent := env.Payload["email"]
		emails = append(emails, email, sent)
	}
	if fmt.Sprint(emails) != "[sara@example.com true <nil> false]" {
		t.Errorf("email, sent: %v", emails)
	}
}

// answer pushes the answer the worker would push for id on queue (jobs/PROTOCOL.md, "Answers").
func answer(t *testing.T, c *Client, id, queue string) {
	t.Helper()
	conn := c.Pool.Get()
	defer conn.Close()
	body := fmt.Sprintf(`{"id":%q,"type":"freecredit.request","queue":%q,"outcome":"processed","attempt":1}`, id, queue)
	if _, err := conn.Do("RPUSH", c.Key(queue, "answer:"+id), body); err != nil {
		t.Fatal(err)
	}
}

// WaitFor finds the job's queue: the Enqueued names it (WaitFor(job.ID, job.Queue, ...)), and the Client remembers the queues of the notify
// jobs it enqueued. It waited on "default" for a queue "": a freecredit.request (queue critical) enqueued with Notify
// and waited for without a queue waited its whole timeout, its answer in critical's key. An id whose queue is not
// known is refused before any wait; a queue given is waited on, as before. No worker serves this namespace: the
// answers are pushed here as the worker pushes them (worker_test.go waits for a real worker's).
func TestWaitForFindsTheJobsQueue(t *testing.T) {
	c := testClient(t, "wait")
	fc := func(request string, o Options) Enqueued {
		t.Helper()
		e, err := c.Enqueue("freecredit.request", map[string]interface{}{"user_id": "u", "request_id": request}, o)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if got := []string{fc("r0", Options{}).Queue, fc("r1", Options{Queue: "low"}).Queue, fc("r2", Options{In: time.Hour}).Queue}; strings.Join(got, " ") != "critical low critical" {
		t.Errorf("Enqueued.Queue: %v", got)
	}
	results, err := c.EnqueueBatch([]Job{{"freecredit.request", map[string]interface{}{"user_id": "u", "request_id": "r3"}, Options{}},
		{"diag.record", nil, Options{UniqueKey: "u1"}}})
	if err != nil || results[0].Queue != "critical" || results[1].Queue != "default" {
		t.Errorf("a batch's queues: %+v %v", results, err)
	}

	job := fc("r4", Options{Notify: true})
	answer(t, c, job.ID, "critical")
	started := time.Now()
	if got, err := c.WaitFor(job.ID, "", 3*time.Second); err != nil || got["id"] != job.ID {
		t.Errorf("the id alone (this Client sent it to critical): %v %v", got, err)
	}
	if time.Since(started) > 2*time.Second {
		t.Errorf("answered after %v: a wait on another queue first", time.Since(started))
	}
	second := fc("r5", Options{Notify: true})
	answer(t, c, second.ID, "critical")
	if got, err := New(c.Pool, c.Namespace).WaitFor(second.ID, second.Queue, 3*time.Second); err != nil || got["id"] != second.ID {
		t.Errorf("the Enqueued, another Client: %v %v", got, err)
	}
	answer(t, c, "by-hand", "low")
	if got, err := c.WaitFor("by-hand", "low", 3*time.Second); err != nil || got["id"] != "by-hand" {
		t.Errorf("a queue given: %v %v", got, err)
	}

	started = time.Now()
	for what, wait := range map[string]func() (map[string]interface{}, error){
		"an id never enqueued here": func() (map[string]interface{}, error) { return c.WaitFor("never-here", "", 5*time.Second) },
		"a job without notify":      func() (map[string]interface{}, error) { return c.WaitFor(fc("r6", Options{}).ID, "", 5*time.Second) },
		"another Client, the id alone": func() (map[string]interface{}, error) {
			return New(c.Pool, c.Namespace).WaitFor(fc("r7", Options{Notify: true}).ID, "", 5*time.Second)
		},
	} {
		var invalid *InvalidJobError
		if got, err := wait(); !errors.As(err, &invalid) || invalid.Field != "queue" || got != nil {
			t.Errorf("%s: %v %v, want an *InvalidJobError (queue)", what, got, err)
		}
	}
	if time.Since(started) > time.Second {
		t.Errorf("refused after %v, not before waiting", time.Since(started))
	}
}

// The queues of the oldest notify jobs are forgotten first, and an answered one at once.
func TestTheOldestRememberedQueueIsForgottenFirst(t *testing.T) {
	defer func(limit int) { rememberLimit = limit }(rememberLimit)
	rememberLimit = 2
	c := testClient(t, "forget")
	var ids []string
	for i := 0; i < 3; i++ {
		e, err := c.Enqueue("freecredit.request", map[string]interface{}{"user_id": "u", "request_id": fmt.Sprint("r", i)}, Options{Notify: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	var invalid *InvalidJobError
	if _, err := c.WaitFor(ids[0], "", 200*time.Millisecond); !errors.As(err, &invalid) {
		t.Errorf("the oldest: %v, want forgotten", err)
	}
	if got, err := c.WaitFor(ids[1], "", 200*time.Millisecond); got != nil || err != nil {
		t.Errorf("known, no answer yet: %v %v", got, err)
	}
	answer(t, c, ids[2], "critical")
	if got, err := c.WaitFor(ids[2], "", 3*time.Second); err != nil || got["id"] != ids[2] {
		t.Errorf("the newest: %v %v", got, err)
	}
	if q := c.notify.queue(ids[2]); q != "" {
		t.Errorf("answered, still kept: %q", q)
	}
}
