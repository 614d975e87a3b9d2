/* SPDX-License-Identifier: BSD-2-Clause */
/* helper-main.c - nkhsm-pam-helper's main(): see helper.c */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nkhsm.h"
#include "helper.h"

int
main(int argc, char **argv)
{
	/* The one thing it does by hand: say which build it is. */
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("nkhsm-pam-helper %s\n", nkhsm_version());
		return 0;
	}
	if (argc != 1 || isatty(PNK_HELPER_FD)) {
		fprintf(stderr, "nkhsm-pam-helper: run by pam_nkhsm, not by hand\n");
		return 2;
	}
	/* _exit: no atexit handlers of the PKCS#11 module (see helper.c). */
	_exit(pnk_helper_main(PNK_HELPER_FD));
}
