/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doctor.h - nkhsm-tool doctor: every check that says why a token does
 * not work, each ok, a warning or a failure with its fix in one line.
 */
#ifndef NKHSM_DOCTOR_H
#define NKHSM_DOCTOR_H

struct doctor_opts {
	const char	*module;	/* else nkhsm.conf's, the default */
	const char	*config;	/* else ROOT/etc/nkhsm/nkhsm.conf */
	const char	*user;		/* whose authorized keys */
	const char	*root;		/* system files under it */
	unsigned int	 timeout;	/* seconds a token step may take; 0: any */
	int		 json;
};

/* 0 when nothing failed, EX_FAIL when something did, EX_USAGE. */
int doctor_run(const struct doctor_opts *o);

#endif /* NKHSM_DOCTOR_H */
