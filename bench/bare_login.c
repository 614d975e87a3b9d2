/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bare_login.c - the least a program can do to authenticate a user with a
 * token key: the baseline that the PAM modules are measured against
 * (bench/pam.sh).
 *
 *   bare_login MODULE KEY-ID-HEX PIN
 *
 * dlopen, C_GetFunctionList, C_Initialize, C_GetSlotList (the first slot
 * with a token: SoftHSM lists initialized tokens before its free slot),
 * C_OpenSession, C_Login, one search by CKA_ID and CKA_KEY_TYPE that finds
 * the key pair (private and public key), C_GetAttributeValue for the public
 * key's CKA_EC_PARAMS and CKA_EC_POINT (a second one when the first object
 * found is the private key), SHA-256 of a random challenge on the host,
 * C_SignInit + C_Sign (raw CKM_ECDSA), verify with OpenSSL, C_Logout,
 * C_Finalize. No checks beyond what is needed to run; exit 0 only when the
 * signature verifies.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <p11-kit/pkcs11.h>

/* verify: raw r||s signature SIG over DGST with the EC public key given as
 * DER CKA_EC_PARAMS (a named curve OID) and DER CKA_EC_POINT (an OCTET
 * STRING holding the uncompressed point). */
static int
verify(const unsigned char *params, long plen, const unsigned char *point, long qlen,
    const unsigned char *dgst, size_t dlen, const unsigned char *sig, size_t slen)
{
	const unsigned char *p = params;
	ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, plen);
	ASN1_OCTET_STRING *os;
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx;
	ECDSA_SIG *es;
	unsigned char *der = NULL;
	int derlen, ok = 0;

	if (oid == NULL)
		return 0;
	const char *group = OBJ_nid2sn(OBJ_obj2nid(oid));
	ASN1_OBJECT_free(oid);
	p = point;
	if (group == NULL || (os = d2i_ASN1_OCTET_STRING(NULL, &p, qlen)) == NULL)
		return 0;
	OSSL_PARAM op[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, os->data, (size_t)os->length),
		OSSL_PARAM_END,
	};
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, op);
	EVP_PKEY_CTX_free(ctx);
	ASN1_OCTET_STRING_free(os);
	if (pk == NULL || slen % 2 != 0 || (es = ECDSA_SIG_new()) == NULL)
		goto out;
	ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)slen / 2, NULL),
	    BN_bin2bn(sig + slen / 2, (int)slen / 2, NULL));
	derlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (derlen > 0 && (ctx = EVP_PKEY_CTX_new(pk, NULL)) != NULL) {
		ok = EVP_PKEY_verify_init(ctx) == 1 &&
		    EVP_PKEY_verify(ctx, der, (size_t)derlen, dgst, dlen) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	OPENSSL_free(der);
out:
	EVP_PKEY_free(pk);
	return ok;
}

int
main(int argc, char **argv)
{
	CK_FUNCTION_LIST_PTR f;
	CK_C_GetFunctionList getfl;
	CK_SLOT_ID slots[16];
	CK_ULONG nslots = 16, n = 0, i, siglen;
	CK_SESSION_HANDLE h;
	CK_KEY_TYPE kt = CKK_EC;
	CK_OBJECT_HANDLE obj[2], key = CK_INVALID_HANDLE;
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	unsigned char id[64], chal[32], dgst[32], sig[256], params[64], point[256];
	unsigned int dlen;
	size_t idlen;
	void *dl;
	int ok;

	if (argc != 4)
		return 2;
	for (idlen = 0; argv[2][2 * idlen] != '\0' && idlen < sizeof(id); idlen++)
		sscanf(argv[2] + 2 * idlen, "%2hhx", &id[idlen]);
	if ((dl = dlopen(argv[1], RTLD_NOW)) == NULL)
		return 1;
	*(void **)&getfl = dlsym(dl, "C_GetFunctionList");
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_ID, id, idlen },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
	};
	if (getfl == NULL || getfl(&f) != CKR_OK || f->C_Initialize(NULL) != CKR_OK ||
	    f->C_GetSlotList(CK_TRUE, slots, &nslots) != CKR_OK || nslots == 0 ||
	    f->C_OpenSession(slots[0], CKF_SERIAL_SESSION, NULL, NULL, &h) != CKR_OK ||
	    f->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)argv[3], strlen(argv[3])) != CKR_OK ||
	    f->C_FindObjectsInit(h, tmpl, 2) != CKR_OK ||
	    f->C_FindObjects(h, obj, 2, &n) != CKR_OK ||
	    f->C_FindObjectsFinal(h) != CKR_OK || n != 2)
		return 1;
	/* The public key is the one with a CKA_EC_POINT; the other signs. */
	CK_ATTRIBUTE pub[] = {
		{ CKA_EC_PARAMS, params, sizeof(params) },
		{ CKA_EC_POINT, point, sizeof(point) },
	};
	for (i = 0; i < n && key == CK_INVALID_HANDLE; i++) {
		pub[0].ulValueLen = sizeof(params);
		pub[1].ulValueLen = sizeof(point);
		if (f->C_GetAttributeValue(h, obj[i], pub, 2) == CKR_OK)
			key = obj[1 - i];
	}
	if (key == CK_INVALID_HANDLE)
		return 1;
	RAND_bytes(chal, sizeof(chal));
	EVP_Digest(chal, sizeof(chal), dgst, &dlen, EVP_sha256(), NULL);
	siglen = sizeof(sig);
	if (f->C_SignInit(h, &mech, key) != CKR_OK ||
	    f->C_Sign(h, dgst, dlen, sig, &siglen) != CKR_OK)
		return 1;
	ok = verify(params, (long)pub[0].ulValueLen, point, (long)pub[1].ulValueLen,
	    dgst, dlen, sig, siglen);
	f->C_Logout(h);
	f->C_Finalize(NULL);
	return ok ? 0 : 1;
}
