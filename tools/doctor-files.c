/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doctor-files.c - nkhsm-tool doctor's file side: nkhsm.conf, the PAM
 * stacks that use pam_nkhsm (their options parsed as the module parses
 * them), pam_nkhsm.so and its helper (as safe as a file root runs must
 * be), the user's authorized keys (loaded and checked as pam_nkhsm loads
 * them), the udev rule, the systemd unit and hotplug.conf (loaded as
 * nkhsm-hotplug loads it). With --root, the system's files are looked up
 * under it; the user's home comes from the passwd database as it is.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "cli.h"
#include "pamconf.h"
#include "hotplug.h"
#include "doctor-int.h"

#define PAMFILE_MAX	(64 * 1024)
#define FIX_UNSAFE	"make it root's and not writable by group or " \
			"others (chown root; chmod go-w), and each " \
			"directory above it"

static void
config_check(struct dr *d)
{
	char path[PATH_MAX_], err[512];
	nkhsm_conf_t *conf = NULL;
	struct stat st;
	const char *m = NULL;

	if (d->o->config != NULL)
		snprintf(path, sizeof(path), "%s", d->o->config);
	else
		dr_rooted(d, nkhsm_default_conf(), path, sizeof(path));
	if (d->o->config == NULL && stat(path, &st) == -1 && errno == ENOENT)
		dr_add(d, "config", DR_OK, path, NULL, "%s: not there; the "
		    "defaults apply", path);
	else if (nkhsm_conf_load(path, -1, &conf, err, sizeof(err)) != 0)
		dr_add(d, "config", DR_FAIL, path, "correct what the message "
		    "names (see nkhsm.conf(5)); until then every front end "
		    "refuses to start", "%s", err);
	else {
		dr_add(d, "config", DR_OK, path, NULL, "%s: valid", path);
		m = nkhsm_conf_module(conf);
	}
	if (d->o->module != NULL)
		m = d->o->module;
	snprintf(d->module, sizeof(d->module), "%s", m != NULL ? m :
	    nkhsm_default_module());
	nkhsm_conf_free(&conf);
}

/* "type control module args": NULL when the line is not pam_nkhsm's. */
static int
split_pam_line(char *line, char **type, char **module, char **args,
    int *nargs)
{
	char *p = line, *w;
	int n = 0, i = 0;

	if ((w = strchr(p, '#')) != NULL)
		*w = '\0';
	while ((w = strtok_r(i == 0 ? p : NULL, " \t", &p)) != NULL) {
		if (i == 1 && w[0] == '[' && strchr(w, ']') == NULL) {
			/* A bracketed control with blanks: up to its ']'. */
			while ((w = strtok_r(NULL, " \t", &p)) != NULL &&
			    strchr(w, ']') == NULL)
				;
			if (w == NULL)
				return -1;
		}
		if (i == 0)
			*type = w[0] == '-' ? w + 1 : w;
		else if (i == 2)
			*module = w;
		else if (i > 2 && n < PAM_ARGS_MAX)
			args[n++] = w;
		i++;
	}
	*nargs = n;
	if (i < 3 || strcmp(*type, "@include") == 0)
		return -1;
	w = strrchr(*module, '/');
	return strcmp(w != NULL ? w + 1 : *module, "pam_nkhsm.so") == 0 ? 0 :
	    -1;
}

static void
stack_add(struct dr *d, const char *service, size_t lineno, char *line)
{
	char *type = NULL, *module = NULL, *args[PAM_ARGS_MAX], err[512];
	struct stack *s;
	int nargs = 0;

	if (split_pam_line(line, &type, &module, args, &nargs) != 0)
		return;
	if (d->nst >= STACKS_MAX)
		return;
	s = &d->st[d->nst++];
	snprintf(s->service, sizeof(s->service), "%s", service);
	s->line = (unsigned int)lineno;
	snprintf(s->type, sizeof(s->type), "%s", type);
	snprintf(s->module, sizeof(s->module), "%s", module);
	if (pnk_opts_parse(nargs, (const char **)args, &s->o, err,
	    sizeof(err)) != 0) {
		dr_add(d, "pam-stack", DR_FAIL, NULL, "correct the line: "
		    "pam_nkhsm refuses to run with it (see pam_nkhsm(8))",
		    "%s:%zu: %s pam_nkhsm.so: %s", service, lineno, type, err);
		return;
	}
	s->parsed = 1;
	dr_add(d, "pam-stack", DR_OK, NULL, NULL, "%s:%zu: %s pam_nkhsm.so, "
	    "options valid", service, lineno, type);
}

