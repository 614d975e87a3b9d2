# SPDX-License-Identifier: BSD-2-Clause
# man: mdoc pages, checked by tests/integration/man-lint.sh in make check.
dist_man_MANS += man/nkhsm-tool.1 man/nkhsm-sshca.1 man/nkhsm.conf.5 man/pam_nkhsm.8
dist_man_MANS += man/nkhsm-hotplug.8

TESTS += tests/integration/man-lint.sh
EXTRA_DIST += tests/integration/man-lint.sh
