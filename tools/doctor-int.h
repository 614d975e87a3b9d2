/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doctor-int.h - nkhsm-tool doctor's parts: the checks' record, the file
 * side (doctor-files.c) and the token side (doctor-token.c). Not installed.
 */
#ifndef NKHSM_DOCTOR_INT_H
#define NKHSM_DOCTOR_INT_H

#include <stddef.h>

#include "nkhsm.h"
#include "pamconf.h"
#include "doctor.h"

#ifndef NKHSM_HELPER_PATH
#define NKHSM_HELPER_PATH	"/usr/libexec/nkhsm/nkhsm-pam-helper"
#endif
#ifndef NKHSM_PAMDIR
#define NKHSM_PAMDIR		"/usr/lib/x86_64-linux-gnu/security"
#endif
#ifndef NKHSM_UDEVRULESDIR
#define NKHSM_UDEVRULESDIR	"/usr/lib/udev/rules.d"
#endif
#ifndef NKHSM_SYSTEMDUNITDIR
#define NKHSM_SYSTEMDUNITDIR	"/usr/lib/systemd/system"
#endif

#define DR_OK		0
#define DR_WARN		1
#define DR_FAIL		2
#define ID_MAX		32
#define MSG_MAX		400
#define FIX_MAX		320
#define PATH_MAX_	512
#define CHECKS_MAX	256
#define STACKS_MAX	32
#define AUTHFILES_MAX	8
#define PCTOK_MAX	16
#define PAM_LINE_MAX	1024
#define PAM_ARGS_MAX	32
#define RULE_NAME	"70-nkhsm.rules"
#define UNIT_NAME	"nkhsm-hotplug@.service"

struct check {
	char	id[ID_MAX];
	int	status;
	char	msg[MSG_MAX];
	char	fix[FIX_MAX];
	char	path[PATH_MAX_];
};

/* A pam_nkhsm line in a PAM service file. */
struct stack {
	char		service[256];
	unsigned int	line;
	char		type[16];
	char		module[PATH_MAX_];
	struct pnk_opts	o;
	int		parsed;
};

struct dr {
	const struct doctor_opts *o;
	struct check	*c;
	size_t		 n;
	int		 fd;		/* the child's: send them */
	struct stack	 st[STACKS_MAX];
	size_t		 nst;
	nkhsm_point_t	*pts;		/* the user's keys */
	unsigned int	*lines;
	size_t		 npts;
	char		 authfile[PATH_MAX_];
	char		 module[PATH_MAX_];	/* the one to load */
};

void dr_add(struct dr *d, const char *id, int status, const char *path,
    const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* ROOT/path, or path itself without --root. */
void dr_rooted(const struct dr *d, const char *path, char *out,
    size_t outlen);
/* The fix for a user whose keys are missing: append the token's key. */
void dr_fix_addkey(const char *user, const char *path, char *fix,
    size_t len);
/* An untrusted string, escaped, for a message. */
const char *dr_esc(const char *s, char *buf, size_t len);

/* nkhsm.conf, PAM stacks, pam_nkhsm, its helper, the user's keys. */
void dr_login_checks(struct dr *d);
/* The udev rule, the systemd unit, hotplug.conf. */
void dr_hotplug_checks(struct dr *d);
/* pcscd, readers, cards, PINs, the module, keys on the token: a child's. */
void dr_token_side(struct dr *d);

#endif /* NKHSM_DOCTOR_INT_H */
