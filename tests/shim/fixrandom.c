/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fixrandom.c - a test-only LD_PRELOAD library: getrandom() returns the same
 * bytes in every process that loads it. Built by `make check`, never
 * installed.
 *
 * pam_nkhsm draws its challenge's nonce with getrandom(). Two logins under
 * this library get the same nonce, so their challenges differ only in what
 * binds them to a login (host, service, user). tests/integration/pam-bind.sh
 * has the token sign one login's challenge at another (NKFAULT_RECORD_DATA,
 * NKFAULT_REPLAY_DATA) to prove that binding on its own, whatever the
 * challenge's layout, without knowing it.
 *
 * Everything else that calls getrandom() in that process gets the fixed
 * bytes too (OpenSSL's seed): never load it where randomness matters.
 */
#include <sys/random.h>

#include <string.h>

ssize_t
getrandom(void *buf, size_t len, unsigned int flags)
{
	(void)flags;
	memset(buf, 0x5a, len);
	return (ssize_t)len;
}
