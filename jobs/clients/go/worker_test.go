package hoopoe

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
)

// This client against a real `hoopoe worker` (scripts/test-clients.sh starts one, with the fake providers, on
// HOOPOE_NAMESPACE; HOOPOE_CLOCK_KEY holds the domain clock at noon in Tehran): every job kind enqueued from Go runs,
// free credit is answered through WaitFreeCredit, and the events the jobs write conform to events.json.

func jobState(conn redis.Conn, c *Client, id string) string {
	if body, err := redis.String(conn.Do("HGET", c.Key("default", "dead:jobs"), id)); err == nil {
		var env map[string]interface{}
		_ = json.Unmarshal([]byte(body), &env)
		return fmt.Sprintf("dead: %v", env["dead_reason"])
	}
	if n, _ := redis.Int(conn.Do("HEXISTS", c.Key("default", "scheduled:jobs"), id)); n == 1 {
		return "scheduled"
	}
	entries, _ := redis.Values(conn.Do("XRANGE", c.Key("default", "stream"), "-", "+"))
	for _, entry := range entries {
		parts, _ := redis.Values(entry, nil)
		fields, _ := redis.StringMap(parts[1], nil)
		if strings.Contains(fields["job"], `"id":"`+id+`"`) {
			return "ready"
		}
	}
	return "done"
}

