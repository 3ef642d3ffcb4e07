<?php
// Loads jobs/clients/php/LARAVEL.md's code blocks, as written, into a Laravel-shaped application (shims.php): its
// config/hoopoe.php and config/database.php entries become config(), its service provider is registered, and the
// application (the container) is returned. The page's remaining blocks are in $GLOBALS['laravelPage'] for the tests
// to run. REDIS_URL is passed on as HOOPOE_REDIS_URL, the page's setting.

declare(strict_types=1);

require_once __DIR__ . '/shims.php';

spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Hoopoe\\')) {
        $file = __DIR__ . '/../../src/' . str_replace('\\', '/', substr($class, strlen('Hoopoe\\'))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

/** @return array<string, string> the page's PHP blocks by role: config, database, provider, calls, events */
function laravelPageBlocks(): array
{
    $page = (string) file_get_contents(__DIR__ . '/../../LARAVEL.md');
    preg_match_all('/^```php\n(.*?)^```$/ms', $page, $found);
    $roles = [
        'config' => static fn (string $b) => str_contains($b, "return [\n    // The Redis connection"),
        'database' => static fn (string $b) => str_starts_with($b, "'redis' =>"),
        'provider' => static fn (string $b) => str_contains($b, 'class HoopoeServiceProvider'),
        'calls' => static fn (string $b) => str_contains($b, 'class FreeCreditController'),
        'events' => static fn (string $b) => str_contains($b, 'readEventsGroup'),
    ];
    $blocks = [];
    foreach ($found[1] as $block) {
        $role = array_key_first(array_filter($roles, static fn ($is) => $is($block)));
        if ($role === null) {
            throw new \LogicException("LARAVEL.md has a PHP block no test runs:\n$block");
        }
        $blocks[$role] = $block;
    }
    foreach (array_keys($roles) as $role) {
        if (!isset($blocks[$role])) {
            throw new \LogicException("LARAVEL.md has no $role block");
        }
    }
    return $blocks;
}

/** Writes a block to a file (with `<?php` when it lacks one) and returns the path, for `require`. */
function laravelPageFile(string $role, string $code): string
{
    $path = sys_get_temp_dir() . "/hoopoe-laravel-" . getmypid() . "-$role.php";
    file_put_contents($path, str_starts_with($code, '<?php') ? $code : "<?php\n$code");
    register_shutdown_function(static fn () => @unlink($path));
    return $path;
}

function laravelApplication(): \Illuminate\Container\Container
{
    putenv('HOOPOE_REDIS_URL=' . (getenv('REDIS_URL') ?: 'redis://127.0.0.1:6379/0'));
    $blocks = laravelPageBlocks();
    $GLOBALS['laravelPage'] = $blocks;
    $GLOBALS['laravelConfig'] = [
        'hoopoe' => require laravelPageFile('config', $blocks['config']),
        'database' => require laravelPageFile('database', "return [\n" . $blocks['database'] . "\n];"),
    ];
    require_once laravelPageFile('provider', $blocks['provider']);
    $app = new \Illuminate\Container\Container();
    \Illuminate\Container\Container::$current = $app;
    (new \App\Providers\HoopoeServiceProvider($app))->register();
    return $app;
}
