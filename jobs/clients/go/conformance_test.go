package hoopoe

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
)

// jobs/conformance/*.json against this client: the same vectors the Swift, Python and PHP tests read.

func vectors(t *testing.T, name string) map[string]interface{} {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", "conformance", name))
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, string(text)).(map[string]interface{})
}

func decodeJSON(t *testing.T, text string) interface{} {
	t.Helper()
	decoder := json.NewDecoder(strings.NewReader(text))
	decoder.UseNumber()
	var value interface{}
	if err := decoder.Decode(&value); err != nil {
		t.Fatalf("%v: %s", err, text)
	}
	return value
}

func same(a, b interface{}) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func num(v interface{}) float64 {
	f, _ := v.(json.Number).Float64()
	return f
}

func testPool(t *testing.T) *redis.Pool {
	t.Helper()
	address := os.Getenv("REDIS_URL")
	if address == "" {
		address = "redis://127.0.0.1:6379/0"
	}
	u, err := url.Parse(address)
	if err != nil {
		t.Fatal(err)
	}
	return &redis.Pool{MaxIdle: 4, Dial: func() (redis.Conn, error) { return redis.DialURL(u.String()) }}
}

func TestEveryEnvelopeCase(t *testing.T) {
	doc := vectors(t, "envelopes.json")
	maxBytes := int(num(doc["max_bytes"]))
	cases := doc["cases"].([]interface{})
	if len(cases) < 50 {
		t.Fatal("too few cases")
	}
	for _, raw := range cases {
		c := raw.(map[string]interface{})
		var text string
		switch {
		case c["json"] != nil:
			text = c["json"].(string)
		case c["sized"] != nil:
			s := c["sized"].(map[string]interface{})
			prefix, suffix := s["prefix"].(string), s["suffix"].(string)
			text = prefix + strings.Repeat(s["fill"].(string), int(num(s["total_bytes"]))-len(prefix)-len(suffix)) + suffix
		default:
			b, _ := encode(c["envelope"])
			text = string(b)
		}
		problem := Problem([]byte(text), maxBytes)
		if c["valid"].(bool) {
			if problem != nil {
				t.Errorf("%s: refused: %v", c["name"], problem)
			}
		} else if problem == nil {
			t.Errorf("%s: accepted", c["name"])
		} else if problem.Field != c["field"] {
			t.Errorf("%s: field %s, want %s (%s)", c["name"], problem.Field, c["field"], problem.Message)
		}
	}
}

func callOf(call map[string]interface{}) (string, interface{}, Options) {
	o := Options{}
	str := func(k string) string { s, _ := call[k].(string); return s }
	o.Queue, o.ID, o.UniqueKey, o.OnceKey = str("queue"), str("id"), str("unique_key"), str("once_key")
	dur := func(k string) time.Duration { return time.Duration(num(call[k]) * float64(time.Second)) }
	if call["in"] != nil {
		o.In = dur("in")
	}
	if call["at_from_now"] != nil {
		o.At = time.Now().Add(dur("at_from_now"))
	}
	if call["at"] != nil {
		o.At = time.Unix(int64(num(call["at"])), 0)
	}
	if call["unique_for"] != nil {
		o.UniqueFor = dur("unique_for")
	}
	if call["once_for"] != nil {
		o.OnceFor = dur("once_for")
	}
	if call["max_attempts"] != nil {
		o.MaxAttempts = int(num(call["max_attempts"]))
	}
	if call["timeout"] != nil {
		o.Timeout = dur("timeout")
	}
	o.Notify, _ = call["notify"].(bool)
	payload := call["payload"].(map[string]interface{})
	if call["payload_member_bytes"] != nil {
		payload["member"] = strings.Repeat("x", int(num(call["payload_member_bytes"])))
	}
	return call["type"].(string), payload, o
}