func waitDone(t *testing.T, conn redis.Conn, c *Client, ids []string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var pending map[string]string
	for time.Now().Before(deadline) {
		pending = map[string]string{}
		settled := true
		for _, id := range ids {
			if s := jobState(conn, c, id); s != "done" {
				pending[id] = s
				settled = settled && strings.HasPrefix(s, "dead")
			}
		}
		if settled {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(pending) > 0 {
		t.Fatalf("jobs not done: %v", pending)
	}
}

func must(t *testing.T) func(Enqueued, error) string {
	return func(e Enqueued, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
}

func TestEveryJobKindRunsAndItsEventsConform(t *testing.T) {
	if os.Getenv("HOOPOE_TEST_WORKER") != "1" {
		t.Skip("needs a worker: run scripts/test-clients.sh")
	}
	pool := testPool(t)
	conn := pool.Get()
	defer conn.Close()
	c := New(pool, "") // the namespace from HOOPOE_NAMESPACE, as a service would
	j := Jobs{Client: c}
	clock, err := redis.Float64(conn.Do("GET", os.Getenv("HOOPOE_CLOCK_KEY")))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(int64(clock), 0)
	u := "go" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	key := c.Namespace + ":" + u + ":diag"
	id := must(t)
	group := u + "-billing"
	if created, err := c.CreateEventsGroup(group, "$"); !created || err != nil {
		t.Fatalf("CreateEventsGroup: %v %v", created, err)
	}
	if created, err := c.CreateEventsGroup(group, "$"); created || err != nil {
		t.Fatalf("a second CreateEventsGroup: %v %v", created, err)
	}
	diag := func(member string) map[string]interface{} {
		return map[string]interface{}{"key": key, "member": member}
	}

	ids := []string{id(c.Enqueue("diag.record", diag("now"), Options{}))}
	later, err := c.EnqueueIn("diag.record", diag("later"), time.Second, Options{})
	if err != nil || later.Status != "scheduled" {
		t.Fatalf("EnqueueIn: %+v %v", later, err)
	}
	ids = append(ids, later.ID, id(c.EnqueueAt("diag.record", diag("at"), time.Now().Add(time.Second), Options{})))
	unique := diag("unique")
	unique["sleep_ms"] = 300
	ids = append(ids, id(c.EnqueueUnique("diag.record", unique, u+"-unique", Options{})))
	var dup *DuplicateError
	if _, err := c.EnqueueUnique("diag.record", diag("unique2"), u+"-unique", Options{}); !errors.As(err, &dup) || dup.ExistingID != ids[3] {
		t.Fatalf("a duplicate unique key: %v", err)
	}
	ids = append(ids, id(c.EnqueueOnce("diag.record", diag("once"), u+"-once", Options{})))
	var once *AlreadyEnqueuedError
	if _, err := c.EnqueueOnce("diag.record", diag("once2"), u+"-once", Options{}); !errors.As(err, &once) {
		t.Fatalf("a used once-key: %v", err)
	}
	results, err := c.EnqueueBatch([]Job{{Type: "diag.record", Payload: diag("b0")}, {Type: "diag.record", Payload: diag("b1")}, {Type: "diag.record", Payload: diag("b2")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		ids = append(ids, r.ID)
	}
	phone := fmt.Sprintf("0912%07d", time.Now().UnixNano()%10000000) // its own: sms.send caps messages a phone gets a day
	sms := SMS{MessageID: u + "-sms", Phone: phone, Template: "expiration_reminder", UserID: u + "-1", Purpose: "test",
		Tokens: map[string]string{"token10": "Sara", "token": "3", "token2": "1403/10/12", "token3": "https://kamva.ir/r/1"}}
	ids = append(ids, id(j.SMSSend(sms)))
	if _, err := j.SMSSend(sms); !errors.As(err, &once) {
		t.Fatalf("an SMS enqueued twice: %v", err)
	}
	// NotAfter past: the worker ends it failed (sms.failed, reason outdated), never sent.
	late := sms
	late.MessageID, late.NotAfter = u+"-sms-late", now.Add(-time.Minute)
	ids = append(ids, id(j.SMSSend(late)))
	email := Email{MessageID: u + "-email", Email: u + "@example.com", TemplateID: 17, Params: map[string]string{"first_name": "سارا"},
		Name: "Sara", UserID: u + "-1", Purpose: "test"}
	ids = append(ids, id(j.EmailSend(email)))
	if _, err := j.EmailSend(email); !errors.As(err, &once) {
		t.Fatalf("an email enqueued twice: %v", err)
	}
	ids = append(ids,
		id(j.SubscriptionUpsert(Subscription{UserID: u + "-1", Phone: phone, FirstName: "Sara", ExpiresAt: now.Add(20 * 24 * time.Hour), ReceiptID: "r1", Plan: "2", Email: u + "@example.com"})),
		id(j.CreditThresholdSet(u+"-1", "t1", 500, phone, "Sara", "")),
		id(j.CreditBalance(u+"-1", 320)),
		id(j.GiftGrantedAt(u+"-1", u+"-g1", now.Add(-time.Minute), now.Add(72*time.Hour), phone, "لایک")),
		id(j.GiftExpire(u+"-1", u+"-g2")),
		id(j.SendinblueRegister(Registration{UserID: u + "-1", Email: u + "@example.com", FirstName: "Josh", LastName: "Cruise", Company: "Co",
			Password: "Pa55w0rd65", Language: "en", Plan: map[string]interface{}{"id": "3", "credit": map[string]int{"email": 1200, "sms": 450}}})))
	for _, tick := range []string{"reminders.expiration", "reminders.low_credit", "sms.delivery_poll"} {
		ids = append(ids, id(c.Enqueue(tick, map[string]interface{}{"tick": now.Unix()}, Options{})))
	}
	answer, err := j.FreeCredit(u+"-1", u+"-fc1", 93, 30*time.Second)
	if err != nil || answer["status"] != "granted" || answer["amount"] != 93.0 {
		t.Fatalf("free credit: %v %v", answer, err)
	}
	again, err := j.FreeCredit(u+"-1", u+"-fc2", 0, 30*time.Second)
	if err != nil || again["status"] != "rejected" || again["reason"] != "cooldown" {
		t.Fatalf("free credit again: %v %v", again, err)
	}
	if kept, err := c.WaitFreeCredit(u+"-fc1", time.Second); err != nil || kept["status"] != "granted" {
		t.Fatalf("the kept result: %v %v", kept, err)
	}
	// Another user asking with the request id u-1 was answered under got u-1's answer from the result key while the
	// worker buried its job (freecredit.lua refuses another user's request id): refused, naming neither u-1 nor 93.
	var reused *RequestIDReusedError
	if other, err := j.FreeCredit(u+"-2", u+"-fc1", 0, 1500*time.Millisecond); !errors.As(err, &reused) || other != nil ||
		strings.Contains(err.Error(), u+"-1") || strings.Contains(strings.ReplaceAll(err.Error(), u+"-fc1", ""), "93") {
		t.Fatalf("another user's request id: %v %v", other, err)
	}
	// Notify: the final outcome of any job, done or dead, through WaitFor.
	done := id(c.Enqueue("diag.record", diag("notified"), Options{Notify: true, ID: u + "-notified"}))
	dies := id(c.Enqueue("diag.record", map[string]interface{}{"member": "no key"}, Options{Notify: true, ID: u + "-dies"}))
	spec := vectors(t, "events.json")["answer"].(map[string]interface{})
	for i, want := range []string{"processed", "dead"} {
		answer, err := c.WaitFor([]string{done, dies}[i], "default", 30*time.Second)
		if err != nil || answer["outcome"] != want {
			t.Fatalf("answer %d: %v %v", i, answer, err)
		}
		for field, kind := range spec["fields"].(map[string]interface{}) {
			if !jsonType(answer[field], kind.(string)) {
				t.Errorf("answer.%s = %v, want %v", field, answer[field], kind)
			}
		}
	}
	if readme := readmeExample(os.Getenv("REDIS_URL")); readme == nil {
		t.Error("README.md's example got no free-credit answer")
	}
	waitDone(t, conn, c, ids)
	if email, err := redis.String(conn.Do("HGET", c.Namespace+":{reminders}:sub:"+u+"-1", "email")); err != nil || email != u+"@example.com" {
		t.Errorf("the subscription's stored email: %q %v", email, err)
	}
	waitDone(t, conn, c, []string{id(j.GiftUsed(u+"-1", u+"-g1")), id(j.CreditThresholdDelete(u+"-1", "t1")), id(j.SubscriptionDelete(u + "-1"))})
	members, _ := redis.Strings(conn.Do("SMEMBERS", key))
	sort.Strings(members)
	if strings.Join(members, ",") != "at,b0,b1,b2,later,notified,now,once,unique" {
		t.Errorf("diag.record members: %v", members)
	}

	wanted := []string{"freecredit.granted", "freecredit.rejected", "sms.sent", "subscription.upserted", "subscription.deleted",
		"credit.threshold.saved", "credit.balance.recorded", "credit.threshold.deleted", "gift.expired", "sendinblue.registered", "job.dead", "email.sent", "sms.failed"}
	deadline := time.Now().Add(60 * time.Second)
	for {
		events, err := c.ReadEvents("0-0", 100000, 0)
		if err != nil {
			t.Fatal(err)
		}
		var mine []Event
		seen := map[string]bool{}
		for _, e := range events {
			for _, k := range []string{"user_id", "message_id", "request_id", "job_id"} {
				if s, ok := e.Data[k].(string); ok && strings.HasPrefix(s, u) {
					mine = append(mine, e)
					seen[e.Type] = true
					break
				}
			}
		}
		missing := []string{}
		for _, w := range wanted {
			if !seen[w] {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			doc := vectors(t, "events.json")
			for _, e := range mine {
				if p := eventProblems(e, doc); len(p) > 0 {
					t.Errorf("%v", p)
				}
			}
			// The group, created before the jobs ran, got every one of this run's events; acknowledged, none is pending.
			grouped, err := c.ReadEventsGroup(group, "reader-1", 100000, 0)
			if err != nil {
				t.Fatal(err)
			}
			var groupIDs []string
			seenByGroup := map[string]bool{}
			for _, e := range grouped {
				groupIDs = append(groupIDs, e.ID)
				seenByGroup[e.ID] = true
			}
			for _, e := range mine {
				if !seenByGroup[e.ID] {
					t.Errorf("the group missed %s %s", e.ID, e.Type)
				}
			}
			var smsOutcomes []string
			for _, e := range mine {
				if m, _ := e.Data["message_id"].(string); (e.Type == "sms.sent" || e.Type == "sms.failed") && (m == u+"-sms" || m == u+"-sms-late") {
					reason, _ := e.Data["reason"].(string)
					smsOutcomes = append(smsOutcomes, e.Type+" "+strings.TrimPrefix(m, u)+" "+strings.SplitN(reason, ":", 2)[0])
				}
			}
			sort.Strings(smsOutcomes)
			if got := strings.Join(smsOutcomes, ", "); got != "sms.failed -sms-late outdated, sms.sent -sms " {
				t.Errorf("the SMS past its NotAfter: %q", got)
			}
			if n, err := c.AckEvents(group, groupIDs...); err != nil || n != len(grouped) {
				t.Errorf("AckEvents: %d %v, want %d", n, err, len(grouped))
			}
			if again, err := c.ReadEventsGroup(group, "reader-1", 10, 0); err != nil || len(again) != 0 {
				t.Errorf("after the acknowledgement: %v %v", again, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events missing: %v (mine: %v)", missing, mine)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A freecredit.request enqueued with Notify goes to critical (its type's queue), and the worker pushes its answer
// there: WaitFor with queue "" waited on "default" for the whole timeout and returned nil. The id this Client enqueued
// is known, and the Enqueued's Queue is the one to wait on, whichever Client waits.
func TestANotifyJobIsWaitedForOnItsTypesQueue(t *testing.T) {
	if os.Getenv("HOOPOE_TEST_WORKER") != "1" {
		t.Skip("needs a worker: run scripts/test-clients.sh")
	}
	c := New(testPool(t), "")
	u := "wq-go" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36) // not prefixed "go": TestEveryJobKind's events are those
	request := func(n string) Enqueued {
		t.Helper()
		e, err := c.Enqueue("freecredit.request", map[string]interface{}{"user_id": u + "-" + n, "request_id": u + "-r" + n}, Options{Notify: true})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	job := request("1")
	answer, err := c.WaitFor(job.ID, "", 20*time.Second)
	if err != nil || answer == nil || answer["id"] != job.ID || answer["queue"] != "critical" || answer["outcome"] != "processed" {
		t.Fatalf("the answer, by id: %v %v", answer, err)
	}
	second := request("2")
	answer, err = New(c.Pool, "").WaitFor(second.ID, second.Queue, 20*time.Second)
	if err != nil || answer == nil || answer["id"] != second.ID || answer["queue"] != "critical" || answer["outcome"] != "processed" {
		t.Fatalf("the answer, by Enqueued: %v %v", answer, err)
	}
}

// A wait longer than the connections' read timeout ends in nil, not an error.
func TestWaitsLongerThanTheReadTimeout(t *testing.T) {
	if os.Getenv("HOOPOE_TEST_WORKER") != "1" {
		t.Skip("needs a worker: run scripts/test-clients.sh")
	}
	pool := &redis.Pool{Dial: func() (redis.Conn, error) {
		return redis.DialURL(os.Getenv("REDIS_URL"), redis.DialReadTimeout(time.Second))
	}}
	c := New(pool, "")
	started := time.Now()
	if answer, err := c.WaitFor("go-never", "default", 2500*time.Millisecond); answer != nil || err != nil {
		t.Fatalf("%v %v", answer, err)
	}
	if time.Since(started) < 2400*time.Millisecond {
		t.Errorf("returned after %v", time.Since(started))
	}
	// Event reads with a block longer than the read timeout: nothing new is nil (not an i/o timeout), and an event
	// written during the wait is returned. A namespace of its own: no worker writes these events.
	c = New(pool, "go-slices-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	for i, read := range []func() ([]Event, error){
		func() ([]Event, error) { return c.ReadEvents("$", 10, 2500*time.Millisecond) },
		func() ([]Event, error) { return c.ReadEventsGroup("go-slices", "go-reader", 10, 2500*time.Millisecond) },
	} {
		if i == 1 {
			if _, err := c.CreateEventsGroup("go-slices", "$"); err != nil {
				t.Fatal(err)
			}
		}
		started = time.Now()
		if events, err := read(); len(events) != 0 || err != nil {
			t.Fatalf("an empty wait gave %v %v", events, err)
		}
		if time.Since(started) < 2400*time.Millisecond {
			t.Errorf("an empty event wait returned after %v", time.Since(started))
		}
		go func() {
			time.Sleep(1500 * time.Millisecond)
			conn := pool.Get()
			defer conn.Close()
			conn.Do("XADD", c.EventsKey(), "*", "type", "go.slices", "data", "{}", "at", "1.5")
		}()
		events, err := read()
		if err != nil || len(events) != 1 || events[0].Type != "go.slices" {
			t.Fatalf("the event written during the wait: %v %v", events, err)
		}
	}
}

// A reader that died between ReadEventsGroup and AckEvents gets those events again when it restarts under the same
// consumer name; acknowledged, they are gone.
func TestEventsTrimmedWhilePendingDoNotHideTheOnesAfterThem(t *testing.T) {
	if os.Getenv("HOOPOE_TEST_WORKER") != "1" {
		t.Skip("needs a worker: run scripts/test-clients.sh")
	}
	pool := testPool(t)
	ns := "go-trimmed-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	before := New(pool, ns)
	if ok, err := before.CreateEventsGroup("kingfisher", "$"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	conn := pool.Get()
	defer conn.Close()
	var ids []interface{}
	for _, n := range []string{"one", "two", "three"} {
		id, err := redis.String(conn.Do("XADD", before.EventsKey(), "*", "type", "test."+n, "data", "{}", "at", "1.5"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if events, err := before.ReadEventsGroup("kingfisher", "host-1", 3, 0); err != nil || len(events) != 3 {
		t.Fatal(events, err)
	}
	if _, err := conn.Do("XDEL", append([]interface{}{before.EventsKey()}, ids[:2]...)...); err != nil { // trimmed while pending
		t.Fatal(err)
	}
	after := New(pool, ns) // the restarted reader
	events, err := after.ReadEventsGroup("kingfisher", "host-1", 2, 0)
	if err != nil || len(events) != 1 || events[0].Type != "test.three" {
		t.Fatalf("want test.three after the trimmed ones: %v %v", events, err)
	}
}

func TestARestartedGroupReaderGetsBackWhatItDidNotAcknowledge(t *testing.T) {
	if os.Getenv("HOOPOE_TEST_WORKER") != "1" {
		t.Skip("needs a worker: run scripts/test-clients.sh")
	}
	pool := testPool(t)
	ns := "go-restart-" + strconv.FormatInt(time.Now().UnixNano(), 36) // no worker writes these events
	before := New(pool, ns)
	if ok, err := before.CreateEventsGroup("kingfisher", "$"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	conn := pool.Get()
	for _, n := range []string{"one", "two"} {
		if _, err := conn.Do("XADD", before.EventsKey(), "*", "type", "test."+n, "data", "{}", "at", "1.5"); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	types := func(events []Event, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, e := range events {
			out = append(out, e.Type)
		}
		return out
	}
	if got := types(before.ReadEventsGroup("kingfisher", "host-1", 100, 0)); strings.Join(got, ",") != "test.one,test.two" {
		t.Fatalf("first read: %v", got)
	}
	after := New(pool, ns) // the restarted reader, nothing acknowledged
	again, err := after.ReadEventsGroup("kingfisher", "host-1", 100, 1500*time.Millisecond)
	if got := types(again, err); strings.Join(got, ",") != "test.one,test.two" {
		t.Fatalf("read again after the restart: %v", got)
	}
	if _, err := after.AckEvents("kingfisher", again[0].ID, again[1].ID); err != nil {
		t.Fatal(err)
	}
	if got := types(after.ReadEventsGroup("kingfisher", "host-1", 100, 0)); len(got) != 0 {
		t.Fatalf("left: %v", got)
	}
	if got := types(New(pool, ns).ReadEventsGroup("kingfisher", "host-1", 100, 0)); len(got) != 0 {
		t.Fatalf("left after another restart: %v", got)
	}
}

// lonePool connects to the Redis for tests that delete the function library, loaded with it: HOOPOE_TEST_LONE_REDIS,
// a unix socket scripts/test-clients.sh serves with no worker on it. On REDIS_URL's Redis the worker's keeper loads
// the library again every 15 s: a reload between a test's FUNCTION DELETE and its enqueue made the enqueue succeed.
// The test fails (it is not skipped) when the script did not start that Redis.
func lonePool(t *testing.T) *redis.Pool {
	t.Helper()
	socket := os.Getenv("HOOPOE_TEST_LONE_REDIS")
	if socket == "" || os.Getenv("HOOPOE_BIN") == "" {
		t.Fatal("HOOPOE_TEST_LONE_REDIS and HOOPOE_BIN unset: run scripts/test-clients.sh")
	}
	pool := &redis.Pool{MaxIdle: 2, Dial: func() (redis.Conn, error) { return redis.Dial("unix", socket) }}
	t.Cleanup(func() { pool.Close() })
	loadFunctions(t)
	return pool
}

// loadFunctions runs `hoopoe functions load` on the lone Redis (lonePool), as the README tells users to.
func loadFunctions(t *testing.T) {
	t.Helper()
	url := "unix://" + os.Getenv("HOOPOE_TEST_LONE_REDIS")
	if out, err := exec.Command(os.Getenv("HOOPOE_BIN"), "functions", "load", "--redis-url", url).CombinedOutput(); err != nil {
		t.Fatalf("hoopoe functions load: %v %s", err, out)
	}
}

// A batch with a job that needs the function library fails with *LibraryNotLoadedError before anything is sent, so
// the documented remedy (load the library, send the batch again) does not enqueue its plain jobs twice. On the lone
// Redis: on the worker's, its keeper could load the library before the batch, which then wrote its jobs twice.
func TestABatchWithoutTheFunctionLibrarySendsNothing(t *testing.T) {
	if os.Getenv("HOOPOE_TEST_WORKER") != "1" {
		t.Skip("needs a worker: run scripts/test-clients.sh")
	}
	c := New(lonePool(t), "nolib-go-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	conn := c.Pool.Get()
	defer conn.Close()
	diag := func(member string) map[string]interface{} {
		return map[string]interface{}{"key": "k", "member": member}
	}
	batch := []Job{{"diag.record", diag("1"), Options{ID: "nolib-plain"}}, {"diag.record", diag("2"), Options{ID: "nolib-unique", UniqueKey: "nolib"}}}
	if _, err := conn.Do("FUNCTION", "DELETE", "hoopoe"); err != nil {
		t.Fatal(err)
	}
	_, err := c.EnqueueBatch(batch)
	n, _ := redis.Int(conn.Do("XLEN", c.Key("default", "stream")))
	loadFunctions(t)
	var missing *LibraryNotLoadedError
	if !errors.As(err, &missing) || n != 0 {
		t.Fatalf("without the library: %v, %d jobs written", err, n)
	}
	if results, err := c.EnqueueBatch(batch); err != nil || len(results) != 2 {
		t.Fatalf("sent again: %+v %v", results, err)
	}
	if n, _ := redis.Int(conn.Do("XLEN", c.Key("default", "stream"))); n != 2 {
		t.Errorf("%d jobs in the stream, want each once", n)
	}
}

// Without the function library (a Redis restarted without persistence forgets it) an enqueue that needs
// hoopoe_enqueue fails with *LibraryNotLoadedError saying what to do; `hoopoe functions load` brings it back. On the
// lone Redis, as above.
func TestAMissingFunctionLibraryIsAClearErrorUntilItIsLoaded(t *testing.T) {
	if os.Getenv("HOOPOE_TEST_WORKER") != "1" {
		t.Skip("needs a worker: run scripts/test-clients.sh")
	}
	pool := lonePool(t)
	conn := pool.Get()
	defer conn.Close()
	c := New(pool, "")
	payload := map[string]interface{}{"key": "go-nolib", "member": "later"}
	if _, err := conn.Do("FUNCTION", "DELETE", "hoopoe"); err != nil {
		t.Fatal(err)
	}
	var missing *LibraryNotLoadedError
	if _, err := c.EnqueueIn("diag.record", payload, time.Hour, Options{}); !errors.As(err, &missing) || !strings.Contains(err.Error(), "hoopoe functions load") {
		t.Errorf("EnqueueIn without the library: %v", err)
	}
	if _, err := c.EnqueueBatch([]Job{{Type: "diag.record", Payload: payload, Options: Options{UniqueKey: "go-nolib"}}}); !errors.As(err, &missing) {
		t.Errorf("EnqueueBatch without the library: %v", err)
	}
	loadFunctions(t)
	done, err := c.EnqueueIn("diag.record", payload, time.Hour, Options{})
	if err != nil || done.Status != "scheduled" {
		t.Fatalf("after hoopoe functions load: %+v %v", done, err)
	}
	conn.Do("ZREM", c.Key("default", "scheduled"), done.ID)
}
