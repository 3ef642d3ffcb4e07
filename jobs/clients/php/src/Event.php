<?php

declare(strict_types=1);

namespace Hoopoe;

/**
 * One entry of <namespace>:events: the stream entry id, the event name, its data (decoded JSON), at (float seconds)
 * and job (the id of the job that wrote it: every event but job.dead; null without it).
 */
final class Event
{
    /** @param array<string, mixed> $data */
    public function __construct(
        public readonly string $id,
        public readonly string $type,
        public readonly array $data,
        public readonly float $at,
        public readonly ?string $job = null,
    ) {
    }

    /** @param array<string, string> $fields the stream entry's fields: type, data (JSON text), at (decimal text), job */
    public static function fromEntry(string $id, array $fields): self
    {
        $data = json_decode($fields['data'], true, 512, JSON_THROW_ON_ERROR);
        return new self($id, $fields['type'], is_array($data) ? $data : [], (float) $fields['at'], $fields['job'] ?? null);
    }
}