func checkEnvelope(t *testing.T, what, body string, spec map[string]interface{}) {
	t.Helper()
	env := decodeJSON(t, body).(map[string]interface{})
	now := float64(time.Now().UnixNano()) / 1e9
	if want, ok := spec["envelope"].(map[string]interface{}); ok {
		for k, v := range want {
			if !same(v, env[k]) {
				t.Errorf("%s: envelope.%s = %v, want %v", what, k, env[k], v)
			}
		}
	}
	for _, k := range asList(spec["now"]) {
		if math.Abs(num(env[k.(string)])-now) > 60 {
			t.Errorf("%s: %s is not now", what, k)
		}
	}
	if fromNow, ok := spec["from_now"].(map[string]interface{}); ok {
		for k, offset := range fromNow {
			if math.Abs(num(env[k])-now-num(offset)) > 60 {
				t.Errorf("%s: %s is not now + %v", what, k, offset)
			}
		}
	}
	for _, k := range asList(spec["absent"]) {
		if _, present := env[k.(string)]; present {
			t.Errorf("%s: %s is present", what, k)
		}
	}
}

func asList(v interface{}) []interface{} { l, _ := v.([]interface{}); return l }

func checkWrites(t *testing.T, conn redis.Conn, ns, what string, step map[string]interface{}) {
	t.Helper()
	sub := func(k interface{}) string { return strings.ReplaceAll(k.(string), "{ns}", ns) }
	if spec, ok := step["stream"].(map[string]interface{}); ok {
		entries, _ := redis.Values(conn.Do("XRANGE", sub(spec["key"]), "-", "+"))
		if len(entries) != int(num(spec["count"])) {
			t.Errorf("%s: %d stream entries, want %v", what, len(entries), spec["count"])
		} else if len(entries) > 0 {
			parts, _ := redis.Values(entries[len(entries)-1], nil)
			fields, _ := redis.StringMap(parts[1], nil)
			checkEnvelope(t, what, fields["job"], spec)
		}
	}
	if spec, ok := step["zset"].(map[string]interface{}); ok {
		score, err := redis.Float64(conn.Do("ZSCORE", sub(spec["key"]), spec["member"]))
		if err != nil || math.Abs(score-float64(time.Now().Unix())-num(spec["score_from_now"])) > 60 {
			t.Errorf("%s: score %v %v", what, score, err)
		}
	}
	if spec, ok := step["hash"].(map[string]interface{}); ok {
		body, err := redis.String(conn.Do("HGET", sub(spec["key"]), spec["field"]))
		if err != nil {
			t.Errorf("%s: no hash field: %v", what, err)
		} else {
			checkEnvelope(t, what, body, spec)
		}
	}
	if spec, ok := step["string"].(map[string]interface{}); ok {
		value, _ := redis.String(conn.Do("GET", sub(spec["key"])))
		ttl, _ := redis.Int(conn.Do("TTL", sub(spec["key"])))
		bounds := spec["ttl_between"].([]interface{})
		if value != spec["value"] || float64(ttl) < num(bounds[0]) || float64(ttl) > num(bounds[1]) {
			t.Errorf("%s: %s = %q ttl %d", what, spec["key"], value, ttl)
		}
	}
	for _, key := range asList(step["missing"]) {
		if n, _ := redis.Int(conn.Do("EXISTS", sub(key))); n != 0 {
			t.Errorf("%s: %s exists", what, key)
		}
	}
}

func checkError(t *testing.T, what string, err error, spec map[string]interface{}) {
	t.Helper()
	kind, _ := spec["kind"].(string)
	if kind == "" {
		kind, _ = spec["error"].(string)
	}
	var existing, field string
	var dup *DuplicateError
	var once *AlreadyEnqueuedError
	var large *TooLargeError
	var invalid *InvalidJobError
	ok := false
	switch kind {
	case "duplicate":
		if ok = errors.As(err, &dup); ok {
			existing = dup.ExistingID
		}
	case "once":
		if ok = errors.As(err, &once); ok {
			existing = once.ExistingID
		}
	case "too_large":
		ok = errors.As(err, &large)
	case "invalid":
		if ok = errors.As(err, &invalid); ok {
			field = invalid.Field
		}
	}
	if !ok {
		t.Errorf("%s: error %v, want %s", what, err, kind)
		return
	}
	if want, has := spec["existing_id"]; has && want != existing {
		t.Errorf("%s: existing id %s, want %v", what, existing, want)
	}
	if want, has := spec["field"]; has && want != field {
		t.Errorf("%s: field %s, want %v", what, field, want)
	}
}

