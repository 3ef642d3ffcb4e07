#ifndef CHOOPOE_OPENSSL_SHIM_H
#define CHOOPOE_OPENSSL_SHIM_H
// The system OpenSSL (Debian's libssl-dev) for TLS to Redis (decision 0024). Included by path: Debian's openssl.pc
// adds nothing needed. Several OpenSSL calls are macros Swift cannot import; the inline functions below wrap them.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

// OpenSSL frees its global state in an atexit handler; a connection thread still ending its session while the
// process exits would then use freed memory (a crash at exit). Initialised without that handler: the OS frees it all.
static inline int choopoe_openssl_init(void) {
    return OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
}

static inline long choopoe_ssl_set_sni(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }
static inline long choopoe_ctx_set_min_tls12(SSL_CTX *ctx) { return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }
static inline long choopoe_ctx_set_modes(SSL_CTX *ctx) {
    // Auto-retry: a blocking SSL_read that meets a post-handshake record (a TLS 1.3 session ticket) reads on instead of
    // returning WANT_READ.
    return SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
}

#endif
