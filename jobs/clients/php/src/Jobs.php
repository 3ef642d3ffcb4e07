<?php

declare(strict_types=1);

namespace Hoopoe;

use Hoopoe\Exception\InvalidJob;
use Hoopoe\Exception\RequestIDReused;

/**
 * Typed helpers for the domain jobs the SMM panel and Kingfisher send (jobs/types/<type>.md; payload schemas in
 * jobs/schemas/). Each builds the payload its schema asks for and enqueues it on its queue (jobs/PROTOCOL.md, "Which queue").
 */
final class Jobs
{
    public const SMS_ONCE_SECONDS = 30 * 86400;
    /** The queue of each type (jobs/PROTOCOL.md, "Which queue"); the others go on "default". */
    public const QUEUES = ['freecredit.request' => 'critical'];

    /**
     * @param string|null $queue one queue for every type; null or '' (Laravel's env() for `HOOPOE_QUEUE=`) = each type's
     *     queue from the protocol's table
     */
    public function __construct(private readonly Client $client, private readonly ?string $queue = null)
    {
    }

    private function queueOf(string $type): string
    {
        return $this->queue !== null && $this->queue !== '' ? $this->queue : self::QUEUES[$type] ?? 'default';
    }

    /**
     * Asks for free credit and waits for the answer (status granted|rejected, amount or reason and retry_after);
     * null on a timeout. Re-asking with the same $requestId is safe: the answer is decided once, and one already
     * decided is read from its result key at once, with no job enqueued and no wait. $requestId null or '': a new one.
     *
     * The answer's user_id is compared with $userId: a $requestId another user's request was decided under throws
     * RequestIDReused, at once while its result key is kept (the worker would refuse this request and bury its job;
     * the key holds the other user's answer, which is never returned). Ids must be unique across users: a UUID, or
     * the user's id in it.
     *
     * @return array<string, mixed>|null
     * @throws InvalidJob for ids the handler refuses (see requestFreeCredit)
     * @throws RequestIDReused when the answer under $requestId is another user's
     */
    public function freeCredit(string|int $userId, ?string $requestId = null, ?int $amount = null, float $timeout = 10.0): ?array
    {
        if ($requestId === null || $requestId === '') {
            $requestId = bin2hex(random_bytes(16));
        }
        $payload = self::freeCreditPayload($userId, $requestId, $amount);
        // An id already answered is settled here: another user's threw only after the whole $timeout (the worker
        // buries that job and answers no one), and this user's would be one more job for the stored answer.
        $answer = $this->client->freeCreditAnswer($requestId);
        if ($answer === null) {
            $this->send('freecredit.request', $payload);
            $answer = $this->client->waitFreeCredit($requestId, $timeout);
        }
        if ($answer !== null && (string) ($answer['user_id'] ?? '') !== (string) $userId) {
            throw new RequestIDReused($requestId);
        }
        return $answer;
    }

    /**
     * Only enqueues freecredit.request (wait with Client::waitFreeCredit). $userId and $requestId go into Redis keys:
     * 1-100 of A-Z a-z 0-9 . _ : -, the handler's rule, else InvalidJob (the worker would bury the job).
     *
     * @throws InvalidJob
     */
    public function requestFreeCredit(string|int $userId, string $requestId, ?int $amount = null): Enqueued
    {
        return $this->send('freecredit.request', self::freeCreditPayload($userId, $requestId, $amount));
    }

    /**
     * freecredit.request's payload, or InvalidJob for what the handler would refuse (it would bury the job, and the
     * caller would wait for an answer that never comes).
     *
     * @return array<string, mixed>
     * @throws InvalidJob
     */
    private static function freeCreditPayload(string|int $userId, string $requestId, ?int $amount): array
    {
        $payload = ['user_id' => self::keySafe('user_id', (string) $userId), 'request_id' => self::keySafe('request_id', $requestId)];
        if ($amount !== null && ($amount < 1 || $amount > 1_000_000_000)) {
            throw new InvalidJob('payload.amount', "amount must be a whole number in 1...1000000000, or null for the default; got $amount");
        }
        return self::put($payload, ['amount' => $amount]);
    }

    /** $id, or InvalidJob naming payload.$field when the handler refuses it (DomainID's KeySafe, Sources/HoopoeJobs/Support/DomainID.swift). */
    private static function keySafe(string $field, string $id): string
    {
        if (preg_match('/^[A-Za-z0-9._:-]{1,100}$/D', $id) !== 1) {
            throw new InvalidJob("payload.$field", "$field must be 1-100 characters from A-Z a-z 0-9 . _ : - (it goes into Redis keys; got "
                . (json_encode($id, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES) ?: 'text that is not UTF-8') . ')');
        }
        return $id;
    }

