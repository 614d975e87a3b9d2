/* SPDX-License-Identifier: BSD-2-Clause */
/* spawn.h - running nkhsm-pam-helper under a deadline */
#ifndef PNK_SPAWN_H
#define PNK_SPAWN_H

#include <sys/types.h>

struct pnk_child {
	pid_t	pid;
	int	fd;
};

/* Start the helper with a clean environment; fd 3 is its socket. */
int pnk_spawn(const char *helper, struct pnk_child *c);
/* End it: close the socket, SIGKILL if still running, reap. */
void pnk_reap(struct pnk_child *c);

#endif
