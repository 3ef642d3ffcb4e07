<?php

declare(strict_types=1);

namespace Hoopoe\Exception;

/**
 * A free-credit request id whose answer is another user's: the answer's user_id is not the user asked for. The worker
 * refuses such a request (freecredit.lua: the job goes to the dead set) and the result key under that id holds the
 * other user's answer, which is not returned. Ids must be unique across users: give each request its own (a UUID).
 * The message names neither the other user nor the answer (that user's data).
 */
final class RequestIDReused extends HoopoeException
{
    public function __construct(public readonly string $requestId)
    {
        parent::__construct("request_id $requestId was decided for another user: give each request its own id (a UUID)");
    }
}