    /** A user won a gift that expires at $expiresAt (Unix seconds). The gift helpers' ids follow keySafe's rule (they go into Redis keys). */
    /** $wonAt: Unix seconds the user won it (the panel's `created`), when the wheel limits count it (null: when the job runs). */
    public function giftGranted(string|int $userId, string|int $userGiftId, int|float $expiresAt, ?string $phone = null, ?string $serviceName = null, int|float|null $wonAt = null): Enqueued
    {
        return $this->send('gift.granted', self::put(
            ['user_id' => self::keySafe('user_id', (string) $userId), 'user_gift_id' => self::keySafe('user_gift_id', (string) $userGiftId), 'expires_at' => $expiresAt],
            ['phone' => $phone, 'service_name' => $serviceName, 'won_at' => $wonAt],
        ));
    }

    public function giftUsed(string|int $userId, string|int $userGiftId): Enqueued
    {
        return $this->send('gift.used', ['user_id' => self::keySafe('user_id', (string) $userId), 'user_gift_id' => self::keySafe('user_gift_id', (string) $userGiftId)]);
    }

    public function giftExpire(string|int $userId, string|int $userGiftId): Enqueued
    {
        return $this->send('gift.expire', ['user_id' => self::keySafe('user_id', (string) $userId), 'user_gift_id' => self::keySafe('user_gift_id', (string) $userGiftId)]);
    }

    /**
     * A subscription bought or renewed; $expiresAt: Unix seconds, or a date text the schema accepts. $email (sent only
     * when given): where the reminder emails go. The worker stores what each upsert sends, so an upsert without it
     * clears an address stored before: pass it on every upsert of a user who has one, renewals too.
     */
    public function subscriptionUpsert(string|int $userId, string $phone, string $firstName, int|string $expiresAt, string|int $receiptId, string|int|null $plan = null, ?string $email = null): Enqueued
    {
        return $this->send('subscription.upsert', self::put(
            ['user_id' => (string) $userId, 'phone' => $phone, 'first_name' => $firstName, 'expires_at' => $expiresAt, 'receipt_id' => (string) $receiptId],
            ['plan' => $plan, 'email' => $email],
        ));
    }

    public function subscriptionDelete(string|int $userId): Enqueued
    {
        return $this->send('subscription.delete', ['user_id' => (string) $userId]);
    }

    public function creditThresholdSet(string|int $userId, string|int $thresholdId, int|float $threshold, string $phone, string $firstName, ?string $authKey = null): Enqueued
    {
        return $this->send('credit.threshold.set', self::put(
            ['user_id' => (string) $userId, 'threshold_id' => (string) $thresholdId, 'threshold' => $threshold, 'phone' => $phone, 'first_name' => $firstName],
            ['auth_key' => $authKey],
        ));
    }

    public function creditThresholdDelete(string|int $userId, string|int $thresholdId): Enqueued
    {
        return $this->send('credit.threshold.delete', ['user_id' => (string) $userId, 'threshold_id' => (string) $thresholdId]);
    }

    public function creditBalance(string|int $userId, int|float $credits): Enqueued
    {
        return $this->send('credit.balance', ['user_id' => (string) $userId, 'credits' => $credits]);
    }

    /**
     * Kingfisher's failed registration, retried by Hoopoe; one job per user (unique while pending).
     *
     * @param array<string, mixed> $plan ['id' => ..., 'credit' => ['email' => 1200, 'sms' => 450], 'ip' => ...]
     */
    public function sendinblueRegister(string|int $userId, string $email, string $firstName, string $lastName, string $company, string $password, array $plan, ?string $language = null): Enqueued
    {
        // `plan` and its `credit` are objects: PHP's [] is a JSON array, which the handler refuses (the job was buried at
        // once, its password stripped, so the dead set could not retry it). Only the top level of a payload is made one.
        if (($plan['credit'] ?? null) === []) {
            $plan['credit'] = new \stdClass();
        }
        $payload = self::put(
            ['user_id' => (string) $userId, 'email' => $email, 'first_name' => $firstName, 'last_name' => $lastName, 'company' => $company,
             'password' => $password, 'plan' => $plan === [] ? new \stdClass() : $plan],
            ['language' => $language],
        );
        return $this->client->enqueue('sendinblue.register', $payload, ['queue' => $this->queueOf('sendinblue.register'), 'unique_key' => "sendinblue.register:$userId"]);
    }

