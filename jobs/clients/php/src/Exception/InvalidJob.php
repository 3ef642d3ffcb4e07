<?php

declare(strict_types=1);

namespace Hoopoe\Exception;

/** The envelope breaks a rule of jobs/PROTOCOL.md ("Envelope rules"); field() names the field. */
final class InvalidJob extends HoopoeException
{
    public function __construct(private readonly string $field, string $message)
    {
        parent::__construct('invalid envelope: ' . $message);
    }

    public function field(): string
    {
        return $this->field;
    }
}
