"""Typed helpers for the domain jobs the SMM panel and Kingfisher send (jobs/types/<type>.md; payload schemas in
jobs/schemas/). Each builds the payload its schema asks for and enqueues it on its queue (jobs/PROTOCOL.md, "Which queue")."""
import math
import re
import uuid
from decimal import Decimal

from .client import QUEUES, Client
from .errors import InvalidJob, RequestIDReused

SMS_ONCE_SECONDS = 30 * 86400


KEY_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,100}")
"""An id the handlers put into Redis keys as it is (DomainID's KeySafe, Sources/HoopoeJobs/Support/DomainID.swift)."""


def _key_safe(field, value):
    """`value` as the id text the payload carries, or InvalidJob naming payload.<field> when the handler would refuse it."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not KEY_SAFE.fullmatch(text):
        raise InvalidJob(f"payload.{field}", f"{field} must be 1-100 characters from A-Z a-z 0-9 . _ : - (it goes into "
                                             f"Redis keys; got {value!r})")
    return text


def _free_credit_payload(user_id, request_id, amount):
    """freecredit.request's payload, or InvalidJob for what the handler would refuse (it would bury the job, and the
    caller would wait for an answer that never comes)."""
    payload = {"user_id": _key_safe("user_id", user_id), "request_id": _key_safe("request_id", request_id)}
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= 1_000_000_000):
        raise InvalidJob("payload.amount", f"amount must be a whole number in 1...1000000000, or None for the default; got {amount!r}")
    return _put(payload, amount=amount)


def _decimal_text(number):
    """A finite float as plain decimal text: its shortest round-trip digits, without an exponent or a trailing ".0"
    (320.0 -> "320", 0.1 -> "0.1", 1e20 -> "100000000000000000000", 1e-7 -> "0.0000001")."""
    if number == 0:
        return "0"  # not "-0"
    return format(Decimal(repr(number)).normalize(), "f")


def _texts(field, values):
    """`values` (sms.send's tokens, email.send's params) as the string-to-string map the worker decodes: a str as it is,
    an int or float as its decimal text (_decimal_text). Anything else (bool, None, a list, a dict, NaN, ...) is
    InvalidJob naming payload.<field>.<name>, before anything is sent: the worker would bury the job, and its once-key
    would then refuse the corrected resend for 30 days."""
    if not isinstance(values, dict):
        raise InvalidJob(f"payload.{field}", f"{field} must be a dict of name -> text (got {type(values).__name__})")
    texts = {}
    for name, value in values.items():
        if isinstance(value, str):
            texts[name] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            texts[name] = str(value)
        elif isinstance(value, float) and math.isfinite(value):
            texts[name] = _decimal_text(value)
        else:
            got = repr(value) if value is None or isinstance(value, (bool, float)) else f"a value of type {type(value).__name__}"
            raise InvalidJob(f"payload.{field}.{name}", f"{field}.{name} must be text (an int or float is sent as its "
                                                        f"decimal text); got {got}")
    return texts


def _put(payload, **optional):
    payload.update({k: v for k, v in optional.items() if v is not None})
    return payload


class Jobs:
    """client = Jobs(hoopoe_client.Client(redis.Redis.from_url(...)))."""

    def __init__(self, client: Client, queue=None):
        """queue: one queue for every type; None = each type's queue from the protocol's table."""
        self.client = client
        self.queue = queue

    def _q(self, job_type):
        return self.queue or QUEUES.get(job_type, "default")

    def free_credit(self, user_id, request_id=None, amount=None, timeout=10.0):
        """Asks for free credit and waits for the answer (dict with status granted|rejected), None on a timeout.
        Re-asking with the same request_id is safe: the answer is decided once, and one already decided is read from
        its result key at once, with no job enqueued and no wait. request_id None or "": a new one.

        The answer's user_id is compared with `user_id`: a request_id another user's request was decided under raises
        RequestIDReused, at once when its result key is still kept (the worker would refuse this request and bury its
        job; the key holds the other user's answer, which is never returned). Ids must be unique across users: a UUID,
        or the user's id in it."""
        request_id = request_id or uuid.uuid4().hex
        payload = _free_credit_payload(user_id, request_id, amount)
        # An id already answered is settled here: another user's raised only after the whole `timeout` (the worker
        # buries that job and answers no one), and this user's would be one more job for the stored answer.
        answer = self.client.free_credit_answer(request_id)
        if answer is None:
            self.client.enqueue("freecredit.request", payload, self._q("freecredit.request"))
            answer = self.client.wait_free_credit(request_id, timeout)
        if answer is not None and str(answer.get("user_id")) != str(user_id):
            raise RequestIDReused(request_id)
        return answer

    def request_free_credit(self, user_id, request_id, amount=None):
        """Only enqueues freecredit.request (wait with Client.wait_free_credit). user_id and request_id must be ids the
        handler takes (1-100 of A-Z a-z 0-9 . _ : -; an int user id is fine), else InvalidJob: it would bury the job."""
        return self.client.enqueue("freecredit.request", _free_credit_payload(user_id, request_id, amount),
                                   self._q("freecredit.request"))

    def gift_granted(self, user_id, user_gift_id, expires_at, phone=None, service_name=None, won_at=None):
        """A user won a gift that expires at `expires_at` (Unix seconds); `won_at` (Unix seconds, the panel's `created`)
        is when the wheel limits count it (without it, when the job runs)."""
        return self.client.enqueue("gift.granted", _put({"user_id": _key_safe("user_id", user_id), "user_gift_id": _key_safe("user_gift_id", user_gift_id), "expires_at": expires_at},
                                                        phone=phone, service_name=service_name, won_at=won_at), self._q("gift.granted"))

    def gift_used(self, user_id, user_gift_id):
        return self.client.enqueue("gift.used", {"user_id": _key_safe("user_id", user_id), "user_gift_id": _key_safe("user_gift_id", user_gift_id)}, self._q("gift.used"))

    def gift_expire(self, user_id, user_gift_id):
        return self.client.enqueue("gift.expire", {"user_id": _key_safe("user_id", user_id), "user_gift_id": _key_safe("user_gift_id", user_gift_id)}, self._q("gift.expire"))

    def subscription_upsert(self, user_id, phone, first_name, expires_at, receipt_id, plan=None, email=None):
        """A subscription bought or renewed; expires_at: Unix seconds, or a date text the schema accepts.
        email (sent only when given): where the reminder emails go. The worker stores what each upsert sends, so an
        upsert without it clears an address stored before: pass it on every upsert of a user who has one, renewals too."""
        return self.client.enqueue("subscription.upsert", _put({"user_id": str(user_id), "phone": phone, "first_name": first_name,
                                                                "expires_at": expires_at, "receipt_id": str(receipt_id)}, plan=plan, email=email),
                                   self._q("subscription.upsert"))

    def subscription_delete(self, user_id):
        return self.client.enqueue("subscription.delete", {"user_id": str(user_id)}, self._q("subscription.delete"))

    def credit_threshold_set(self, user_id, threshold_id, threshold, phone, first_name, auth_key=None):
        return self.client.enqueue("credit.threshold.set", _put({"user_id": str(user_id), "threshold_id": str(threshold_id), "threshold": threshold,
                                                                 "phone": phone, "first_name": first_name}, auth_key=auth_key), self._q("credit.threshold.set"))

    def credit_threshold_delete(self, user_id, threshold_id):
        return self.client.enqueue("credit.threshold.delete", {"user_id": str(user_id), "threshold_id": str(threshold_id)}, self._q("credit.threshold.delete"))

    def credit_balance(self, user_id, credits):
        return self.client.enqueue("credit.balance", {"user_id": str(user_id), "credits": credits}, self._q("credit.balance"))

    def sendinblue_register(self, user_id, email, first_name, last_name, company, password, plan, language=None):
        """Kingfisher's failed registration, retried by Hoopoe; one job per user (unique while pending)."""
        payload = _put({"user_id": str(user_id), "email": email, "first_name": first_name, "last_name": last_name,
                        "company": company, "password": password, "plan": plan}, language=language)
        return self.client.enqueue("sendinblue.register", payload, self._q("sendinblue.register"), unique_key=f"sendinblue.register:{user_id}")

    def email_send(self, message_id, email, template_id, params, name=None, user_id=None, purpose=None, at=None):
        """One transactional email from a Brevo template, enqueued at most once per message_id (once-key
        email:<message_id>, 30 days). params: string values for the template's {{ params.NAME }}; an int or float is
        sent as its decimal text, any other value (bool, None, ...) is InvalidJob (payload.params.<name>)."""
        payload = _put({"message_id": message_id, "email": email, "template_id": int(template_id), "params": _texts("params", params)},
                       name=name, user_id=None if user_id is None else str(user_id), purpose=purpose)
        return self.client.enqueue("email.send", payload, self._q("email.send"), at=at, once_key=f"email:{message_id}",
                                   once_for=SMS_ONCE_SECONDS)

    def sms_send(self, message_id, phone, template, tokens, user_id=None, purpose=None, at=None, not_after=None):
        """One templated SMS, enqueued at most once per message_id (once-key sms:<message_id>, 30 days).
        tokens: string values; an int or float is sent as its decimal text ({"token": 320} as "320"), any other value
        (bool, None, ...) is InvalidJob (payload.tokens.<name>) before anything is sent.
        not_after (Unix seconds): a message whose text would be wrong later ("3 days left") is not sent after it; it
        ends failed with sms.failed (reason outdated: ...)."""
        payload = _put({"message_id": message_id, "phone": phone, "template": template, "tokens": _texts("tokens", tokens)},
                       user_id=None if user_id is None else str(user_id), purpose=purpose, not_after=not_after)
        return self.client.enqueue("sms.send", payload, self._q("sms.send"), at=at, once_key=f"sms:{message_id}", once_for=SMS_ONCE_SECONDS)
