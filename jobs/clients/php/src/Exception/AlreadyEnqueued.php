<?php

declare(strict_types=1);

namespace Hoopoe\Exception;

/** The once-key was used before (the script's reply "once"); existingId is the job that used it. */
final class AlreadyEnqueued extends HoopoeException
{
    public function __construct(public readonly string $existingId)
    {
        parent::__construct("once: job $existingId was already enqueued with this once-key");
    }
}