static void
scan_service(struct dr *d, const char *dir, const char *name)
{
	char path[PATH_MAX_ + 256], err[512], *text = NULL, *line;
	const char *l;
	struct nk_lines it;
	size_t len, ll;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((r = nk_file_load(path, -1, PAMFILE_MAX, &text, &len, err,
	    sizeof(err))) != 0) {
		if (strstr(path, "nkhsm") != NULL || r == NKHSM_ERR_PERMISSION)
			dr_add(d, "pam-stack", DR_WARN, path, FIX_UNSAFE,
			    "%s", err);
		return;
	}
	nk_lines_init(&it, text, len);
	while (nk_lines_next(&it, path, PAM_LINE_MAX, &l, &ll, err,
	    sizeof(err)) == 1) {
		if (ll == 0 || memmem(l, ll, "pam_nkhsm", 9) == NULL ||
		    (line = strndup(l, ll)) == NULL)
			continue;
		stack_add(d, name, it.lineno, line);
		free(line);
	}
	free(text);
}

static int
skip_pam_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && e->d_name[n - 1] != '~' &&
	    strstr(e->d_name, ".dpkg-") == NULL;
}

static void
pam_stacks(struct dr *d)
{
	char dir[PATH_MAX_], list[MSG_MAX];
	struct dirent **ents = NULL;
	size_t i, off = 0;
	int n, k;

	dr_rooted(d, "/etc/pam.d", dir, sizeof(dir));
	if ((n = scandir(dir, &ents, skip_pam_file, alphasort)) < 0) {
		dr_add(d, "pam", DR_WARN, dir, NULL, "cannot read %s: %s", dir,
		    strerror(errno));
		return;
	}
	for (k = 0; k < n; k++) {
		scan_service(d, dir, ents[k]->d_name);
		free(ents[k]);
	}
	free(ents);
	if (d->nst == 0) {
		dr_add(d, "pam", DR_WARN, dir, "add it to a service's auth "
		    "stack (and session, for nkhsm-hotplug), as pam_nkhsm(8) "
		    "shows", "no PAM service in %s uses pam_nkhsm", dir);
		return;
	}
	list[0] = '\0';
	for (i = 0; i < d->nst && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
		    "%s%s (%s)", i > 0 ? ", " : "", d->st[i].service,
		    d->st[i].type);
	dr_add(d, "pam", DR_OK, dir, NULL, "pam_nkhsm is in %zu stack%s: %s",
	    d->nst, d->nst == 1 ? "" : "s", list);
}

/*
 * Code pam_nkhsm runs or PAM loads: pam_nkhsm's own rules (pnk_code_check,
 * so a symbolic link it follows is fine here too), with a fix for each kind.
 */
static void
root_file(struct dr *d, const char *id, const char *what, const char *path,
    int want_exec, const char *fix_missing)
{
	char err[PATH_MAX_ + 128];
	struct stat st;
	int r;

	if (stat(path, &st) == -1 && errno == ENOENT) {
		dr_add(d, id, DR_FAIL, path, fix_missing, "%s %s is missing",
		    what, path);
		return;
	}
	if ((r = pnk_code_check(path, err, sizeof(err))) != 0) {
		dr_add(d, id, DR_FAIL, path, r == NKHSM_ERR_PERMISSION ?
		    FIX_UNSAFE : "install it again (make install)", "%s: %s",
		    what, err);
		return;
	}
	if (want_exec && (stat(path, &st) == -1 || (st.st_mode & S_IXUSR) == 0)) {
		dr_add(d, id, DR_FAIL, path, "install it again (make install)",
		    "%s %s: not executable", what, path);
		return;
	}
	dr_add(d, id, DR_OK, path, NULL, "%s %s: root's, not writable by "
	    "others%s", what, path, want_exec ? ", executable" : "");
}

