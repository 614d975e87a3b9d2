/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_hotplug_cards.c - nkhsm-hotplug's PC/SC decisions without a reader:
 * the USB serial in a reader's name (the pairing of a Nitrokey HSM's USB
 * device with its reader), what changed in a reader between two looks,
 * the card's own serial binding records exactly whatever serial_match
 * says, and the card_timeout setting.
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
#include "hotplug.h"

static void
test_usb_serial(void **state)
{
	char out[HP_SERIAL_MAX + 1];
	char big[NKHSM_READER_NAME_MAX + 8];

	/* Blanks as udev writes ID_SERIAL_SHORT: trimmed, "_" inside. */
	assert_int_equal(hp_reader_usb_serial(
	    "Nitrokey Nitrokey HSM (DENK01234560000         ) 00 00", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "DENK01234560000");
	assert_int_equal(hp_reader_usb_serial("R ( A  B ) 00 00", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "A_B");
	assert_int_equal(hp_reader_usb_serial("R (   ) 00 00", out,
	    sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(hp_reader_usb_serial(
	    "Nitrokey Nitrokey HSM (DENK0100001) 00 00", out, sizeof(out)), 0);
	assert_string_equal(out, "DENK0100001");
	assert_int_equal(hp_reader_usb_serial(
	    "Nitrokey Nitrokey HSM [CCID Interface] (0123ABC) 01 00", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "0123ABC");
	/* No serial, no pcscd suffix, empty, nested, strange characters. */
	assert_int_equal(hp_reader_usb_serial("Virtual PCD 00 00", out,
	    sizeof(out)), -1);
	assert_int_equal(hp_reader_usb_serial("Reader (ABC)", out,
	    sizeof(out)), -1);
	assert_int_equal(hp_reader_usb_serial("Reader () 00 00", out,
	    sizeof(out)), -1);
	assert_int_equal(hp_reader_usb_serial("Reader (A(B) 00 00", out,
	    sizeof(out)), -1);
	assert_int_equal(hp_reader_usb_serial("Reader(ABC) 00 00", out,
	    sizeof(out)), -1);
	assert_int_equal(hp_reader_usb_serial("Reader (A;B) 00 00", out,
	    sizeof(out)), -1);
	assert_int_equal(hp_reader_usb_serial("Reader (ABC) 0g 00", out,
	    sizeof(out)), -1);
	assert_int_equal(hp_reader_usb_serial("(ABC) 00 00", out,
	    sizeof(out)), -1);
	assert_int_equal(hp_reader_usb_serial(NULL, out, sizeof(out)), -1);
	/* A name longer than any reader's is refused, not cut. */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big + sizeof(big) - 12, " (XY) 00 00", 11);
	assert_int_equal(hp_reader_usb_serial(big, out, sizeof(out)), -1);
	/* A serial longer than HP_SERIAL_MAX had to be cut: names nothing. */
	memset(big, 'A', sizeof(big));
	memcpy(big, "R (", 3);
	memcpy(big + 3 + HP_SERIAL_MAX + 1, ") 00 00", 8);
	assert_int_equal(hp_reader_usb_serial(big, out, sizeof(out)), -1);
}

static void
reader(nkhsm_reader_t *r, unsigned int state, unsigned int events,
    uint8_t atr0)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "R 00 00");
	r->state = state;
	r->events = events;
	if (state & NKHSM_READER_PRESENT) {
		r->atr[0] = atr0;
		r->atrlen = 1;
	}
}

static void
test_card_diff(void **state)
{
	nkhsm_reader_t empty, card, card2, mute, gone, inuse, other;

	reader(&empty, NKHSM_READER_EMPTY, 2, 0);
	reader(&card, NKHSM_READER_PRESENT | NKHSM_READER_SCHSM, 1, 0x3b);
	reader(&inuse, NKHSM_READER_PRESENT | NKHSM_READER_SCHSM |
	    NKHSM_READER_INUSE, 1, 0x3b);
	reader(&card2, NKHSM_READER_PRESENT | NKHSM_READER_SCHSM, 3, 0x3b);
	reader(&other, NKHSM_READER_PRESENT, 1, 0x3f);
	reader(&mute, NKHSM_READER_PRESENT | NKHSM_READER_MUTE, 1, 0x3b);
	reader(&gone, NKHSM_READER_UNAVAILABLE | NKHSM_READER_PRESENT, 1,
	    0x3b);
	assert_int_equal(hp_card_diff(NULL, NULL), HP_CARD_NONE);
	assert_int_equal(hp_card_diff(NULL, &empty), HP_CARD_NONE);
	assert_int_equal(hp_card_diff(NULL, &card), HP_CARD_IN);
	assert_int_equal(hp_card_diff(&empty, &card), HP_CARD_IN);
	assert_int_equal(hp_card_diff(&card, &empty), HP_CARD_OUT);
	assert_int_equal(hp_card_diff(&card, NULL), HP_CARD_OUT);
	assert_int_equal(hp_card_diff(&card, &gone), HP_CARD_OUT);
	/* Another program using the card is no event. */
	assert_int_equal(hp_card_diff(&card, &inuse), HP_CARD_NONE);
	assert_int_equal(hp_card_diff(&inuse, &card), HP_CARD_NONE);
	/* Out and in between two looks: pcscd's count, or the ATR. */
	assert_int_equal(hp_card_diff(&card, &card2), HP_CARD_OUT_IN);
	assert_int_equal(hp_card_diff(&card, &other), HP_CARD_OUT_IN);
	/* A mute card is in the reader: its state is the caller's business. */
	assert_int_equal(hp_card_diff(&empty, &mute), HP_CARD_IN);
}

static void
test_snapshot_find(void **state)
{
	struct hp_snapshot *s;

	assert_non_null(s = calloc(1, sizeof(*s)));
	s->n = 2;
	snprintf(s->r[0].name, sizeof(s->r[0].name), "A 00 00");
	snprintf(s->r[1].name, sizeof(s->r[1].name), "B 00 00");
	assert_ptr_equal(hp_snapshot_find(s, "B 00 00"), &s->r[1]);
	assert_null(hp_snapshot_find(s, "B 00"));
	assert_null(hp_snapshot_find(NULL, "A 00 00"));
	s->n = HP_READERS_MAX + 1;	/* never past the array */
	assert_null(hp_snapshot_find(s, "C"));
	free(s);
}

static void
test_card_bound(void **state)
{
	struct hp_present present;
	struct hp_event ev;

	memset(&present, 0, sizeof(present));
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.serial, sizeof(ev.serial), "ESPICOHSMTR");
	snprintf(ev.reader, sizeof(ev.reader), "Virtual_PCD_00_00");
	ev.card = 1;
	/* The card's own serial: equal, whatever serial_match says. */
	assert_true(hp_record_bound(HP_MATCH_ABSENT, "ESPICOHSMTR", &ev,
	    &present));
	assert_false(hp_record_bound(HP_MATCH_ABSENT, "DENK0100001", &ev,
	    &present));
	assert_false(hp_record_bound(HP_MATCH_EXACT, "ESPICOHSMTR0", &ev,
	    &present));
	assert_false(hp_record_bound(HP_MATCH_ABSENT, "ESPICOHSM", &ev,
	    NULL));
	/* A card that never gave its serial binds nothing that way. */
	ev.serial[0] = '\0';
	assert_false(hp_record_bound(HP_MATCH_ABSENT, "", &ev, &present));
	ev.card = 0;
	assert_true(hp_record_bound(HP_MATCH_ABSENT, "DENK0100001", &ev,
	    &present));
	assert_string_equal(hp_event_what(&ev), "Virtual_PCD_00_00");
	ev.reader[0] = '\0';
	snprintf(ev.syspath, sizeof(ev.syspath), "/sys/devices/usb1/1-1");
	assert_string_equal(hp_event_what(&ev), "/sys/devices/usb1/1-1");
}

static void
test_card_timeout(void **state)
{
	struct hp_conf *c = NULL;
	char err[256];
	const char *t;

	assert_int_equal(hp_conf_parse("t", "", 0, &c, err, sizeof(err)), 0);
	assert_int_equal(c->card_timeout_ms, 10000);
	hp_conf_free(&c);
	t = "card_timeout = 2500ms\n";
	assert_int_equal(hp_conf_parse("t", t, strlen(t), &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c->card_timeout_ms, 2500);
	hp_conf_free(&c);
	t = "card_timeout = 500ms\n";
	assert_int_not_equal(hp_conf_parse("t", t, strlen(t), &c, err,
	    sizeof(err)), 0);
	assert_non_null(strstr(err, "t:1: card_timeout must be a duration"));
	t = "card_timeout = 121s\n";
	assert_int_not_equal(hp_conf_parse("t", t, strlen(t), &c, err,
	    sizeof(err)), 0);
	t = "card_timeout = 2s\ncard_timeout = 3s\n";
	assert_int_not_equal(hp_conf_parse("t", t, strlen(t), &c, err,
	    sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usb_serial),
		cmocka_unit_test(test_card_diff),
		cmocka_unit_test(test_snapshot_find),
		cmocka_unit_test(test_card_bound),
		cmocka_unit_test(test_card_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