// zeroOption names an option a call gives as its Options field's zero value (0, ""), which Go takes as "not given"
// (the Options doc): such a call is the default here, not the refusal the vectors expect of the other clients.
func zeroOption(call map[string]interface{}) string {
	for _, k := range []string{"id", "queue", "max_attempts", "timeout", "unique_for", "once_for"} {
		switch v := call[k].(type) {
		case string:
			if v == "" {
				return k
			}
		case json.Number:
			if num(v) == 0 {
				return k
			}
		}
	}
	return ""
}

// resultIs reports whether got has the result's status and id, and its queue where the vector names one.
func resultIs(got Enqueued, want map[string]interface{}) bool {
	queue, named := want["queue"].(string)
	return got.Status == want["status"].(string) && got.ID == want["id"].(string) && (!named || got.Queue == queue)
}

func TestEveryEnqueueCase(t *testing.T) {
	pool := testPool(t)
	conn := pool.Get()
	defer conn.Close()
	doc := vectors(t, "enqueue.json")
	cases, own := doc["cases"].([]interface{}), doc["client_cases"].([]interface{})
	// enqueue.json has 49 cases and 4 of the clients' own: a file or a reading that lost some would check less and
	// still pass.
	if len(cases) < 49 || len(own) < 4 {
		t.Fatalf("only %d cases and %d client cases", len(cases), len(own))
	}
	skipped := 0
	for n, raw := range append(append([]interface{}{}, cases...), own...) {
		c := raw.(map[string]interface{})
		ns := fmt.Sprintf("conf-go-%d-%d", time.Now().UnixNano(), n)
		client := New(pool, ns)
		for i, rawStep := range c["steps"].([]interface{}) {
			step := rawStep.(map[string]interface{})
			what := fmt.Sprintf("%s, step %d", c["name"], i)
			if call, ok := step["call"].(map[string]interface{}); ok && zeroOption(call) != "" {
				skipped++ // TestZeroOptionsAreTheDefaults checks what Go does with them
				continue
			}
			switch {
			case step["batch"] != nil:
				var jobs []Job
				for _, call := range step["batch"].([]interface{}) {
					jobType, payload, o := callOf(call.(map[string]interface{}))
					jobs = append(jobs, Job{jobType, payload, o})
				}
				results, err := client.EnqueueBatch(jobs)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				for j, want := range step["results"].([]interface{}) {
					w := want.(map[string]interface{})
					if w["error"] != nil {
						checkError(t, fmt.Sprintf("%s #%d", what, j), results[j].Err, w)
					} else if results[j].Err != nil || !resultIs(results[j].Enqueued, w) {
						t.Errorf("%s #%d: %+v", what, j, results[j])
					}
				}
			case step["error"] != nil:
				jobType, payload, o := callOf(step["call"].(map[string]interface{}))
				_, err := client.Enqueue(jobType, payload, o)
				checkError(t, what, err, step["error"].(map[string]interface{}))
			default:
				jobType, payload, o := callOf(step["call"].(map[string]interface{}))
				got, err := client.Enqueue(jobType, payload, o)
				want := step["result"].(map[string]interface{})
				if err != nil || !resultIs(got, want) {
					t.Errorf("%s: %+v %v", what, got, err)
				}
			}
			checkWrites(t, conn, ns, what, step)
		}
	}
	if skipped != 6 { // id "", queue "", max_attempts 0, timeout 0, unique_for 0, once_for 0
		t.Errorf("%d steps skipped for a zero value, want 6", skipped)
	}
}

var nowPattern = regexp.MustCompile(`\$now\+(\d+)`)

