/* SPDX-License-Identifier: BSD-2-Clause */
/* proto.c - framing for the module <-> helper socket */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "proto.h"

long long
pnk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
pnk_send(int fd, uint8_t type, const struct nk_buf *body)
{
	uint8_t *msg;
	size_t len = 1 + (body != NULL ? nk_buf_avail(body) : 0);
	ssize_t n;

	if (len > PNK_MSG_MAX)
		return NKHSM_ERR_TOO_LARGE;
	if ((msg = malloc(len)) == NULL)
		return NKHSM_ERR_NOMEM;
	msg[0] = type;
	if (len > 1)
		memcpy(msg + 1, nk_buf_ptr(body), len - 1);
	do {
		n = send(fd, msg, len, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	nk_freezero(msg, len);	/* may hold a PIN */
	return n == (ssize_t)len ? 0 : NKHSM_ERR_IO;
}

int
pnk_recv(int fd, long long deadline_ms, uint8_t *typep, struct nk_buf *body,
    uint8_t **storep, size_t *lenp)
{
	struct pollfd pfd;
	uint8_t *msg;
	long long left;
	ssize_t n;
	int pr;

	*storep = NULL;
	*lenp = 0;
	*typep = 0;
	nk_buf_from(body, NULL, 0);
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		left = deadline_ms == 0 ? -1 : deadline_ms - pnk_now_ms();
		if (deadline_ms != 0 && left <= 0)
			return NKHSM_ERR_TIMEOUT;
		pr = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == -1)
			return NKHSM_ERR_IO;
		if (pr == 0)
			continue;	/* the loop checks the deadline */
		break;
	}
	if ((msg = malloc(PNK_MSG_MAX)) == NULL)
		return NKHSM_ERR_NOMEM;
	do {
		n = recv(fd, msg, PNK_MSG_MAX, MSG_TRUNC);
	} while (n == -1 && errno == EINTR);
	if (n <= 0 || n > PNK_MSG_MAX) {
		nk_freezero(msg, PNK_MSG_MAX);
		return n == 0 ? NKHSM_ERR_IO : n > 0 ? NKHSM_ERR_TOO_LARGE :
		    NKHSM_ERR_IO;
	}
	*typep = msg[0];
	nk_buf_from(body, msg + 1, (size_t)n - 1);
	*storep = msg;
	*lenp = PNK_MSG_MAX;
	return 0;
}
