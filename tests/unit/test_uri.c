/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_uri.c - RFC 7512 PKCS#11 URI parser and formatter (lib/uri.c).
 * Every case checks the decoded values or the exact reason, not only the
 * return code.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nkhsm.h"

static nkhsm_uri_t *
parse_ok(const char *s)
{
	nkhsm_uri_t *uri = NULL;
	const char *err = "unset";
	int r;

	r = nkhsm_uri_parse(s, &uri, &err);
	if (r != 0)
		fail_msg("parse '%s': %d (%s)", s, r, err ? err : "-");
	assert_non_null(uri);
	assert_null(err);
	return uri;
}

static void
parse_fails(const char *s, const char *reason)
{
	nkhsm_uri_t *uri = (nkhsm_uri_t *)&uri;	/* must be reset to NULL */
	const char *err = NULL;

	if (nkhsm_uri_parse(s, &uri, &err) != NKHSM_ERR_URI)
		fail_msg("'%s' was not refused", s);
	assert_null(uri);
	assert_non_null(err);
	if (strcmp(err, reason) != 0)
		fail_msg("'%s': reason '%s', expected '%s'", s, err, reason);
}

static void
test_all_attributes(void **state)
{
	static const uint8_t id[] = { 0x01, 0xff };
	nkhsm_uri_t *uri;
	const uint8_t *p;
	unsigned long slot = 0;
	size_t len = 0;

	uri = parse_ok("pkcs11:token=My%20Token;manufacturer=www.CardContact.de;"
	    "serial=DENK0100001;model=SmartCard-HSM;object=user%20key;"
	    "id=%01%ff;type=private;slot-id=7;slot-description=Nitrokey%20HSM;"
	    "slot-manufacturer=Nitrokey;library-manufacturer=OpenSC%20Project;"
	    "library-description=OpenSC;library-version=0.23"
	    "?pin-source=file:/etc/nkhsm/pin&module-path=/usr/lib/opensc-pkcs11.so"
	    "&module-name=opensc-pkcs11");
	assert_string_equal(nkhsm_uri_token(uri), "My Token");
	assert_string_equal(nkhsm_uri_manufacturer(uri), "www.CardContact.de");
	assert_string_equal(nkhsm_uri_serial(uri), "DENK0100001");
	assert_string_equal(nkhsm_uri_model(uri), "SmartCard-HSM");
	assert_string_equal(nkhsm_uri_object(uri), "user key");
	p = nkhsm_uri_id(uri, &len);
	assert_non_null(p);
	assert_int_equal(len, sizeof(id));
	assert_memory_equal(p, id, sizeof(id));
	assert_int_equal(nkhsm_uri_type(uri), NKHSM_OBJ_PRIVATE);
	assert_int_equal(nkhsm_uri_has_slot_id(uri, &slot), 1);
	assert_int_equal(slot, 7);
	assert_string_equal(nkhsm_uri_pin_source(uri), "file:/etc/nkhsm/pin");
	assert_string_equal(nkhsm_uri_module_path(uri),
	    "/usr/lib/opensc-pkcs11.so");
	nkhsm_uri_free(&uri);
	assert_null(uri);
	nkhsm_uri_free(&uri);	/* NULL is fine */
	nkhsm_uri_free(NULL);
}

static void
test_empty_uri(void **state)
{
	nkhsm_uri_t *uri;
	unsigned long slot = 12345;
	size_t len = 99;

	uri = parse_ok("pkcs11:");
	assert_null(nkhsm_uri_token(uri));
	assert_null(nkhsm_uri_serial(uri));
	assert_null(nkhsm_uri_manufacturer(uri));
	assert_null(nkhsm_uri_model(uri));
	assert_null(nkhsm_uri_object(uri));
	assert_null(nkhsm_uri_pin_source(uri));
	assert_null(nkhsm_uri_module_path(uri));
	assert_null(nkhsm_uri_id(uri, &len));
	assert_int_equal(len, 0);
	assert_int_equal(nkhsm_uri_type(uri), NKHSM_OBJ_ANY);
	assert_int_equal(nkhsm_uri_has_slot_id(uri, &slot), 0);
	assert_int_equal(slot, 12345);
	nkhsm_uri_free(&uri);

	/* An empty query is allowed by the grammar, too. */
	uri = parse_ok("pkcs11:?");
	assert_null(nkhsm_uri_token(uri));
	nkhsm_uri_free(&uri);
	uri = parse_ok("pkcs11:token=a?");
	assert_string_equal(nkhsm_uri_token(uri), "a");
	nkhsm_uri_free(&uri);
}

