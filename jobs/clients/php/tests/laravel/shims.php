<?php
// The smallest stand-ins for the Illuminate classes and helpers LARAVEL.md's code uses, so the page's own code runs
// in the tests against a real worker: a container (singleton, make), ServiceProvider ($this->app), the Redis facade
// (connection(name)->client(), a phpredis \Redis built from config('database.redis.<name>') as Laravel's
// PhpRedisConnector does: url or host/port/database, options' prefix, serializer and compression, read_timeout),
// Request (user(), header()), response()->json(), env(), config(), app(). Nothing here enqueues or decides:
// Hoopoe\Client does.

declare(strict_types=1);

namespace Illuminate\Container {
    final class Container
    {
        /** @var array<string, \Closure> */
        private array $factories = [];
        /** @var array<string, object> */
        private array $instances = [];
        public static ?Container $current = null;

        public function singleton(string $abstract, \Closure $factory): void
        {
            $this->factories[$abstract] = $factory;
        }

        public function make(string $abstract): object
        {
            if (!isset($this->instances[$abstract])) {
                $factory = $this->factories[$abstract] ?? throw new \LogicException("nothing bound to $abstract");
                $this->instances[$abstract] = $factory($this);
            }
            return $this->instances[$abstract];
        }
    }
}

namespace Illuminate\Support {
    abstract class ServiceProvider
    {
        public function __construct(protected \Illuminate\Container\Container $app)
        {
        }

        abstract public function register(): void;
    }
}

namespace Illuminate\Support\Facades {
    final class Redis
    {
        public static function connection(string $name): object
        {
            $settings = config("database.redis.$name") ?? throw new \LogicException("no Redis connection $name in config/database.php");
            $redis = new \Redis();
            $url = isset($settings['url']) && $settings['url'] !== null ? parse_url($settings['url']) : [];
            $redis->connect($url['host'] ?? $settings['host'], (int) ($url['port'] ?? $settings['port']), 0, null, 0,
                (float) ($settings['read_timeout'] ?? 0));
            $database = (int) (isset($url['path']) ? ltrim($url['path'], '/') : $settings['database']);
            if ($database !== 0) {
                $redis->select($database);
            }
            if (($settings['options']['prefix'] ?? '') !== '') {
                $redis->setOption(\Redis::OPT_PREFIX, $settings['options']['prefix']);
            }
            if (array_key_exists('serializer', $settings['options'] ?? [])) {  // as Laravel's PhpRedisConnector: set when given
                $redis->setOption(\Redis::OPT_SERIALIZER, $settings['options']['serializer']);
            }
            if (array_key_exists('compression', $settings['options'] ?? [])) {
                $redis->setOption(\Redis::OPT_COMPRESSION, $settings['options']['compression']);
            }
            if (!empty($settings['read_timeout'])) {
                $redis->setOption(\Redis::OPT_READ_TIMEOUT, $settings['read_timeout']);
            }
            return new class ($redis) {
                public function __construct(private \Redis $redis)
                {
                }

                public function client(): \Redis
                {
                    return $this->redis;
                }
            };
        }
    }
}

namespace Illuminate\Http {
    final class Request
    {
        /** @param array<string, string> $headers */
        public function __construct(private object $user, private array $headers)
        {
        }

        public function user(): object
        {
            return $this->user;
        }

        public function header(string $name): ?string
        {
            return $this->headers[$name] ?? null;
        }
    }

    final class JsonResponse
    {
        public function __construct(public readonly mixed $data, public readonly int $status)
        {
        }
    }
}

namespace {
    function env(string $key, mixed $default = null): mixed
    {
        $value = getenv($key);
        return $value === false ? $default : $value;
    }

    /** @var array<string, mixed> config files by name: what config() reads */
    $GLOBALS['laravelConfig'] = [];

    function config(string $key): mixed
    {
        $value = $GLOBALS['laravelConfig'];
        foreach (explode('.', $key) as $part) {
            if (!is_array($value) || !array_key_exists($part, $value)) {
                return null;
            }
            $value = $value[$part];
        }
        return $value;
    }

    function app(string $abstract): object
    {
        return \Illuminate\Container\Container::$current->make($abstract);
    }

    function response(): object
    {
        return new class {
            public function json(mixed $data, int $status = 200): \Illuminate\Http\JsonResponse
            {
                return new \Illuminate\Http\JsonResponse($data, $status);
            }
        };
    }
}
