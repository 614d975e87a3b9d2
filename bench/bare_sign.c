/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bare_sign.c - the least a program can do to sign with a token key: the
 * baseline that nkhsm-tool sign is measured against (bench/run.sh).
 *
 *   bare_sign MODULE TOKEN-LABEL KEY-ID-HEX PIN [N] < message > signature
 *
 * With N, the message is hashed and signed N times in the same session: the
 * raw signing rate of the token, for bench/sshca.sh.
 *
 * dlopen, C_GetFunctionList, C_Initialize, C_GetSlotList, C_GetTokenInfo
 * (to pick the token by label), C_OpenSession, C_Login, find the private key
 * by CKA_ID, SHA-256 on the host, C_SignInit + C_Sign (raw CKM_ECDSA),
 * C_Finalize. No checks beyond what is needed to run.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

int
main(int argc, char **argv)
{
	CK_FUNCTION_LIST_PTR f;
	CK_C_GetFunctionList getfl;
	CK_SLOT_ID slots[16], slot = 0;
	CK_ULONG nslots = 16, i, n, siglen;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE h;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	unsigned char id[64], msg[65536], dgst[32], sig[256];
	unsigned int dlen;
	size_t idlen = 0, mlen;
	void *dl;
	int found = 0;
	long n_sign = 1, k;

	if (argc != 5 && argc != 6)
		return 2;
	if (argc == 6 && (n_sign = strtol(argv[5], NULL, 10)) < 1)
		return 2;
	for (idlen = 0; argv[3][2 * idlen] != '\0' && idlen < sizeof(id); idlen++)
		sscanf(argv[3] + 2 * idlen, "%2hhx", &id[idlen]);
	mlen = fread(msg, 1, sizeof(msg), stdin);
	if ((dl = dlopen(argv[1], RTLD_NOW)) == NULL)
		return 1;
	*(void **)&getfl = dlsym(dl, "C_GetFunctionList");
	if (getfl(&f) != CKR_OK || f->C_Initialize(NULL) != CKR_OK ||
	    f->C_GetSlotList(CK_TRUE, slots, &nslots) != CKR_OK)
		return 1;
	for (i = 0; i < nslots && !found; i++) {
		if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    strncmp((char *)ti.label, argv[2], strlen(argv[2])) == 0) {
			slot = slots[i];
			found = 1;
		}
	}
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, id, idlen },
	};
	if (!found ||
	    f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h) != CKR_OK ||
	    f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)argv[4], strlen(argv[4])) != CKR_OK ||
	    f->C_FindObjectsInit(h, tmpl, 2) != CKR_OK ||
	    f->C_FindObjects(h, &key, 1, &n) != CKR_OK || n != 1 ||
	    f->C_FindObjectsFinal(h) != CKR_OK)
		return 1;
	for (k = 0; k < n_sign; k++) {
		if (n_sign > 1)
			msg[0] = (unsigned char)k;	/* a new message each time */
		EVP_Digest(msg, mlen > 0 ? mlen : 1, dgst, &dlen, EVP_sha256(), NULL);
		siglen = sizeof(sig);
		if (f->C_SignInit(h, &mech, key) != CKR_OK ||
		    f->C_Sign(h, dgst, dlen, sig, &siglen) != CKR_OK)
			return 1;
	}
	fwrite(sig, 1, siglen, stdout);
	f->C_Finalize(NULL);
	return 0;
}
