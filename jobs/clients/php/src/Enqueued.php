<?php

declare(strict_types=1);

namespace Hoopoe;

/**
 * What an enqueue did: status "enqueued" (ready now) or "scheduled" (waiting for its run_at), the job id, and the queue
 * the job went to (the type's when the call named none), so that waitFor($enqueued) waits where its answer will be.
 * A null queue is not known (an Enqueued built by hand): waitFor then needs the queue.
 */
final class Enqueued
{
    public function __construct(public readonly string $status, public readonly string $id, public readonly ?string $queue = null)
    {
    }
}
