package hoopoe

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// Queues is the queue of each type (jobs/PROTOCOL.md, "Which queue"); the others go on "default". Client.Enqueue
// uses it for a job whose Options give no Queue, as Jobs does.
var Queues = map[string]string{"freecredit.request": "critical"}

// queueOf is jobType's queue: Queues's, else "default".
func queueOf(jobType string) string {
	if queue, ok := Queues[jobType]; ok {
		return queue
	}
	return "default"
}

// Jobs: typed helpers for the domain jobs the SMM panel and Kingfisher send (jobs/types/<type>.md; payload schemas
// in jobs/schemas/). Each builds the payload its schema asks for and enqueues it on Queue, or when Queue is "" on the type's queue (Queues).
type Jobs struct {
	Client *Client
	Queue  string
}

func (j Jobs) send(jobType string, payload map[string]interface{}, o Options) (Enqueued, error) {
	o.Queue = j.Queue
	if o.Queue == "" {
		o.Queue = Queues[jobType]
	}
	return j.Client.Enqueue(jobType, payload, o)
}

func put(payload map[string]interface{}, key string, value interface{}, present bool) map[string]interface{} {
	if present {
		payload[key] = value
	}
	return payload
}

// FreeCredit asks for free credit and waits for the answer (status granted|rejected, amount or reason and
// retry_after); nil on a timeout. requestID "" makes one; re-asking with the same id is safe: the answer is decided
// once, and one already decided is read from its result key at once, with no job enqueued and no wait. amount 0: the
// default. Ids the handler refuses are an *InvalidJobError (see RequestFreeCredit), before anything is sent.
//
// The answer's user_id is compared with userID: a requestID another user's request was decided under is a
// *RequestIDReusedError, and no answer; at once while its result key is kept (the worker would refuse this request and
// bury its job; the key holds the other user's answer, which is never returned). Ids must be unique across users: a
// UUID, or the user's id in it.
func (j Jobs) FreeCredit(userID, requestID string, amount int, timeout time.Duration) (map[string]interface{}, error) {
	if requestID == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		requestID = hex.EncodeToString(b)
	}
	payload, err := freeCreditPayload(userID, requestID, amount)
	if err != nil {
		return nil, err
	}
	// An id already answered is settled here: another user's was refused only after the whole timeout (the worker
	// buries that job and answers no one), and this user's would be one more job for the stored answer.
	answer, err := j.Client.FreeCreditAnswer(requestID)
	if err != nil {
		return nil, err
	}
	if answer == nil {
		if _, err := j.send("freecredit.request", payload, Options{}); err != nil {
			return nil, err
		}
		if answer, err = j.Client.WaitFreeCredit(requestID, timeout); err != nil || answer == nil {
			return answer, err
		}
	}
	if user, ok := answer["user_id"]; !ok || fmt.Sprint(user) != userID {
		return nil, &RequestIDReusedError{requestID}
	}
	return answer, nil
}

// RequestFreeCredit only enqueues freecredit.request (wait with Client.WaitFreeCredit). userID and requestID go into
// Redis keys: 1-100 of A-Z a-z 0-9 . _ : -, the handler's rule, else an *InvalidJobError (the worker would bury the job).
func (j Jobs) RequestFreeCredit(userID, requestID string, amount int) (Enqueued, error) {
	payload, err := freeCreditPayload(userID, requestID, amount)
	if err != nil {
		return Enqueued{}, err
	}
	return j.send("freecredit.request", payload, Options{})
}

// freeCreditPayload is freecredit.request's payload, or an *InvalidJobError for what the handler would refuse (it
// would bury the job, and the caller would wait for an answer that never comes).
func freeCreditPayload(userID, requestID string, amount int) (map[string]interface{}, error) {
	if err := keySafeIDs("user_id", userID, "request_id", requestID); err != nil {
		return nil, err
	}
	// 0 is the default; outside the handler's range (FreeCreditRequestJob) the job would be buried, and a negative
	// amount was silently taken as the default.
	if amount < 0 || amount > 1_000_000_000 {
		return nil, &InvalidJobError{"payload.amount", fmt.Sprintf("amount must be a whole number in 1...1000000000, or 0 for the default; got %d", amount)}
	}
	return put(map[string]interface{}{"user_id": userID, "request_id": requestID}, "amount", amount, amount > 0), nil
}