static void
test_scheme(void **state)
{
	nkhsm_uri_t *uri;

	uri = parse_ok("PKCS11:token=nk");
	assert_string_equal(nkhsm_uri_token(uri), "nk");
	nkhsm_uri_free(&uri);
	uri = parse_ok("Pkcs11:object=user");
	assert_string_equal(nkhsm_uri_object(uri), "user");
	nkhsm_uri_free(&uri);
	parse_fails("pkcs11", "not a pkcs11: URI");
	parse_fails("pkcs12:token=a", "not a pkcs11: URI");
	parse_fails("", "not a pkcs11: URI");
	parse_fails(" pkcs11:", "not a pkcs11: URI");
	parse_fails("token=a", "not a pkcs11: URI");
}

static void
test_id(void **state)
{
	static const uint8_t want[] = { 0x00, 0x7f, 0x80, 0xff, 'a', 'B' };
	char s[16 + 3 * 256];
	uint8_t big[NKHSM_ID_MAX];
	nkhsm_uri_t *uri;
	const uint8_t *p;
	size_t i, len;

	uri = parse_ok("pkcs11:id=%00%7F%80%fFaB");
	p = nkhsm_uri_id(uri, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(p, want, sizeof(want));
	nkhsm_uri_free(&uri);

	/* NKHSM_ID_MAX bytes are fine, one more is not. */
	strcpy(s, "pkcs11:id=");
	for (i = 0; i < NKHSM_ID_MAX; i++) {
		big[i] = (uint8_t)(i * 7 + 3);
		snprintf(s + strlen(s), 4, "%%%02x", big[i]);
	}
	uri = parse_ok(s);
	p = nkhsm_uri_id(uri, &len);
	assert_int_equal(len, NKHSM_ID_MAX);
	assert_memory_equal(p, big, NKHSM_ID_MAX);
	nkhsm_uri_free(&uri);
	strcat(s, "%00");
	parse_fails(s, "id too long");

	parse_fails("pkcs11:id=", "empty id");
	parse_fails("pkcs11:token=a;id=", "empty id");
	parse_fails("pkcs11:id=%01;id=%01", "duplicate attribute");
}

static void
test_type(void **state)
{
	static const struct {
		const char *s;
		nkhsm_objtype_t type;
	} t[] = {
		{ "pkcs11:type=private", NKHSM_OBJ_PRIVATE },
		{ "pkcs11:type=public", NKHSM_OBJ_PUBLIC },
		{ "pkcs11:type=cert", NKHSM_OBJ_CERT },
		{ "pkcs11:type=secret-key", NKHSM_OBJ_SECRET },
		{ "pkcs11:type=data", NKHSM_OBJ_DATA },
		{ "pkcs11:type=%70rivate", NKHSM_OBJ_PRIVATE },
	};
	nkhsm_uri_t *uri;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uri = parse_ok(t[i].s);
		assert_int_equal(nkhsm_uri_type(uri), t[i].type);
		nkhsm_uri_free(&uri);
	}
	parse_fails("pkcs11:type=secret", "invalid type");
	parse_fails("pkcs11:type=Private", "invalid type");
	parse_fails("pkcs11:type=", "invalid type");
	parse_fails("pkcs11:type=private%00", "invalid type");
	parse_fails("pkcs11:type=private;type=public", "duplicate attribute");
}

static void
test_slot_id(void **state)
{
	char s[64];
	nkhsm_uri_t *uri;
	unsigned long slot = 99;

	uri = parse_ok("pkcs11:slot-id=0");
	assert_int_equal(nkhsm_uri_has_slot_id(uri, &slot), 1);
	assert_int_equal(slot, 0);
	assert_int_equal(nkhsm_uri_has_slot_id(uri, NULL), 1);
	nkhsm_uri_free(&uri);

	snprintf(s, sizeof(s), "pkcs11:slot-id=%lu", ULONG_MAX);
	uri = parse_ok(s);
	assert_int_equal(nkhsm_uri_has_slot_id(uri, &slot), 1);
	assert_true(slot == ULONG_MAX);
	nkhsm_uri_free(&uri);

	/* ULONG_MAX + 1: the last digit goes up by one. */
	s[strlen(s) - 1]++;
	parse_fails(s, "invalid slot-id");
	parse_fails("pkcs11:slot-id=99999999999999999999999", "invalid slot-id");
	parse_fails("pkcs11:slot-id=", "invalid slot-id");
	parse_fails("pkcs11:slot-id=-1", "invalid slot-id");
	parse_fails("pkcs11:slot-id=+1", "invalid slot-id");
	parse_fails("pkcs11:slot-id=1a", "invalid slot-id");
	parse_fails("pkcs11:slot-id=0x10", "invalid slot-id");
	parse_fails("pkcs11:slot-id=%201", "invalid slot-id");
	parse_fails("pkcs11:slot-id=1;slot-id=1", "duplicate attribute");
}

