/* SPDX-License-Identifier: BSD-2-Clause */
/* pin.c - PIN sources: env:VAR, file:PATH, or the terminal without echo */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "nk-int.h"

void
nkhsm_pin_free(char *pin, size_t len)
{
	if (pin != NULL)
		nk_freezero(pin, len + 1);
}

/* Copy bytes into a fresh NUL-terminated buffer; strip one line ending. */
static int
pin_finish(const char *buf, size_t len, char **pinp, size_t *lenp)
{
	char *pin;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0)
		return NKHSM_ERR_PIN_SOURCE;
	if (len > NKHSM_PIN_MAX)
		return NKHSM_ERR_PIN_LEN;
	if (memchr(buf, '\0', len) != NULL)
		return NKHSM_ERR_PIN_SOURCE;
	if ((pin = malloc(len + 1)) == NULL)
		return NKHSM_ERR_NOMEM;
	memcpy(pin, buf, len);
	pin[len] = '\0';
	*pinp = pin;
	*lenp = len;
	return 0;
}

static int
pin_from_file(const char *path, char **pinp, size_t *lenp)
{
	char buf[NKHSM_PIN_MAX + 3];
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd, r = NKHSM_ERR_PIN_SOURCE;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return NKHSM_ERR_PIN_SOURCE;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto out;
	while (off < sizeof(buf)) {
		if ((n = read(fd, buf + off, sizeof(buf) - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off == sizeof(buf)) {
		r = NKHSM_ERR_PIN_LEN;
		goto out;
	}
	r = pin_finish(buf, off, pinp, lenp);
 out:
	nk_wipe(buf, sizeof(buf));
	close(fd);
	return r;
}

static volatile sig_atomic_t caught;

static void
on_signal(int sig)
{
	caught = sig;
}

static const int tty_signals[] = { SIGINT, SIGHUP, SIGTERM, SIGQUIT, SIGTSTP };
#define NSIG_TTY (sizeof(tty_signals) / sizeof(tty_signals[0]))

static int
pin_from_tty(const char *prompt, char **pinp, size_t *lenp)
{
	char buf[NKHSM_PIN_MAX + 2], c;
	struct sigaction sa, old[NSIG_TTY];
	struct termios term, saved;
	size_t off = 0, i;
	ssize_t n;
	int fd, r = NKHSM_ERR_PIN_SOURCE, restore = 0, overflow = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return NKHSM_ERR_PIN_SOURCE;
	caught = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NSIG_TTY; i++)
		(void)sigaction(tty_signals[i], &sa, &old[i]);
	if (tcgetattr(fd, &saved) == 0) {
		term = saved;
		term.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		term.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &term) == 0)
			restore = 1;
	}
	if (prompt != NULL && write(fd, prompt, strlen(prompt)) == -1)
		goto out;
	for (;;) {
		if ((n = read(fd, &c, 1)) == -1) {
			if (errno == EINTR && !caught)
				continue;
			r = caught ? NKHSM_ERR_CANCELLED : NKHSM_ERR_PIN_SOURCE;
			goto out;
		}
		if (n == 0 || c == '\n' || c == '\r')
			break;
		if (off < sizeof(buf) - 1)
			buf[off++] = c;
		else
			overflow = 1;
	}
	if (overflow)
		r = NKHSM_ERR_PIN_LEN;
	else if (off == 0)
		r = NKHSM_ERR_CANCELLED;	/* an empty answer cancels */
	else
		r = pin_finish(buf, off, pinp, lenp);
 out:
	c = 0;
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
		ssize_t w = write(fd, "\n", 1);	/* cosmetic only */
		(void)w;
	}
	for (i = 0; i < NSIG_TTY; i++)
		(void)sigaction(tty_signals[i], &old[i], NULL);
	nk_wipe(buf, sizeof(buf));
	close(fd);
	if (caught)
		(void)raise(caught);	/* the handler we restored decides */
	return r;
}

int
nkhsm_pin_read(const char *source, const char *prompt, char **pinp,
    size_t *lenp)
{
	const char *v;

	*pinp = NULL;
	*lenp = 0;
	if (source == NULL)
		return pin_from_tty(prompt, pinp, lenp);
	if (strncmp(source, "env:", 4) == 0) {
		if (source[4] == '\0' || (v = secure_getenv(source + 4)) == NULL)
			return NKHSM_ERR_PIN_SOURCE;
		return pin_finish(v, strlen(v), pinp, lenp);
	}
	if (strncmp(source, "file:", 5) == 0 && source[5] != '\0')
		return pin_from_file(source + 5, pinp, lenp);
	return NKHSM_ERR_PIN_SOURCE;
}