// keySafe is an id the handlers put into Redis keys as it is (DomainID's KeySafe, Sources/HoopoeJobs/Support/DomainID.swift).
var keySafe = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)

// keySafeIDs checks field/value pairs against keySafe: an *InvalidJobError naming the first refused one.
func keySafeIDs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if field, value := pairs[i], pairs[i+1]; !keySafe.MatchString(value) {
			return &InvalidJobError{"payload." + field, fmt.Sprintf("%s must be 1-100 characters from A-Z a-z 0-9 . _ : - (it goes into Redis keys; got %q)", field, value)}
		}
	}
	return nil
}

// GiftGranted: a user won a gift that expires at expiresAt. phone and serviceName may be "". The gift helpers'
// userID and userGiftID follow RequestFreeCredit's rule (they go into Redis keys).
func (j Jobs) GiftGranted(userID, userGiftID string, expiresAt time.Time, phone, serviceName string) (Enqueued, error) {
	return j.GiftGrantedAt(userID, userGiftID, time.Time{}, expiresAt, phone, serviceName)
}

// GiftGrantedAt: GiftGranted with when the user won it (wonAt, the panel's created): the wheel limits count the gift
// then, however late the job runs. A zero wonAt leaves it out (counted when the job runs).
func (j Jobs) GiftGrantedAt(userID, userGiftID string, wonAt, expiresAt time.Time, phone, serviceName string) (Enqueued, error) {
	if err := keySafeIDs("user_id", userID, "user_gift_id", userGiftID); err != nil {
		return Enqueued{}, err
	}
	p := map[string]interface{}{"user_id": userID, "user_gift_id": userGiftID, "expires_at": seconds(expiresAt)}
	put(p, "phone", phone, phone != "")
	put(p, "won_at", seconds(wonAt), !wonAt.IsZero())
	return j.send("gift.granted", put(p, "service_name", serviceName, serviceName != ""), Options{})
}

// GiftUsed: the gift was used (its expiry and reminder are cancelled).
func (j Jobs) GiftUsed(userID, userGiftID string) (Enqueued, error) {
	if err := keySafeIDs("user_id", userID, "user_gift_id", userGiftID); err != nil {
		return Enqueued{}, err
	}
	return j.send("gift.used", map[string]interface{}{"user_id": userID, "user_gift_id": userGiftID}, Options{})
}

// GiftExpire marks an unused gift expired.
func (j Jobs) GiftExpire(userID, userGiftID string) (Enqueued, error) {
	if err := keySafeIDs("user_id", userID, "user_gift_id", userGiftID); err != nil {
		return Enqueued{}, err
	}
	return j.send("gift.expire", map[string]interface{}{"user_id": userID, "user_gift_id": userGiftID}, Options{})
}

// Subscription is subscription.upsert's payload.
type Subscription struct {
	UserID, Phone, FirstName string
	ExpiresAt                time.Time
	ReceiptID                string
	Plan                     string // optional
	// Email (optional, sent when not ""): where the reminder emails go. The worker stores what each upsert sends, so
	// an upsert without it clears an address stored before: set it on every upsert of a user who has one, renewals too.
	Email string
}

// SubscriptionUpsert: a subscription bought or renewed (its expiration reminders are scheduled).
func (j Jobs) SubscriptionUpsert(s Subscription) (Enqueued, error) {
	p := map[string]interface{}{"user_id": s.UserID, "phone": s.Phone, "first_name": s.FirstName, "expires_at": s.ExpiresAt.Unix(), "receipt_id": s.ReceiptID}
	put(p, "email", s.Email, s.Email != "")
	return j.send("subscription.upsert", put(p, "plan", s.Plan, s.Plan != ""), Options{})
}

// SubscriptionDelete forgets a subscription and its pending reminders.
func (j Jobs) SubscriptionDelete(userID string) (Enqueued, error) {
	return j.send("subscription.delete", map[string]interface{}{"user_id": userID}, Options{})
}