static void
test_special_characters(void **state)
{
	nkhsm_uri_t *uri;

	/* pk11-path-res-avail and pk11-query-res-avail are literal. */
	uri = parse_ok("pkcs11:token=:[]@!$'()*+,=&;object=a-._~Z9"
	    "?pin-source=file:/a/b?c|d=e");
	assert_string_equal(nkhsm_uri_token(uri), ":[]@!$'()*+,=&");
	assert_string_equal(nkhsm_uri_object(uri), "a-._~Z9");
	assert_string_equal(nkhsm_uri_pin_source(uri), "file:/a/b?c|d=e");
	nkhsm_uri_free(&uri);

	/* Escaped delimiters and non-ASCII bytes decode. */
	uri = parse_ok("pkcs11:object=a%3Bb%3Fc%26d%25e%2Ff;token=%C3%A9");
	assert_string_equal(nkhsm_uri_object(uri), "a;b?c&d%e/f");
	assert_string_equal(nkhsm_uri_token(uri), "\xc3\xa9");
	nkhsm_uri_free(&uri);

	/* An empty text value is a value (an empty label), not absence. */
	uri = parse_ok("pkcs11:token=");
	assert_non_null(nkhsm_uri_token(uri));
	assert_string_equal(nkhsm_uri_token(uri), "");
	nkhsm_uri_free(&uri);

	/* Vendor attributes are checked, then ignored. */
	uri = parse_ok("pkcs11:x-vendor_1=abc;token=t?x-q=%41");
	assert_string_equal(nkhsm_uri_token(uri), "t");
	nkhsm_uri_free(&uri);

	uri = parse_ok("pkcs11:library-version=3");
	nkhsm_uri_free(&uri);
	uri = parse_ok("pkcs11:library-version=0.23");
	nkhsm_uri_free(&uri);
}

static void
test_malformed(void **state)
{
	char *s;

	parse_fails("pkcs11:token=%G1", "malformed percent-encoding");
	parse_fails("pkcs11:token=%4", "malformed percent-encoding");
	parse_fails("pkcs11:token=%", "malformed percent-encoding");
	parse_fails("pkcs11:token=%4;object=a", "malformed percent-encoding");
	parse_fails("pkcs11:id=%1G", "malformed percent-encoding");
	parse_fails("pkcs11:token=a%00b", "NUL in attribute value");
	parse_fails("pkcs11:object=%00", "NUL in attribute value");
	parse_fails("pkcs11:?pin-source=file:/a%00b",
	    "NUL in attribute value");

	parse_fails("pkcs11:tokn=x", "unknown path attribute");
	parse_fails("pkcs11:Token=x", "unknown path attribute");
	parse_fails("pkcs11:x-=x", "unknown path attribute");
	parse_fails("pkcs11:x-a.b=x", "unknown path attribute");
	parse_fails("pkcs11:pin-source=file:/x", "unknown path attribute");
	parse_fails("pkcs11:?token=x", "unknown query attribute");
	parse_fails("pkcs11:?foo=bar", "unknown query attribute");
	parse_fails("pkcs11:?pin-value=1234",
	    "pin-value is not accepted (use pin-source)");
	parse_fails("pkcs11:token=nk?module-path=/m.so&pin-value=1234",
	    "pin-value is not accepted (use pin-source)");

	parse_fails("pkcs11:token=a;token=b", "duplicate attribute");
	parse_fails("pkcs11:token=a;token=a", "duplicate attribute");
	parse_fails("pkcs11:?pin-source=env:A&pin-source=env:B",
	    "duplicate attribute");
	parse_fails("pkcs11:?module-path=/a&module-path=/a",
	    "duplicate attribute");

	parse_fails("pkcs11:token", "attribute without '='");
	parse_fails("pkcs11:token=a;object", "attribute without '='");
	parse_fails("pkcs11:?pin-source=a&b", "attribute without '='");
	parse_fails("pkcs11:token=a;", "empty path attribute");
	parse_fails("pkcs11:;token=a", "empty path attribute");
	parse_fails("pkcs11:token=a;;object=b", "empty path attribute");
	parse_fails("pkcs11:?pin-source=env:A&", "empty query attribute");
	parse_fails("pkcs11:?module-path=", "empty query attribute value");
	parse_fails("pkcs11:?pin-source=", "empty query attribute value");

	/* Characters outside the RFC's sets must be escaped. */
	parse_fails("pkcs11:token=a b", "character must be percent-encoded");
	parse_fails("pkcs11:token=a\"b", "character must be percent-encoded");
	parse_fails("pkcs11:token=<nk>", "character must be percent-encoded");
	parse_fails("pkcs11:object=a/b", "character must be percent-encoded");
	parse_fails("pkcs11:object=a|b", "character must be percent-encoded");
	parse_fails("pkcs11:object=a#b", "character must be percent-encoded");
	parse_fails("pkcs11:object=\xc3\xa9", "character must be percent-encoded");
	parse_fails("pkcs11:token=a\tb", "character must be percent-encoded");
	parse_fails("pkcs11:token=a\nb", "character must be percent-encoded");
	parse_fails("pkcs11:?module-path=/a b", "character must be percent-encoded");
	parse_fails("pkcs11:x-v=a b", "character must be percent-encoded");

	parse_fails("pkcs11:library-version=", "invalid library-version");
	parse_fails("pkcs11:library-version=1.", "invalid library-version");
	parse_fails("pkcs11:library-version=.1", "invalid library-version");
	parse_fails("pkcs11:library-version=1.2.3", "invalid library-version");
	parse_fails("pkcs11:library-version=v1", "invalid library-version");

	/* Length cap: NKHSM_URI_MAX characters parse, one more does not. */
	assert_non_null(s = malloc(NKHSM_URI_MAX + 2));
	memset(s, 'a', NKHSM_URI_MAX + 1);
	memcpy(s, "pkcs11:token=", 13);
	s[NKHSM_URI_MAX] = '\0';
	{
		nkhsm_uri_t *uri = parse_ok(s);

		assert_int_equal(strlen(nkhsm_uri_token(uri)),
		    NKHSM_URI_MAX - 13);
		nkhsm_uri_free(&uri);
	}
	s[NKHSM_URI_MAX] = 'a';
	s[NKHSM_URI_MAX + 1] = '\0';
	parse_fails(s, "URI too long");
	free(s);
}

