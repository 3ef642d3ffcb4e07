#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
// hiredis is included by path instead of through pkg-config: hiredis 0.14's .pc file sets
// -D_FILE_OFFSET_BITS=64, which SwiftPM rejects as a "prohibited flag" (a warning on every build).
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

// RedisConnection uses only hiredis's RESP reader (decision 0024: its sockets are its own); the context accessors
// serve code that still uses hiredis's I/O (Sentinel/SentinelLink.swift).
// redisContext.errstr is a char[128]; Swift imports it as a 128-element tuple. This accessor gives
// the C string directly. The pointer lives as long as the context.
static inline const char *chiredis_errstr(const redisContext *c) { return c->errstr; }
static inline int chiredis_err(const redisContext *c) { return c->err; }
static inline int chiredis_fd(const redisContext *c) { return c->fd; }

// redisReader's errstr is a char[128] too.
static inline const char *chiredis_reader_errstr(const redisReader *r) { return r->errstr; }

#endif
