#ifndef CHOOPOE_OPENSSL_H
#define CHOOPOE_OPENSSL_H
// The system OpenSSL (Debian's libssl3, headers from libssl-dev) for TLS to Redis (decision 0024), loaded with
// dlopen() at the first TLS connection rather than linked (decision 0035): a worker on redis:// never maps libssl and
// libcrypto (1.7 MiB of an idle worker's RSS: their relocations and symbol tables). OpenSSL's headers give the types
// and constants; every call goes through a choopoe_ wrapper below, which calls the function found by
// choopoe_openssl_load(). Nothing here links against libssl: a direct call to an SSL_* function from Swift fails the
// link, so one cannot slip in.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/// Loads libssl (and with it libcrypto), finds every function the wrappers call, and initialises OpenSSL without its
/// exit-time cleanup (a connection thread still ending its session while the process exits would otherwise use freed
/// memory). 1 on success; 0 with the reason in choopoe_openssl_load_error(). Call once, before any wrapper (Swift's
/// `static let` in TLSContext does), never concurrently with itself.
int choopoe_openssl_load(void);
/// Why choopoe_openssl_load() failed: dlopen's or dlsym's words.
const char *choopoe_openssl_load_error(void);

// One wrapper per OpenSSL call the transport makes (the macros among them, e.g. SSL_CTX_set_min_proto_version, are
// SSL_CTX_ctrl/SSL_ctrl calls Swift cannot import).
const SSL_METHOD *choopoe_TLS_client_method(void);
SSL_CTX *choopoe_SSL_CTX_new(const SSL_METHOD *method);
void choopoe_SSL_CTX_free(SSL_CTX *ctx);
long choopoe_ctx_set_min_tls12(SSL_CTX *ctx);
/// Auto-retry: a blocking SSL_read that meets a post-handshake record (a TLS 1.3 session ticket) reads on instead of
/// returning WANT_READ.
long choopoe_ctx_set_modes(SSL_CTX *ctx);
void choopoe_SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb callback);
int choopoe_SSL_CTX_load_verify_locations(SSL_CTX *ctx, const char *file, const char *path);
int choopoe_SSL_CTX_set_default_verify_paths(SSL_CTX *ctx);
void choopoe_SSL_CTX_set_client_cert_cb(SSL_CTX *ctx, int (*callback)(SSL *ssl, X509 **x509, EVP_PKEY **pkey));
int choopoe_SSL_CTX_use_certificate_chain_file(SSL_CTX *ctx, const char *file);
int choopoe_SSL_CTX_use_PrivateKey_file(SSL_CTX *ctx, const char *file, int type);
int choopoe_SSL_CTX_check_private_key(const SSL_CTX *ctx);
/// An encrypted key is refused at once: OpenSSL's default asks for its passphrase on the terminal (stdin without one),
/// from every connection thread that loads it.
void choopoe_ctx_refuse_passphrase(SSL_CTX *ctx);

SSL *choopoe_SSL_new(SSL_CTX *ctx);
void choopoe_SSL_free(SSL *ssl);
int choopoe_SSL_set_ex_data(SSL *ssl, int index, void *data);
void *choopoe_SSL_get_ex_data(const SSL *ssl, int index);
X509_VERIFY_PARAM *choopoe_SSL_get0_param(SSL *ssl);
int choopoe_X509_VERIFY_PARAM_set1_ip_asc(X509_VERIFY_PARAM *param, const char *ip);
int choopoe_SSL_set1_host(SSL *ssl, const char *hostname);
long choopoe_ssl_set_sni(SSL *ssl, const char *name);
int choopoe_SSL_set_fd(SSL *ssl, int fd);
int choopoe_SSL_connect(SSL *ssl);
long choopoe_SSL_get_verify_result(const SSL *ssl);
const char *choopoe_X509_verify_cert_error_string(long n);
int choopoe_SSL_read(SSL *ssl, void *buffer, int count);
int choopoe_SSL_write(SSL *ssl, const void *buffer, int count);
int choopoe_SSL_get_error(const SSL *ssl, int result);
int choopoe_SSL_shutdown(SSL *ssl);

unsigned long choopoe_ERR_get_error(void);
const char *choopoe_ERR_reason_error_string(unsigned long code);
void choopoe_ERR_clear_error(void);

#endif