static void
test_bad_arguments(void **state)
{
	nkhsm_uri_t *uri = NULL;
	const char *err = NULL;

	assert_int_equal(nkhsm_uri_parse(NULL, &uri, &err),
	    NKHSM_ERR_INVALID_ARGUMENT);
	assert_null(uri);
	assert_int_equal(nkhsm_uri_parse("pkcs11:", NULL, &err),
	    NKHSM_ERR_INVALID_ARGUMENT);
	/* errp may be NULL. */
	assert_int_equal(nkhsm_uri_parse("pkcs11:bad", &uri, NULL),
	    NKHSM_ERR_URI);
	assert_null(uri);
	assert_int_equal(nkhsm_uri_parse("pkcs11:token=x", &uri, NULL), 0);
	nkhsm_uri_free(&uri);
	/* Accessors are NULL-safe. */
	assert_null(nkhsm_uri_token(NULL));
	assert_int_equal(nkhsm_uri_type(NULL), NKHSM_OBJ_ANY);
	assert_int_equal(nkhsm_uri_has_slot_id(NULL, NULL), 0);
}

static void
format_ok(const char *token, const char *serial, const char *object,
    const uint8_t *id, size_t idlen, nkhsm_objtype_t type, const char *want)
{
	char *s = NULL;

	assert_int_equal(nkhsm_uri_format(token, serial, object, id, idlen,
	    type, &s), 0);
	assert_non_null(s);
	if (want != NULL)
		assert_string_equal(s, want);
	free(s);
}

