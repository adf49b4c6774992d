/*
 * token.c — HMAC tokens for addresses: varint(a) varint(b) and the first
 * ten bytes of HMAC-SHA256(key, kind || varints), base32 in lower case.
 * Compares MACs in constant time; never logs a key or a whole token.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/token.h"

#define MAC_LEN 10

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static size_t
varint_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* Reads a varint; 0 if malformed or longer than ten bytes. */
static size_t
varint_get(const unsigned char *p, size_t len, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < len && i < 10; i++) {
		*v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80))
			return i + 1;
	}
	return 0;
}

static void
mac(const unsigned char key[SECRET_LEN], enum token_kind kind,
    const unsigned char *data, size_t len, unsigned char out[MAC_LEN])
{
	unsigned char msg[32], full[EVP_MAX_MD_SIZE];
	unsigned int fulllen = 0;

	msg[0] = (unsigned char)kind;
	memcpy(msg + 1, data, len);
	HMAC(EVP_sha256(), key, SECRET_LEN, msg, len + 1, full, &fulllen);
	memcpy(out, full, MAC_LEN);
}

void
token_make(const unsigned char key[SECRET_LEN], enum token_kind kind,
    uint64_t a, uint64_t b, char out[TOKEN_MAX])
{
	unsigned char raw[20 + MAC_LEN + 4];
	size_t n = varint_put(raw, a), o = 0;
	unsigned acc = 0, bits = 0;

	n += varint_put(raw + n, b);
	mac(key, kind, raw, n, raw + n);
	n += MAC_LEN;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

static int
b32_val(int c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int
token_read(const unsigned char key[SECRET_LEN], enum token_kind kind,
    const char *s, uint64_t *a, uint64_t *b)
{
	unsigned char raw[40], want[MAC_LEN];
	size_t n = 0, used, used2;
	unsigned acc = 0, bits = 0;

	if (strlen(s) >= TOKEN_MAX)
		return -1;
	for (; *s; s++) {
		int v = b32_val((unsigned char)*s);

		if (v < 0)
			return -1;
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			raw[n++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (n < MAC_LEN + 2 || (used = varint_get(raw, n - MAC_LEN, a)) == 0 ||
	    (used2 = varint_get(raw + used, n - MAC_LEN - used, b)) == 0 ||
	    used + used2 != n - MAC_LEN)
		return -1;
	mac(key, kind, raw, n - MAC_LEN, want);
	return CRYPTO_memcmp(want, raw + n - MAC_LEN, MAC_LEN) == 0 ? 0 : -1;
}