/* 1 when path is in done[0..n), else 0 and it is added. */
static int
seen_path(char done[][PATH_MAX_], size_t *np, const char *path)
{
	size_t j;

	for (j = 0; j < *np; j++)
		if (strcmp(done[j], path) == 0)
			return 1;
	if (*np < STACKS_MAX)
		snprintf(done[(*np)++], PATH_MAX_, "%s", path);
	return 0;
}

/* Each module and helper the stacks name, once; no stack: the default. */
static void
pam_files(struct dr *d)
{
	char path[PATH_MAX_], done[STACKS_MAX][PATH_MAX_];
	const struct stack *s;
	size_t i, n = 0;

	for (i = 0; i < d->nst; i++) {
		s = &d->st[i];
		if (s->module[0] == '/')
			dr_rooted(d, s->module, path, sizeof(path));
		else {
			dr_rooted(d, NKHSM_PAMDIR "/", path, sizeof(path));
			strncat(path, s->module, sizeof(path) -
			    strlen(path) - 1);
		}
		if (!seen_path(done, &n, path))
			root_file(d, "pam-module", "the PAM module", path, 0,
			    "install nkhsm (make install), or name the "
			    "module's path in the stack");
	}
	n = 0;
	for (i = 0; i < d->nst || (i == 0 && d->nst == 0); i++) {
		s = i < d->nst ? &d->st[i] : NULL;
		dr_rooted(d, s != NULL && s->parsed && s->o.helper != NULL ?
		    s->o.helper : NKHSM_HELPER_PATH, path, sizeof(path));
		if (!seen_path(done, &n, path))
			root_file(d, "helper", "pam_nkhsm's helper", path, 1,
			    "install nkhsm (make install), or fix helper= in "
			    "the stack");
	}
}

/* The user's keys, loaded as pam_nkhsm loads them; kept for the token. */
static void
authfile_load(struct dr *d, const struct passwd *pw, const char *tmpl)
{
	char *path = NULL, err[512], fix[FIX_MAX];
	struct pnk_keys keys;
	size_t i;
	int r;

	memset(&keys, 0, sizeof(keys));
	if (pnk_expand_path(tmpl, pw->pw_name, pw->pw_dir, &path) != 0) {
		dr_add(d, "authfile", DR_FAIL, NULL, "fix authfile= in the "
		    "stack", "authfile %s cannot be expanded for %s", tmpl,
		    pw->pw_name);
		return;
	}
	dr_fix_addkey(pw->pw_name, path, fix, sizeof(fix));
	r = pnk_keys_load(path, pw->pw_uid, &keys, err, sizeof(err));
	if (r == NKHSM_ERR_IO && errno == ENOENT)
		dr_add(d, "authfile", DR_FAIL, path, fix, "%s does not exist: "
		    "%s cannot log in with a token", path, pw->pw_name);
	else if (r == NKHSM_ERR_IO && errno == EACCES)
		dr_add(d, "authfile", DR_WARN, path, "run doctor as root or as "
		    "that user", "%s cannot be read: %s", path, err);
	else if (r != 0)
		dr_add(d, "authfile", DR_FAIL, path, r == NKHSM_ERR_PERMISSION ?
		    "make it the user's or root's and not writable by group "
		    "or others (chmod go-w), and each directory above it" :
		    "correct or remove the line named", "%s", err);
	else if (keys.n == 0)
		dr_add(d, "authfile", DR_FAIL, path, fix, "%s holds no EC key "
		    "(%u lines of other key types)", path, keys.skipped);
	else
		dr_add(d, "authfile", DR_OK, path, NULL, "%s: %zu key%s, "
		    "safe as pam_nkhsm requires", path, keys.n,
		    keys.n == 1 ? "" : "s");
	for (i = 0; i < keys.n && r == 0; i++) {
		d->pts[d->npts] = keys.key[i].pt;
		d->lines[d->npts++] = keys.key[i].line;
	}
	if (r == 0 && keys.n > 0 && d->authfile[0] == '\0')
		snprintf(d->authfile, sizeof(d->authfile), "%s", path);
	pnk_keys_free(&keys);
	free(path);
}