// TestEveryScriptCase runs each case through FCALL hoopoe_enqueue (what the client sends; the library a worker
// loaded) and through EVALSHA of jobs/lua/enqueue.lua (the documented way for a Redis before 7).
func TestEveryScriptCase(t *testing.T) {
	source, err := os.ReadFile(filepath.Join("..", "..", "lua", "enqueue.lua"))
	if err != nil {
		t.Fatal(err)
	}
	script := redis.NewScript(5, string(source))
	conn := testPool(t).Get()
	defer conn.Close()
	for _, way := range []string{"fcall", "evalsha"} {
		for n, raw := range vectors(t, "enqueue.json")["script"].([]interface{}) {
			scriptCase(t, conn, script, way, n, raw.(map[string]interface{}))
		}
	}
}

func scriptCase(t *testing.T, conn redis.Conn, script *redis.Script, way string, n int, listed map[string]interface{}) {
	c := map[string]interface{}{}
	for k, v := range listed {
		c[k] = v
	}
	c["name"] = way + ": " + listed["name"].(string)
	{
		ns := fmt.Sprintf("conf-go-s%d-%d", time.Now().UnixNano(), n)
		var keys []interface{}
		for _, k := range c["keys"].([]interface{}) {
			keys = append(keys, strings.ReplaceAll(k.(string), "{ns}", ns))
		}
		run := func(argv []interface{}, want map[string]interface{}) {
			args := append([]interface{}{}, keys...)
			for _, a := range argv {
				v := a.(string)
				if strings.HasPrefix(v, "$sized:") {
					size, _ := strconv.Atoi(v[7:])
					prefix, suffix := `{"id":"s-huge","type":"diag.record","payload":{"key":"`, `"}}`
					v = prefix + strings.Repeat("x", size-len(prefix)-len(suffix)) + suffix
				}
				v = nowPattern.ReplaceAllStringFunc(v, func(m string) string {
					offset, _ := strconv.Atoi(m[5:])
					return strconv.FormatFloat(float64(time.Now().UnixNano())/1e9+float64(offset), 'f', 6, 64)
				})
				args = append(args, v)
			}
			call := func() (interface{}, error) { return script.Do(conn, args...) }
			if way == "fcall" {
				call = func() (interface{}, error) {
					return conn.Do("FCALL", append([]interface{}{EnqueueFunction, 5}, args...)...)
				}
			}
			reply, err := redis.Strings(call())
			if contains, ok := want["error_contains"].(string); ok {
				if err == nil || !strings.Contains(err.Error(), contains) {
					t.Errorf("%s: %v %v, want the error %s", c["name"], reply, err, contains)
				}
			} else if err != nil || !same(reply, want["reply"]) {
				t.Errorf("%s: %v %v, want %v", c["name"], reply, err, want["reply"])
			}
		}
		run(c["argv"].([]interface{}), c)
		if c["stream_count"] != nil {
			if n, _ := redis.Int(conn.Do("XLEN", keys[0])); n != int(num(c["stream_count"])) {
				t.Errorf("%s: stream length %d", c["name"], n)
			}
		}
		if want, ok := c["stream_envelope"].(map[string]interface{}); ok {
			entries, _ := redis.Values(conn.Do("XRANGE", keys[0], "-", "+"))
			parts, _ := redis.Values(entries[len(entries)-1], nil)
			fields, _ := redis.StringMap(parts[1], nil)
			checkEnvelope(t, c["name"].(string), fields["job"], map[string]interface{}{"envelope": want})
		}
		if c["score_from_now"] != nil {
			score, _ := redis.Float64(conn.Do("ZSCORE", keys[1], c["reply"].([]interface{})[1]))
			if math.Abs(score-float64(time.Now().Unix())-num(c["score_from_now"])) > 60 {
				t.Errorf("%s: score %v", c["name"], score)
			}
		}
		if spec, ok := c["key_ttl_between"].([]interface{}); ok {
			ttl, _ := redis.Int(conn.Do("TTL", strings.ReplaceAll(spec[0].(string), "{ns}", ns)))
			if float64(ttl) < num(spec[1]) || float64(ttl) > num(spec[2]) {
				t.Errorf("%s: ttl %d", c["name"], ttl)
			}
		}
		if then, ok := c["then"].(map[string]interface{}); ok {
			run(then["argv"].([]interface{}), then)
		}
	}
}

