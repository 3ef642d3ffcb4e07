<?php

declare(strict_types=1);

namespace Hoopoe;

/** What an enqueue did: status "enqueued" (ready now) or "scheduled" (waiting for its run_at), and the job id. */
final class Enqueued
{
    public function __construct(public readonly string $status, public readonly string $id)
    {
    }
}