// CreditThresholdSet saves a low-credit threshold; authKey may be "".
func (j Jobs) CreditThresholdSet(userID, thresholdID string, threshold float64, phone, firstName, authKey string) (Enqueued, error) {
	p := map[string]interface{}{"user_id": userID, "threshold_id": thresholdID, "threshold": threshold, "phone": phone, "first_name": firstName}
	return j.send("credit.threshold.set", put(p, "auth_key", authKey, authKey != ""), Options{})
}

// CreditThresholdDelete removes one threshold.
func (j Jobs) CreditThresholdDelete(userID, thresholdID string) (Enqueued, error) {
	return j.send("credit.threshold.delete", map[string]interface{}{"user_id": userID, "threshold_id": thresholdID}, Options{})
}

// CreditBalance records a balance pushed by a service.
func (j Jobs) CreditBalance(userID string, credits float64) (Enqueued, error) {
	return j.send("credit.balance", map[string]interface{}{"user_id": userID, "credits": credits}, Options{})
}

// Registration is sendinblue.register's payload (Kingfisher's failed registration, retried by Hoopoe).
type Registration struct {
	UserID, Email, FirstName, LastName, Company, Password string
	Plan                                                  map[string]interface{} // {"id", "credit": {"email", "sms"}, "ip"}
	Language                                              string                 // optional
}

// SendinblueRegister enqueues one registration per user (unique while pending: sendinblue.register:<user_id>).
func (j Jobs) SendinblueRegister(r Registration) (Enqueued, error) {
	p := map[string]interface{}{"user_id": r.UserID, "email": r.Email, "first_name": r.FirstName, "last_name": r.LastName,
		"company": r.Company, "password": r.Password, "plan": r.Plan}
	return j.send("sendinblue.register", put(p, "language", r.Language, r.Language != ""), Options{UniqueKey: "sendinblue.register:" + r.UserID})
}

// Email is email.send's payload: one transactional email from a Brevo template.
type Email struct {
	MessageID, Email string
	TemplateID       int
	Params           map[string]string // values for the template's {{ params.NAME }}
	Name             string            // optional: the recipient's name
	UserID, Purpose  string            // optional
	At               time.Time         // optional: send no earlier
}

// EmailSend enqueues one email at most once per message id (once-key email:<message_id>, 30 days).
func (j Jobs) EmailSend(e Email) (Enqueued, error) {
	params := e.Params
	if params == nil {
		params = map[string]string{}
	}
	p := map[string]interface{}{"message_id": e.MessageID, "email": e.Email, "template_id": e.TemplateID, "params": params}
	put(p, "name", e.Name, e.Name != "")
	put(p, "user_id", e.UserID, e.UserID != "")
	put(p, "purpose", e.Purpose, e.Purpose != "")
	return j.send("email.send", p, Options{At: e.At, OnceKey: "email:" + e.MessageID, OnceFor: 30 * day})
}

// SMS is sms.send's payload.
type SMS struct {
	MessageID, Phone, Template string
	Tokens                     map[string]string
	UserID, Purpose            string    // optional
	At                         time.Time // optional: send no earlier
	// NotAfter (optional): a message whose text would be wrong later ("3 days left") is not sent after it; it ends
	// failed with sms.failed (reason outdated: ...).
	NotAfter time.Time
}

// SMSSend enqueues one templated SMS at most once per message id (once-key sms:<message_id>, 30 days).
func (j Jobs) SMSSend(s SMS) (Enqueued, error) {
	p := map[string]interface{}{"message_id": s.MessageID, "phone": s.Phone, "template": s.Template, "tokens": s.Tokens}
	put(p, "user_id", s.UserID, s.UserID != "")
	put(p, "purpose", s.Purpose, s.Purpose != "")
	put(p, "not_after", seconds(s.NotAfter), !s.NotAfter.IsZero())
	return j.send("sms.send", p, Options{At: s.At, OnceKey: "sms:" + s.MessageID, OnceFor: 30 * day})
}