    /**
     * One transactional email from a Brevo template, enqueued at most once per $messageId (once-key
     * email:<message_id>, 30 days).
     *
     * @param array<string, string|int|float> $params values for the template's {{ params.NAME }}: an int or float is sent
     *     as its decimal text, any other value that is not a string (bool, null, an array, an object) is InvalidJob
     *     (payload.params.<name>) before anything is sent
     * @throws InvalidJob
     */
    public function emailSend(string $messageId, string $email, int $templateId, array $params, ?string $name = null, string|int|null $userId = null, ?string $purpose = null, int|float|null $at = null): Enqueued
    {
        $payload = self::put(
            ['message_id' => $messageId, 'email' => $email, 'template_id' => $templateId, 'params' => self::texts('params', $params)],
            ['name' => $name, 'user_id' => $userId === null ? null : (string) $userId, 'purpose' => $purpose],
        );
        return $this->client->enqueue('email.send', $payload, ['queue' => $this->queueOf('email.send'), 'at' => $at, 'once_key' => "email:$messageId", 'once_for' => self::SMS_ONCE_SECONDS]);
    }

    /**
     * One templated SMS, enqueued at most once per $messageId (once-key sms:<message_id>, 30 days).
     * $notAfter (Unix seconds): a message whose text would be wrong later ("3 days left") is not sent after it; it
     * ends failed with sms.failed (reason outdated: ...).
     *
     * @param array<string, string|int|float> $tokens an int or float is sent as its decimal text (['token' => $balance] as
     *     "320"); any other value that is not a string (bool, null, an array, an object) is InvalidJob
     *     (payload.tokens.<name>) before anything is sent
     * @throws InvalidJob
     */
    public function smsSend(string $messageId, string $phone, string $template, array $tokens, string|int|null $userId = null, ?string $purpose = null, int|float|null $at = null, int|float|null $notAfter = null): Enqueued
    {
        $payload = self::put(
            ['message_id' => $messageId, 'phone' => $phone, 'template' => $template, 'tokens' => self::texts('tokens', $tokens)],
            ['user_id' => $userId === null ? null : (string) $userId, 'purpose' => $purpose, 'not_after' => $notAfter],
        );
        return $this->client->enqueue('sms.send', $payload, ['queue' => $this->queueOf('sms.send'), 'at' => $at, 'once_key' => "sms:$messageId", 'once_for' => self::SMS_ONCE_SECONDS]);
    }

    /**
     * $values (sms.send's tokens, email.send's params) as the string-to-string map the worker decodes: a string as it
     * is, an int or float as its decimal text (decimalText). Any other value (bool, null, an array, an object, NAN) is
     * InvalidJob naming payload.$field.<name>, before anything is sent: the worker would bury the job, and its once-key
     * would then refuse the corrected resend for 30 days.
     */
    private static function texts(string $field, array $values): object
    {
        $texts = [];
        foreach ($values as $name => $value) {
            $texts[$name] = match (true) {
                is_string($value) => $value,
                is_int($value) => (string) $value,
                is_float($value) && is_finite($value) => self::decimalText($value),
                default => throw new InvalidJob("payload.$field.$name", "$field.$name must be a string (an int or float is sent as its decimal text); got "
                    . match (true) {
                        is_bool($value) => $value ? 'true' : 'false',
                        $value === null => 'null',
                        is_float($value) => (string) $value,
                        default => get_debug_type($value),
                    }),
            };
        }
        return (object) $texts;
    }

    /**
     * A finite float as plain decimal text: its shortest round-trip digits, without an exponent or a trailing ".0"
     * (320.0 => "320", 0.1 => "0.1", 1e20 => "100000000000000000000", 1e-7 => "0.0000001"). (string) would write
     * 1.0E+20, and round to the ini's `precision`.
     */
    private static function decimalText(float $value): string
    {
        if ($value == 0.0) {
            return '0';  // not "-0"
        }
        for ($digits = 1; $digits < 17; $digits++) {  // the fewest significant digits that read back as $value
            if ((float) sprintf('%.' . ($digits - 1) . 'e', $value) === $value) {
                break;
            }
        }
        [$mantissa, $exponent] = explode('e', sprintf('%.' . ($digits - 1) . 'e', $value));
        $sign = $value < 0 ? '-' : '';
        $significant = rtrim(str_replace(['-', '.'], '', $mantissa), '0');
        $point = (int) $exponent + 1;  // how many of the digits come before the decimal point
        if ($point <= 0) {
            return $sign . '0.' . str_repeat('0', -$point) . $significant;
        }
        if ($point >= strlen($significant)) {
            return $sign . $significant . str_repeat('0', $point - strlen($significant));
        }
        return $sign . substr($significant, 0, $point) . '.' . substr($significant, $point);
    }

    private function send(string $type, array $payload): Enqueued
    {
        return $this->client->enqueue($type, $payload, ['queue' => $this->queueOf($type)]);
    }

    private static function put(array $payload, array $optional): array
    {
        foreach ($optional as $key => $value) {
            if ($value !== null) {
                $payload[$key] = $value;
            }
        }
        return $payload;
    }
}