static void
authfile_checks(struct dr *d)
{
	const char *tmpl[AUTHFILES_MAX];
	struct passwd *pw;
	size_t i, j, n = 0;

	if ((pw = getpwnam(d->o->user)) == NULL)
		return;
	if ((d->pts = calloc(AUTHFILES_MAX * PNK_KEYS_MAX,
	    sizeof(*d->pts))) == NULL ||
	    (d->lines = calloc(AUTHFILES_MAX * PNK_KEYS_MAX,
	    sizeof(*d->lines))) == NULL)
		return;
	for (i = 0; i < d->nst; i++) {
		if (!d->st[i].parsed || d->st[i].o.authfile == NULL)
			continue;
		for (j = 0; j < n && strcmp(tmpl[j], d->st[i].o.authfile); j++)
			;
		if (j == n && n < AUTHFILES_MAX)
			tmpl[n++] = d->st[i].o.authfile;
	}
	if (n == 0)
		tmpl[n++] = PNK_AUTHFILE_DEFAULT;
	for (i = 0; i < n; i++)
		authfile_load(d, pw, tmpl[i]);
}

void
dr_login_checks(struct dr *d)
{
	config_check(d);
	pam_stacks(d);
	pam_files(d);
	if (d->o->user != NULL)
		authfile_checks(d);
}

/* The first of two places (the administrator's, the package's). */
static int
installed(const struct dr *d, const char *etc, const char *pkg,
    char *path, size_t len)
{
	struct stat st;

	dr_rooted(d, etc, path, len);
	if (stat(path, &st) == 0)
		return 1;
	dr_rooted(d, pkg, path, len);
	return stat(path, &st) == 0;
}

static void
rule_and_unit(struct dr *d)
{
	char path[PATH_MAX_];

	if (!installed(d, "/etc/udev/rules.d/" RULE_NAME,
	    NKHSM_UDEVRULESDIR "/" RULE_NAME, path, sizeof(path)))
		dr_add(d, "udev-rule", DR_WARN, path, "install it (make "
		    "install puts it there), then: udevadm control --reload",
		    "%s is not installed: pulling a Nitrokey HSM locks "
		    "nothing unless nkhsm-hotplug --monitor runs", path);
	else
		root_file(d, "udev-rule", "the udev rule", path, 0, NULL);
	if (!installed(d, "/etc/systemd/system/" UNIT_NAME,
	    NKHSM_SYSTEMDUNITDIR "/" UNIT_NAME, path, sizeof(path)))
		dr_add(d, "unit", DR_WARN, path, "install it (make install "
		    "puts it there), then: systemctl daemon-reload", "%s is "
		    "not installed: the udev rule starts nothing", path);
	else
		root_file(d, "unit", "the systemd unit", path, 0, NULL);
}

void
dr_hotplug_checks(struct dr *d)
{
	char path[PATH_MAX_], err[1024];
	struct hp_conf *c = NULL;
	struct stat st;

	rule_and_unit(d);
	dr_rooted(d, HP_DEFAULT_CONF, path, sizeof(path));
	if (stat(path, &st) == -1 && errno == ENOENT)
		dr_add(d, "hotplug-conf", DR_OK, path, NULL, "%s: not there; "
		    "nkhsm-hotplug's defaults apply", path);
	else if (hp_conf_load(path, &c, err, sizeof(err)) != 0)
		dr_add(d, "hotplug-conf", DR_FAIL, path, "correct what the "
		    "message names (see nkhsm-hotplug(8)); nkhsm-hotplug "
		    "refuses to start until then", "%s", err);
	else
		dr_add(d, "hotplug-conf", DR_OK, path, NULL, "%s: valid "
		    "(on_remove %s)", path, hp_on_remove_name(c->on_remove));
	hp_conf_free(&c);
}
