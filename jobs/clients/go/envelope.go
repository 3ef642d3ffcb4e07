package hoopoe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxBytes is the largest envelope (512 KiB of UTF-8 JSON); MaxSeconds the first time that is "milliseconds?";
// MaxNumberCharacters the longest number text the worker reads (Sources/HoopoeJSON/JSONNumberLength.swift);
// MaxKeySeconds the longest unique lock or once-key (about 31 years: the enqueue function refuses more).
const (
	MaxBytes            = 524288
	MaxSeconds          = 1e11
	MaxNumberCharacters = 100
	MaxKeySeconds       = 1000000000
)

var (
	idPattern    = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	typePattern  = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)
	queuePattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)
)

// ValidQueue reports whether name is a queue name: 1-64 of A-Z a-z 0-9 . _ -, not starting with '.', no "..".
func ValidQueue(name string) bool {
	return queuePattern.MatchString(name) && !strings.Contains(name, "..")
}

// NamespaceProblem says why the workers would refuse namespace as HOOPOE_NAMESPACE (Sources/hoopoe/GlobalOptions.swift),
// or is "": empty, a brace, Unicode's White_Space or a control character.
func NamespaceProblem(namespace string) string {
	refused := namespace == "" || !utf8.ValidString(namespace)
	for _, r := range namespace {
		refused = refused || r == '{' || r == '}' || r <= 0x20 || r == 0x7f || unicode.Is(unicode.White_Space, r)
	}
	if !refused {
		return ""
	}
	return fmt.Sprintf("the namespace must be a non-empty text without braces, spaces or control characters, as the workers "+
		"require of HOOPOE_NAMESPACE (got %q): a queue's keys carry {queue} as their Redis Cluster hash tag (hoopoe:{default}:stream)", namespace)
}

// Problem is the verdict on an envelope as JSON text: nil when it is valid, else the rule it breaks (size first, then
// a number's length). The worker checks the same rules (jobs/conformance/envelopes.json holds the cases all clients
// pass).
func Problem(text []byte, maxBytes int) *InvalidJobError {
	if len(text) > maxBytes {
		return &InvalidJobError{"size", fmt.Sprintf("the envelope is %d bytes, the limit is %d", len(text), maxBytes)}
	}
	if HasOverlongNumber(text) {
		return &InvalidJobError{"number", fmt.Sprintf("a number is written in more than %d characters", MaxNumberCharacters)}
	}
	decoder := json.NewDecoder(bytes.NewReader(text))
	decoder.UseNumber()
	var value interface{}
	if err := decoder.Decode(&value); err != nil || decoder.More() {
		return &InvalidJobError{"envelope", fmt.Sprintf("not JSON: %v", err)}
	}
	env, ok := value.(map[string]interface{})
	if !ok {
		return &InvalidJobError{"envelope", "the envelope must be a JSON object"}
	}
	for _, field := range []string{"id", "type", "payload"} {
		if _, ok := env[field]; !ok {
			return &InvalidJobError{field, field + " is required"}
		}
	}
	if s, ok := env["id"].(string); !ok || !idPattern.MatchString(s) {
		return &InvalidJobError{"id", fmt.Sprintf("id must be 1-128 characters from A-Z a-z 0-9 . _ : - (got %v)", env["id"])}
	}
	if s, ok := env["type"].(string); !ok || !typePattern.MatchString(s) {
		return &InvalidJobError{"type", fmt.Sprintf("type must be 1-100 characters from A-Z a-z 0-9 . _ : - (got %v)", env["type"])}
	}
	// queue, attempt and enqueued_at may be missing, but not null (their schema types have no null).
	if q, present := env["queue"]; present && q != "" {
		if s, ok := q.(string); !ok || !ValidQueue(s) {
			return &InvalidJobError{"queue", fmt.Sprintf("queue must be 1-64 characters from A-Z a-z 0-9 . _ -, not starting with . and without .. (got %v)", q)}
		}
	}
	if v, present := env["attempt"]; present {
		if n, ok := integer(v); !ok || n < 0 || n > 1000 {
			return &InvalidJobError{"attempt", fmt.Sprintf("attempt must be a whole number 0-1000 (got %v)", v)}
		}
	}
	if v, present := env["max_attempts"]; present && v != nil {
		if n, ok := integer(v); !ok || n < 1 || n > 1000 {
			return &InvalidJobError{"max_attempts", fmt.Sprintf("max_attempts must be a whole number 1-1000 or null (got %v)", v)}
		}
	}
	if v, present := env["timeout"]; present && v != nil {
		if f, ok := number(v); !ok || f <= 0 || f > 86400 {
			return &InvalidJobError{"timeout", fmt.Sprintf("timeout must be > 0 and <= 86400 seconds (got %v)", v)}
		}
	}
	for _, field := range []string{"enqueued_at", "run_at"} {
		if v, present := env[field]; present && (v != nil || field == "enqueued_at") {
			f, ok := number(v)
			if problem := TimeProblem(field, f, ok); problem != nil {
				return problem
			}
		}
	}
	if v, present := env["unique_key"]; present && v != nil {
		s, ok := v.(string)
		if !ok || !validUniqueKey(s) {
			return &InvalidJobError{"unique_key", fmt.Sprintf("unique_key must be 1-200 characters without control characters, or null (got %v)", v)}
		}
	}
	if v, present := env["unique_for"]; present && v != nil {
		if f, ok := number(v); !ok || f <= 0 || f > 2592000 {
			return &InvalidJobError{"unique_for", fmt.Sprintf("unique_for must be > 0 and <= 2592000 seconds (got %v)", v)}
		}
	}
	if v, present := env["notify"]; present && v != nil {
		if _, ok := v.(bool); !ok {
			return &InvalidJobError{"notify", fmt.Sprintf("notify must be true, false or null (got %v)", v)}
		}
	}
	return nil
}

// HasOverlongNumber reports whether the JSON text holds, outside its strings, a number written in more than
// MaxNumberCharacters characters. The worker sends such an envelope to the dead set (Foundation's decoder traps on
// some), and encoding/json writes one for a json.Number, a json.RawMessage or a *big.Int carrying it. The worker's
// one pass (JSONNumberLength.hasOverlongNumber): a run of 0-9 - + . e E outside strings.
func HasOverlongNumber(text []byte) bool {
	inString, escaped, run := false, false, 0
	for _, b := range text {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
			continue
		}
		switch b {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-', '+', '.', 'e', 'E':
			run++
			if run > MaxNumberCharacters {
				return true
			}
		default:
			run = 0
			inString = b == '"'
		}
	}
	return false
}

// TimeProblem: nil when seconds (a number when isNumber) is Unix seconds, 0 <= x < 1e11.
func TimeProblem(field string, seconds float64, isNumber bool) *InvalidJobError {
	if isNumber && seconds >= 0 && seconds < MaxSeconds {
		return nil
	}
	hint := ""
	if isNumber && seconds >= MaxSeconds {
		hint = " - milliseconds? send Unix seconds"
	}
	return &InvalidJobError{field, fmt.Sprintf("%s must be Unix seconds, 0 <= x < 1e11 (got %v)%s", field, seconds, hint)}
}

func validUniqueKey(s string) bool {
	n := utf8.RuneCountInString(s)
	if n < 1 || n > 200 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return false
		}
	}
	return true
}

// integer: a whole JSON number (3 or 3.0; not 3.5 or "3").
func integer(v interface{}) (int64, bool) {
	f, ok := number(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return 0, false
	}
	return int64(f), true
}

func number(v interface{}) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

// encode is compact JSON without HTML escaping (the bytes that go to Redis).
func encode(v interface{}) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