static void
test_format(void **state)
{
	static const uint8_t id[] = { 0x01, 0xff, 'A' };
	uint8_t bigid[NKHSM_ID_MAX + 1] = { 0 };
	char *s = (char *)&s, *big;

	format_ok(NULL, NULL, NULL, NULL, 0, NKHSM_OBJ_ANY, "pkcs11:");
	format_ok("My Token", "DENK01", "user key", id, sizeof(id),
	    NKHSM_OBJ_PRIVATE, "pkcs11:token=My%20Token;serial=DENK01;"
	    "object=user%20key;id=%01%FF%41;type=private");
	format_ok(NULL, NULL, NULL, id, 1, NKHSM_OBJ_ANY, "pkcs11:id=%01");
	format_ok(NULL, NULL, NULL, NULL, 0, NKHSM_OBJ_SECRET,
	    "pkcs11:type=secret-key");
	format_ok(NULL, NULL, "o", NULL, 0, NKHSM_OBJ_CERT,
	    "pkcs11:object=o;type=cert");
	format_ok("a;b?c/d%e|f\"g#h", NULL, NULL, NULL, 0, NKHSM_OBJ_ANY,
	    "pkcs11:token=a%3Bb%3Fc%2Fd%25e%7Cf%22g%23h");
	format_ok(":[]@!$'()*+,=&-._~", NULL, NULL, NULL, 0, NKHSM_OBJ_ANY,
	    "pkcs11:token=:[]@!$'()*+,=&-._~");
	format_ok("", NULL, NULL, NULL, 0, NKHSM_OBJ_PUBLIC,
	    "pkcs11:token=;type=public");

	assert_int_equal(nkhsm_uri_format(NULL, NULL, NULL, id, 0,
	    NKHSM_OBJ_ANY, &s), NKHSM_ERR_INVALID_ARGUMENT);
	assert_null(s);
	assert_int_equal(nkhsm_uri_format(NULL, NULL, NULL, bigid,
	    sizeof(bigid), NKHSM_OBJ_ANY, &s), NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(nkhsm_uri_format(NULL, NULL, NULL, NULL, 3,
	    NKHSM_OBJ_ANY, &s), NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(nkhsm_uri_format(NULL, NULL, NULL, NULL, 0,
	    (nkhsm_objtype_t)99, &s), NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(nkhsm_uri_format(NULL, NULL, NULL, NULL, 0,
	    NKHSM_OBJ_ANY, NULL), NKHSM_ERR_INVALID_ARGUMENT);
	assert_null(s);

	/* A result that would not parse again (too long) is refused. */
	assert_non_null(big = malloc(2000));
	memset(big, 0xff, 1999);
	big[1999] = '\0';
	s = (char *)&s;
	assert_int_equal(nkhsm_uri_format(big, NULL, NULL, NULL, 0,
	    NKHSM_OBJ_ANY, &s), NKHSM_ERR_TOO_LARGE);
	assert_null(s);
	free(big);
}

static void
round_trip(const char *token, const char *serial, const char *object,
    const uint8_t *id, size_t idlen, nkhsm_objtype_t type)
{
	nkhsm_uri_t *uri;
	const uint8_t *p;
	char *s = NULL;
	size_t len = 0;

	assert_int_equal(nkhsm_uri_format(token, serial, object, id, idlen,
	    type, &s), 0);
	uri = parse_ok(s);
	if (token == NULL)
		assert_null(nkhsm_uri_token(uri));
	else
		assert_string_equal(nkhsm_uri_token(uri), token);
	if (serial == NULL)
		assert_null(nkhsm_uri_serial(uri));
	else
		assert_string_equal(nkhsm_uri_serial(uri), serial);
	if (object == NULL)
		assert_null(nkhsm_uri_object(uri));
	else
		assert_string_equal(nkhsm_uri_object(uri), object);
	p = nkhsm_uri_id(uri, &len);
	if (id == NULL) {
		assert_null(p);
		assert_int_equal(len, 0);
	} else {
		assert_int_equal(len, idlen);
		assert_memory_equal(p, id, idlen);
	}
	assert_int_equal(nkhsm_uri_type(uri), type);
	assert_int_equal(nkhsm_uri_has_slot_id(uri, NULL), 0);
	nkhsm_uri_free(&uri);
	free(s);
}

static void
test_round_trip(void **state)
{
	char all[256];
	uint8_t id[NKHSM_ID_MAX];
	size_t i;

	/* Every byte value but NUL in text; every byte in the id. */
	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	for (i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(255 - i);
	round_trip(all, all + 100, all + 200, id, sizeof(id), NKHSM_OBJ_DATA);
	round_trip("nk", NULL, "user", (const uint8_t *)"\0", 1,
	    NKHSM_OBJ_PRIVATE);
	round_trip(NULL, "DENK0100001", NULL, NULL, 0, NKHSM_OBJ_ANY);
	round_trip("", "", "", NULL, 0, NKHSM_OBJ_PUBLIC);
	for (i = 1; i <= sizeof(id); i += 37)
		round_trip("t;?&=%", NULL, NULL, id, i, NKHSM_OBJ_CERT);
	round_trip(NULL, NULL, NULL, NULL, 0, NKHSM_OBJ_SECRET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_attributes),
		cmocka_unit_test(test_empty_uri),
		cmocka_unit_test(test_scheme),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_slot_id),
		cmocka_unit_test(test_special_characters),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
