/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * glue.c - what the auth (pam_nkhsm.c) and the session and password
 * (session.c) entry points share, so that neither calls into the other:
 * module arguments as a PAM code, the check of code that root loads, and
 * which driver a login takes.
 */
#include "config.h"

#include <stdio.h>
#include <syslog.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "pamnk.h"
#include "proto.h"

int
pnk_opts_pam(pam_handle_t *pamh, int argc, const char **argv,
    struct pnk_opts *o)
{
	char err[512];
	int r;

	err[0] = '\0';
	if ((r = pnk_opts_parse(argc, argv, o, err, sizeof(err))) == 0)
		return PAM_SUCCESS;
	if (r == NKHSM_ERR_NOMEM) {
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		return PAM_BUF_ERR;
	}
	pam_syslog(pamh, LOG_ERR, "bad module arguments: %s", err);
	return PAM_SERVICE_ERR;
}

int
pnk_code_pam(pam_handle_t *pamh, const char *what, const char *path)
{
	char err[512];
	int r;

	err[0] = '\0';
	if ((r = pnk_code_check(path, err, sizeof(err))) == 0)
		return PAM_SUCCESS;
	if (r == NKHSM_ERR_PERMISSION) {
		pam_syslog(pamh, LOG_ERR, "refusing the %s: %s", what, err);
		return PAM_SERVICE_ERR;
	}
	pam_syslog(pamh, LOG_ERR, "the %s is missing: %s", what, err);
	return PAM_AUTHINFO_UNAVAIL;
}

int
pnk_driver_setup(pam_handle_t *pamh, const struct pnk_opts *o,
    const nkhsm_conf_t *conf, uint8_t *driverp, char **hintsp)
{
	const char *v = nkhsm_conf_driver(conf);

	*driverp = PNK_DRIVER_AUTO;
	*hintsp = NULL;
	if (o->driver_set)
		*driverp = (uint8_t)o->driver;
	else if (v != NULL)
		*driverp = (uint8_t)pnk_driver_parse(v);	/* checked by conf.c */
	if (asprintf(hintsp, "%s/%s", o->cachedir, PNK_HINTS_FILE) == -1) {
		*hintsp = NULL;
		pam_syslog(pamh, LOG_CRIT, "out of memory");
		return PAM_BUF_ERR;
	}
	return PAM_SUCCESS;
}
