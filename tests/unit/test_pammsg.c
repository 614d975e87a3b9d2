/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pammsg.c - what pam_nkhsm tells the user about a token
 * (pam_nkhsm/util.c): its name ("Nitrokey HSM" only for one), the PIN
 * tries (exact where the card gives them, else what the flags say), the
 * helper's discovery request and answer round trip, and how the driver is
 * chosen: driver= and cachedir= (options.c), driver = in nkhsm.conf.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "pamnk.h"
#include "proto.h"

static void
test_token_name(void **state)
{
	char out[128];

	pnk_token_name(NKHSM_TOKEN_NITROKEY, "nk (UserPIN)", out, sizeof(out));
	assert_string_equal(out, "Nitrokey HSM 'nk (UserPIN)'");
	pnk_token_name(0, "Pico-HSM (UserPIN)", out, sizeof(out));
	assert_string_equal(out, "token 'Pico-HSM (UserPIN)'");
	pnk_token_name(NKHSM_TOKEN_PIN_COUNT_LOW, "soft", out, sizeof(out));
	assert_string_equal(out, "token 'soft'");
	/* A label with a quote or a control character is escaped. */
	pnk_token_name(0, "a'b\n", out, sizeof(out));
	assert_string_equal(out, "token 'a'b\\x0a'");
}

static void
test_tries_text(void **state)
{
	char tt[64];

	/* The card's exact count wins over the flags. */
	assert_string_equal(pnk_tries_text(0, 3, tt, sizeof(tt)), "3 PIN tries left");
	assert_string_equal(pnk_tries_text(NKHSM_TOKEN_PIN_COUNT_LOW, 2, tt,
	    sizeof(tt)), "2 PIN tries left");
	assert_string_equal(pnk_tries_text(0, 1, tt, sizeof(tt)),
	    "1 PIN try left before the token locks");
	assert_string_equal(pnk_tries_text(0, 0, tt, sizeof(tt)),
	    "the PIN is locked");
	/* Unknown count: the flags. */
	assert_string_equal(pnk_tries_text(NKHSM_TOKEN_PIN_COUNT_LOW, -1, tt,
	    sizeof(tt)), "fewer PIN tries left than the maximum");
	assert_string_equal(pnk_tries_text(NKHSM_TOKEN_PIN_FINAL_TRY, -1, tt,
	    sizeof(tt)), "1 PIN try left before the token locks");
	assert_string_equal(pnk_tries_text(NKHSM_TOKEN_PIN_LOCKED, -1, tt,
	    sizeof(tt)), "the PIN is locked");
	assert_null(pnk_tries_text(0, -1, tt, sizeof(tt)));
}

static void
test_found(void **state)
{
	struct pnk_found f = { .tries = -1 };
	struct nk_buf b;
	uint32_t tries[] = { 3, 0, 15, 16, 0xffffffff, 0x80000000 };
	int want[] = { 3, 0, 15, -1, -1, -1 };
	size_t i;

	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		nk_buf_init(&b);
		assert_int_equal(nk_buf_put_cstring(&b, "label"), 0);
		assert_int_equal(nk_buf_put_cstring(&b, "DENK0100123"), 0);
		assert_int_equal(nk_buf_put_u32(&b, NKHSM_TOKEN_NITROKEY), 0);
		assert_int_equal(nk_buf_put_u32(&b, 6), 0);
		assert_int_equal(nk_buf_put_u32(&b, 15), 0);
		assert_int_equal(nk_buf_put_u32(&b, 2), 0);
		assert_int_equal(nk_buf_put_string(&b, "\x01", 1), 0);
		assert_int_equal(nk_buf_put_cstring(&b, "SmartCard-HSM"), 0);
		assert_int_equal(nk_buf_put_cstring(&b, "www.CardContact.de"), 0);
		assert_int_equal(nk_buf_put_u32(&b, tries[i]), 0);
		assert_int_equal(nk_buf_put_u8(&b, PNK_DRIVER_PCSC), 0);
		assert_int_equal(pnk_found_parse(&b, &f), 0);
		assert_string_equal(f.label, "label");
		assert_string_equal(f.serial, "DENK0100123");
		assert_int_equal(f.flags, NKHSM_TOKEN_NITROKEY);
		assert_int_equal(f.minpin, 6);
		assert_int_equal(f.maxpin, 15);
		assert_int_equal(f.index, 2);
		assert_string_equal(f.model, "SmartCard-HSM");
		assert_string_equal(f.manufacturer, "www.CardContact.de");
		assert_int_equal(f.tries, want[i]);
		assert_int_equal(f.driver, PNK_DRIVER_PCSC);
		nk_buf_free(&b);
	}
	/* Cut short: an error, and nothing left. */
	nk_buf_init(&b);
	assert_int_equal(nk_buf_put_cstring(&b, "label"), 0);
	assert_int_equal(nk_buf_put_cstring(&b, "serial"), 0);
	assert_int_not_equal(pnk_found_parse(&b, &f), 0);
	assert_null(f.label);
	assert_null(f.serial);
	assert_null(f.model);
	assert_int_equal(f.tries, -1);
	nk_buf_free(&b);
	pnk_found_free(&f);
}

