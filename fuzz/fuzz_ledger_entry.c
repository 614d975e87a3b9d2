/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_ledger_entry.c - nkhsm-sshca's log entries (sshca/ledgerlog.c) read
 * from arbitrary bytes, as verify-log reads them from a ledger anyone with
 * the file can write. The reader is strict, so an entry it accepts is one
 * the writer could have made: its fields written back give the same bytes.
 * A refusal leaves nothing behind and says why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "buf.h"
#include "ledgerlog.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_logent e;
	struct nk_buf b;
	char *s, err[256];
	size_t i;
	int r;

	if (size > 64 * 1024 || memchr(data, '\0', size) != NULL)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	r = sc_logent_parse(s, &e, err, sizeof(err));
	if (r != 0) {
		if (e.n != 0 || (r != NKHSM_ERR_NOMEM && err[0] == '\0'))
			abort();
		free(s);
		return 0;
	}
	if (e.n == 0 || e.seq <= 0 || sc_logent_get(&e, "seq") == NULL)
		abort();
	nk_buf_init(&b);
	for (i = 0, r = 0; r == 0 && i < e.n; i++)
		r = sc_log_put(&b, e.name[i], e.value[i]);
	if (r == 0 && (nk_buf_avail(&b) != size ||
	    memcmp(nk_buf_ptr(&b), s, size) != 0))
		abort();
	nk_buf_free(&b);
	sc_logent_free(&e);
	free(s);
	return 0;
}
