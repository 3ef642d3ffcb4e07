package hoopoe

import (
	"errors"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
)

// readmeExample is README.md's example (without the package qualifier, the Redis URL a parameter).
// It returns the free-credit answer so the worker test can check it.
func readmeExample(url string) map[string]interface{} {
	pool := &redis.Pool{Dial: func() (redis.Conn, error) { return redis.DialURL(url) }}
	client := New(pool, "") // namespace "": HOOPOE_NAMESPACE, default "hoopoe" (the workers' setting)
	payload := map[string]interface{}{"key": "k", "member": "m"}
	client.Enqueue("diag.record", payload, Options{}) // now
	client.EnqueueIn("diag.record", payload, 10*time.Minute, Options{})
	client.EnqueueAt("diag.record", payload, time.Now().Add(time.Hour), Options{})
	_, err := client.EnqueueUnique("diag.record", payload, "report:42", Options{})
	var dup *DuplicateError
	if errors.As(err, &dup) {
		log.Printf("already pending: %s", dup.ExistingID)
	}
	_, err = client.EnqueueOnce("diag.record", payload, "report:42:mailed", Options{}) // at most once in 7 days
	var again *AlreadyEnqueuedError
	if errors.As(err, &again) {
		log.Printf("already enqueued: %s", again.ExistingID)
	}
	job, err := client.Enqueue("diag.record", payload, Options{Notify: true})
	outcome, err := client.WaitFor(job.ID, job.Queue, 10*time.Second) // outcome: processed|discarded|deferred|dead|cancelled; nil on a timeout
	jobs := Jobs{Client: client}                                      // the domain jobs, typed
	answer, err := jobs.FreeCredit("176", "", 93, 10*time.Second)     // status granted|rejected ...; nil on a timeout
	events, err := client.ReadEvents("0-0", 100, 5*time.Second)       // pass the last Event.ID back to continue
	log.Println(outcome, answer, len(events), err)
	return answer
}

// README.md's example is this file's code: every line of it, the package qualifier and the URL aside, is here.
func TestReadmeExampleIsTheCompiledOne(t *testing.T) {
	page, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	source, _ := os.ReadFile("example_test.go")
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	block := strings.SplitN(strings.SplitN(string(page), "```go", 2)[1], "```", 2)[0]
	for _, line := range strings.Split(block, "\n") {
		line = squeeze(strings.ReplaceAll(line, "hoopoe.", ""))
		if line != "" && !strings.Contains(line, "DialURL") && !strings.Contains(squeeze(string(source)), line) {
			t.Errorf("README.md's line is not in example_test.go: %s", line)
		}
	}
}
