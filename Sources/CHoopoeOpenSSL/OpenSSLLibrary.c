// OpenSSL found at run time (see include/CHoopoeOpenSSL.h): dlopen() of the libssl soname the headers belong to, then
// one dlsym() per function into a table the wrappers call through. Loaded once and never closed.
#include "CHoopoeOpenSSL.h"
#include <dlfcn.h>
#include <stdio.h>

#define CHOOPOE_STRING2(x) #x
#define CHOOPOE_STRING(x) CHOOPOE_STRING2(x)
/// libssl.so.3 for OpenSSL 3: the ABI these headers describe (libcrypto comes in as its dependency).
#define CHOOPOE_LIBSSL "libssl.so." CHOOPOE_STRING(OPENSSL_SHLIB_VERSION)

#define CHOOPOE_OPENSSL_FUNCTIONS(X) \
    X(OPENSSL_init_ssl) X(TLS_client_method) X(SSL_CTX_new) X(SSL_CTX_free) X(SSL_CTX_ctrl) X(SSL_CTX_set_verify) \
    X(SSL_CTX_load_verify_locations) X(SSL_CTX_set_default_verify_paths) X(SSL_CTX_set_client_cert_cb) \
    X(SSL_CTX_use_certificate_chain_file) X(SSL_CTX_use_PrivateKey_file) X(SSL_CTX_check_private_key) \
    X(SSL_new) X(SSL_free) X(SSL_set_ex_data) X(SSL_get_ex_data) X(SSL_get0_param) X(X509_VERIFY_PARAM_set1_ip_asc) \
    X(SSL_set1_host) X(SSL_ctrl) X(SSL_set_fd) X(SSL_connect) X(SSL_get_verify_result) X(X509_verify_cert_error_string) \
    X(SSL_read) X(SSL_write) X(SSL_get_error) X(SSL_shutdown) X(ERR_get_error) X(ERR_reason_error_string) \
    X(ERR_clear_error) X(SSL_CTX_set_default_passwd_cb)

#define CHOOPOE_FIELD(name) __typeof__(&name) name;
static struct { CHOOPOE_OPENSSL_FUNCTIONS(CHOOPOE_FIELD) } fn;
static char load_error[512];

int choopoe_openssl_load(void) {
    void *library = dlopen(CHOOPOE_LIBSSL, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(load_error, sizeof load_error, "%s", reason ? reason : "cannot load " CHOOPOE_LIBSSL);
        return 0;
    }
#define CHOOPOE_LOAD(name)                                                                              \
    fn.name = (__typeof__(fn.name))dlsym(library, #name);                                              \
    if (fn.name == NULL) {                                                                             \
        snprintf(load_error, sizeof load_error, "%s has no %s (not OpenSSL %s?)", CHOOPOE_LIBSSL, #name, \
                 CHOOPOE_STRING(OPENSSL_SHLIB_VERSION));                                               \
        return 0;                                                                                      \
    }
    CHOOPOE_OPENSSL_FUNCTIONS(CHOOPOE_LOAD)
    if (fn.OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1) {
        snprintf(load_error, sizeof load_error, "OPENSSL_init_ssl failed");
        return 0;
    }
    return 1;
}

const char *choopoe_openssl_load_error(void) { return load_error; }

const SSL_METHOD *choopoe_TLS_client_method(void) { return fn.TLS_client_method(); }
SSL_CTX *choopoe_SSL_CTX_new(const SSL_METHOD *method) { return fn.SSL_CTX_new(method); }
void choopoe_SSL_CTX_free(SSL_CTX *ctx) { fn.SSL_CTX_free(ctx); }
long choopoe_ctx_set_min_tls12(SSL_CTX *ctx) { return fn.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL); }
long choopoe_ctx_set_modes(SSL_CTX *ctx) { return fn.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_AUTO_RETRY, NULL); }
void choopoe_SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb callback) { fn.SSL_CTX_set_verify(ctx, mode, callback); }
int choopoe_SSL_CTX_load_verify_locations(SSL_CTX *ctx, const char *file, const char *path) {
    return fn.SSL_CTX_load_verify_locations(ctx, file, path);
}
int choopoe_SSL_CTX_set_default_verify_paths(SSL_CTX *ctx) { return fn.SSL_CTX_set_default_verify_paths(ctx); }
void choopoe_SSL_CTX_set_client_cert_cb(SSL_CTX *ctx, int (*callback)(SSL *ssl, X509 **x509, EVP_PKEY **pkey)) {
    fn.SSL_CTX_set_client_cert_cb(ctx, callback);
}
int choopoe_SSL_CTX_use_certificate_chain_file(SSL_CTX *ctx, const char *file) { return fn.SSL_CTX_use_certificate_chain_file(ctx, file); }
int choopoe_SSL_CTX_use_PrivateKey_file(SSL_CTX *ctx, const char *file, int type) { return fn.SSL_CTX_use_PrivateKey_file(ctx, file, type); }
int choopoe_SSL_CTX_check_private_key(const SSL_CTX *ctx) { return fn.SSL_CTX_check_private_key(ctx); }
static int choopoe_no_passphrase(char *buffer, int size, int rwflag, void *userdata) {
    (void)buffer; (void)size; (void)rwflag; (void)userdata;
    return 0;
}
void choopoe_ctx_refuse_passphrase(SSL_CTX *ctx) { fn.SSL_CTX_set_default_passwd_cb(ctx, choopoe_no_passphrase); }