static void
test_discover_request(void **state)
{
	struct pnk_keys *keys = calloc(1, sizeof(*keys));
	struct nk_buf b;
	const uint8_t *blob;
	size_t len;
	uint32_t n;
	uint8_t mode, driver;
	char *s;

	assert_non_null(keys);
	keys->n = 1;
	keys->key[0].blob = (uint8_t *)"blob";
	keys->key[0].bloblen = 4;
	nk_buf_init(&b);
	assert_int_equal(pnk_put_discover(&b, "/m.so", NULL, DISCOVER_KEYS, keys,
	    PNK_DRIVER_PKCS11, "/var/cache/nkhsm/card-hints"), 0);
	assert_int_equal(nk_buf_get_cstring(&b, &s, NULL), 0);
	assert_string_equal(s, "/m.so");
	free(s);
	assert_int_equal(nk_buf_get_cstring(&b, &s, NULL), 0);
	assert_string_equal(s, "");	/* no token= */
	free(s);
	assert_int_equal(nk_buf_get_u8(&b, &mode), 0);
	assert_int_equal(mode, DISCOVER_KEYS);
	assert_int_equal(nk_buf_get_u32(&b, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(nk_buf_get_string_direct(&b, &blob, &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(nk_buf_get_u8(&b, &driver), 0);
	assert_int_equal(driver, PNK_DRIVER_PKCS11);
	assert_int_equal(nk_buf_get_cstring(&b, &s, NULL), 0);
	assert_string_equal(s, "/var/cache/nkhsm/card-hints");
	free(s);
	assert_int_equal(nk_buf_avail(&b), 0);
	nk_buf_free(&b);
	free(keys);
}

static void
test_driver_option(void **state)
{
	static const struct { const char *arg; unsigned int driver; } ok[] = {
		{ "driver=auto", PNK_DRIVER_AUTO },
		{ "driver=pcsc", PNK_DRIVER_PCSC },
		{ "driver=pkcs11", PNK_DRIVER_PKCS11 },
	};
	static const char *const bad[] = {
		"driver=", "driver=PCSC", "driver=pcsc ", "driver=opensc", "driver",
	};
	const char *argv[2];
	struct pnk_opts o;
	char err[256];
	size_t i;

	assert_int_equal(pnk_opts_parse(0, NULL, &o, err, sizeof(err)), 0);
	assert_int_equal(o.driver, PNK_DRIVER_AUTO);
	assert_int_equal(o.driver_set, 0);
	assert_string_equal(o.cachedir, "/var/cache/nkhsm");
	pnk_opts_free(&o);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		argv[0] = ok[i].arg;
		assert_int_equal(pnk_opts_parse(1, argv, &o, err, sizeof(err)), 0);
		assert_int_equal(o.driver, ok[i].driver);
		assert_int_equal(o.driver_set, 1);
		pnk_opts_free(&o);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[0] = bad[i];
		err[0] = '\0';
		assert_int_equal(pnk_opts_parse(1, argv, &o, err, sizeof(err)),
		    NKHSM_ERR_CONFIG);
		assert_non_null(strstr(err, "driver"));
	}
	argv[0] = "driver=pcsc";
	argv[1] = "driver=pkcs11";
	assert_int_equal(pnk_opts_parse(2, argv, &o, err, sizeof(err)),
	    NKHSM_ERR_CONFIG);
	assert_string_equal(err, "option 'driver' given twice");
	argv[0] = "cachedir=/var/cache/other";
	assert_int_equal(pnk_opts_parse(1, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.cachedir, "/var/cache/other");
	pnk_opts_free(&o);
	argv[0] = "cachedir=cache";
	assert_int_equal(pnk_opts_parse(1, argv, &o, err, sizeof(err)),
	    NKHSM_ERR_CONFIG);
	assert_string_equal(err, "option 'cachedir': 'cache' is not an absolute path");
	assert_int_equal(pnk_driver_parse("pkcs11"), PNK_DRIVER_PKCS11);
	assert_int_equal(pnk_driver_parse("auto "), -1);
}

static void
test_conf_driver(void **state)
{
	static const char *const bad[] = {
		"driver = PCSC\n", "driver = \n", "driver = pcsc pkcs11\n",
		"driver = auto\ndriver = auto\n",
	};
	nkhsm_conf_t *conf = NULL;
	char err[256];
	size_t i;

	assert_int_equal(nkhsm_conf_parse("c", "driver = pcsc\n", 14, &conf, err,
	    sizeof(err)), 0);
	assert_string_equal(nkhsm_conf_driver(conf), "pcsc");
	nkhsm_conf_free(&conf);
	assert_int_equal(nkhsm_conf_parse("c", "module = /m.so\n", 15, &conf, err,
	    sizeof(err)), 0);
	assert_null(nkhsm_conf_driver(conf));
	nkhsm_conf_free(&conf);
	assert_null(nkhsm_conf_driver(NULL));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(nkhsm_conf_parse("c", bad[i], strlen(bad[i]),
		    &conf, err, sizeof(err)), NKHSM_ERR_CONFIG);
		assert_null(conf);
		assert_true(strncmp(err, "c:", 2) == 0);
	}
	assert_int_equal(nkhsm_conf_parse("c", "driver = x\n", 11, &conf, err,
	    sizeof(err)), NKHSM_ERR_CONFIG);
	assert_string_equal(err, "c:1: driver must be auto, pcsc or pkcs11");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_name),
		cmocka_unit_test(test_tries_text),
		cmocka_unit_test(test_found),
		cmocka_unit_test(test_discover_request),
		cmocka_unit_test(test_driver_option),
		cmocka_unit_test(test_conf_driver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