// jsonType: whether value (decoded with UseNumber) has the JSON type named in events.json.
func jsonType(value interface{}, spec string) bool {
	for _, kind := range strings.Split(spec, "|") {
		switch v := value.(type) {
		case nil:
			if kind == "null" {
				return true
			}
		case string:
			if kind == "string" {
				return true
			}
		case bool:
			if kind == "boolean" {
				return true
			}
		case []interface{}:
			if kind == "array" {
				return true
			}
		case map[string]interface{}:
			if kind == "object" {
				return true
			}
		case json.Number:
			if kind == "number" || (kind == "integer" && !strings.ContainsAny(string(v), ".eE")) {
				return true
			}
		}
	}
	return false
}

func eventProblems(event Event, doc map[string]interface{}) []string {
	var problems []string
	fields, _ := doc["fields"].(map[string]interface{})[event.Type].(map[string]interface{})
	for field, spec := range fields {
		value, present := event.Data[field]
		if !present {
			problems = append(problems, event.Type+": no "+field)
		} else if !jsonType(value, spec.(string)) {
			problems = append(problems, fmt.Sprintf("%s.%s = %v, want %v", event.Type, field, value, spec))
		}
	}
	values, _ := doc["values"].(map[string]interface{})[event.Type].(map[string]interface{})
	for field, allowed := range values {
		if value, present := event.Data[field]; present {
			found := false
			for _, a := range allowed.([]interface{}) {
				found = found || a == value
			}
			if !found {
				problems = append(problems, fmt.Sprintf("%s.%s = %v, want one of %v", event.Type, field, value, allowed))
			}
		}
	}
	return problems
}

func TestEventsDecode(t *testing.T) {
	doc := vectors(t, "events.json")
	for _, raw := range doc["decode"].([]interface{}) {
		c := raw.(map[string]interface{})
		fields := map[string]string{}
		for k, v := range c["raw"].(map[string]interface{}) {
			fields[k] = v.(string)
		}
		event, err := DecodeEvent("1-0", fields)
		want := c["event"].(map[string]interface{})
		wantJob, _ := want["job"].(string)
		if err != nil || event.Type != want["type"] || !same(event.Data, want["data"]) || event.At != num(want["at"]) || event.Job != wantJob {
			t.Errorf("%s: %+v %v", c["name"], event, err)
		}
		if p := eventProblems(event, doc); len(p) > 0 {
			t.Errorf("%s: %v", c["name"], p)
		}
	}
	wrong := Event{ID: "1-0", Type: "freecredit.granted", Data: map[string]interface{}{"user_id": json.Number("176"), "request_id": "r", "amount": json.Number("1.5")}, At: 1}
	if p := eventProblems(wrong, doc); len(p) != 2 {
		t.Errorf("a wrong event: %v", p)
	}
}

func TestALimitAboveTheWorkersIsTheWorkers(t *testing.T) {
	client := New(testPool(t), "conf-go-limit")
	client.MaxBytes = 600000
	_, err := client.prepare("diag.record", map[string]interface{}{"key": "k", "member": strings.Repeat("x", 550000)}, Options{ID: "x"})
	var large *TooLargeError
	if !errors.As(err, &large) || large.Limit != MaxBytes {
		t.Fatalf("want TooLargeError at %d: %v", MaxBytes, err)
	}
}

func TestAnEmptyPayloadIsSentAsAnObject(t *testing.T) {
	client := New(testPool(t), "conf-go-empty")
	var nilStruct *struct{ A int }
	for _, payload := range []interface{}{nil, []interface{}{}, map[string]interface{}{}, map[string]interface{}(nil), []int{}, [0]string{}, nilStruct} {
		p, err := client.prepare("diag.record", payload, Options{ID: "x"})
		if err != nil || !strings.Contains(string(p.body), `"payload":{}`) {
			t.Errorf("%#v: %s %v", payload, p.body, err)
		}
	}
}
