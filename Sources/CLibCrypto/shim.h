// libcrypto from the system (Debian: libssl-dev), for SASL SCRAM's SHA-2, HMAC and PBKDF2:
// OpenSSL's one-shot EVP digest, HMAC and PKCS5_PBKDF2_HMAC, none of them deprecated in 3.x.
#include <openssl/evp.h>
#include <openssl/hmac.h>