SSL *choopoe_SSL_new(SSL_CTX *ctx) { return fn.SSL_new(ctx); }
void choopoe_SSL_free(SSL *ssl) { fn.SSL_free(ssl); }
int choopoe_SSL_set_ex_data(SSL *ssl, int index, void *data) { return fn.SSL_set_ex_data(ssl, index, data); }
void *choopoe_SSL_get_ex_data(const SSL *ssl, int index) { return fn.SSL_get_ex_data(ssl, index); }
X509_VERIFY_PARAM *choopoe_SSL_get0_param(SSL *ssl) { return fn.SSL_get0_param(ssl); }
int choopoe_X509_VERIFY_PARAM_set1_ip_asc(X509_VERIFY_PARAM *param, const char *ip) { return fn.X509_VERIFY_PARAM_set1_ip_asc(param, ip); }
int choopoe_SSL_set1_host(SSL *ssl, const char *hostname) { return fn.SSL_set1_host(ssl, hostname); }
long choopoe_ssl_set_sni(SSL *ssl, const char *name) {
    return fn.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)name);
}
int choopoe_SSL_set_fd(SSL *ssl, int fd) { return fn.SSL_set_fd(ssl, fd); }
int choopoe_SSL_connect(SSL *ssl) { return fn.SSL_connect(ssl); }
long choopoe_SSL_get_verify_result(const SSL *ssl) { return fn.SSL_get_verify_result(ssl); }
const char *choopoe_X509_verify_cert_error_string(long n) { return fn.X509_verify_cert_error_string(n); }
int choopoe_SSL_read(SSL *ssl, void *buffer, int count) { return fn.SSL_read(ssl, buffer, count); }
int choopoe_SSL_write(SSL *ssl, const void *buffer, int count) { return fn.SSL_write(ssl, buffer, count); }
int choopoe_SSL_get_error(const SSL *ssl, int result) { return fn.SSL_get_error(ssl, result); }
int choopoe_SSL_shutdown(SSL *ssl) { return fn.SSL_shutdown(ssl); }

unsigned long choopoe_ERR_get_error(void) { return fn.ERR_get_error(); }
const char *choopoe_ERR_reason_error_string(unsigned long code) { return fn.ERR_reason_error_string(code); }
void choopoe_ERR_clear_error(void) { fn.ERR_clear_error(); }
