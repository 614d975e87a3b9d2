# SPDX-License-Identifier: BSD-2-Clause
# The security mutants (tests/README, "Security mutants"): one file per
# mutant, run by tests/mutants/run.py in CI after make check. make check only
# checks that each still applies. A new NAME.mutant needs no line here.
TESTS += tests/mutants/check.sh
EXTRA_DIST += tests/mutants/check.sh tests/mutants/run.py \
	$(wildcard $(srcdir)/tests/mutants/*.mutant)
