#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ci-hardening.sh - the heavier checks CI runs after the test suite:
#   1. the whole test suite built with ASan and UBSan;
#   2. the PAM and sshca integration tests under valgrind memcheck (the
#      helper processes included);
#   3. every libFuzzer target for a bounded time (NKHSM_FUZZ_SECONDS, 30),
#      one target per core at a time;
#   4. the fault sweeps with every fault kind.
# Any finding fails the run. Each phase prints its time. Run tools/test.sh
# first (phase 2 and 4 use its ./build). NKHSM_HARDENING="asan valgrind fuzz
# sweeps" (the default) names the phases to run.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${NKHSM_FUZZ_SECONDS:-30}
[ -x configure ] || ./autogen.sh
npass=0
nfail=0
t_start=0
phases=${NKHSM_HARDENING:-asan valgrind fuzz sweeps}

want() { case " $phases " in *" $1 "*) return 0;; esac; return 1; }

begin() { echo "==== $1"; t_start=$(date +%s); }
end() {
	t=$(( $(date +%s) - t_start ))
	if [ "$2" -eq 0 ]; then
		npass=$((npass + 1)); echo "==== $1: ok (${t}s)"
	else
		nfail=$((nfail + 1)); echo "==== $1: FAILED (${t}s)"
	fi
}
show_failures() {
	for f in $(find "$1" -name '*.trs' | sort); do
		if grep -q ':test-result: \(FAIL\|ERROR\)' "$f"; then
			echo "---- ${f%.trs}.log"; tail -50 "${f%.trs}.log"
		fi
	done
}

# 1. ASan + UBSan. pamtester, which is not instrumented but loads our
# instrumented pam_nkhsm.so, gets the runtime preloaded. The fault module's
# own self-tests (p11mod-*) are left out here: they drive pkcs11-tool, and
# OpenSC 0.23's pkcs11-tool has a use-after-free in --read-object of EC
# public keys that ASan reports once its runtime is in that process (and the
# runtime, loaded that late, mistakes SoftHSM's frees). Every other test still
# runs the fault module instrumented, loaded by our instrumented programs.
if want asan; then
	begin "ASan+UBSan: build and make check"
	rc=0
	libasan=$(gcc -print-file-name=libasan.so)
	mkdir -p build-asan
	(
		cd build-asan &&
		{ [ -f Makefile ] || "$top/configure" --disable-hardening --with-postgresql \
		    CFLAGS='-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		    LDFLAGS='-fsanitize=address,undefined' >configure.out 2>&1; } &&
		make -j"$jobs" >make.out 2>&1 &&
		ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:verify_asan_link_order=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		NKHSM_TEST_PRELOAD="$libasan" make -j"$jobs" check \
		    TESTS="$(make -s print-tests | tr ' ' '\n' | grep -v p11mod- | tr '\n' ' ')" \
		    >check.out 2>&1
	) || rc=1
	[ $rc -eq 0 ] || { tail -30 build-asan/make.out 2>/dev/null; show_failures build-asan; }
	end "ASan+UBSan" $rc
fi

# 2. valgrind memcheck over the PAM and CA integration tests.
if want valgrind; then
	begin "valgrind memcheck: PAM and sshca integration tests"
	rc=0
	# sshca-ledger.sh and sshca-pg-faults.sh are left out: their crash tests
	# kill processes on a timer.
	# On the emulated card: nkhsm-sshca through OpenSC, and the tools' ends when
	# the card is pulled or frozen (card-tool.sh's checks are tool-formats.sh's);
	# pam_nkhsm on both paths (card-pam.sh, about 3 minutes). card-pam-fault.sh
	# is left out: its deadlines are tight and it runs the helper 100 times.
	vgtests="tests/integration/pam-auth.sh tests/integration/pam-session.sh \
	tests/integration/pam-ca.sh tests/integration/pam-keys.sh \
	tests/integration/pam-forge.sh tests/integration/pam-code.sh \
	tests/integration/pam-keyopts.sh tests/integration/pam-stacks.sh \
	tests/integration/sshca-sign.sh tests/integration/sshca-x509.sh \
	tests/integration/sshca-sshd.sh tests/integration/sshca-keys.sh \
	tests/integration/sshca-input.sh tests/integration/sshca-tamper.sh \
	tests/integration/sshca-migrate.sh tests/integration/tool-formats.sh \
	tests/integration/tool-keygen.sh \
	tests/integration/pam-replay.sh tests/integration/pam-bind.sh \
	tests/integration/sshca-replay.sh tests/integration/card-sshca.sh \
	tests/integration/card-faults.sh tests/integration/card-pam.sh \
	tests/integration/pam-revoke.sh \
	tests/integration/tool-doctor.sh tests/integration/sshca-pg.sh \
	tests/integration/sshca-pg-sites.sh tests/integration/sshca-pg-tamper.sh"
	(cd build && NKHSM_VALGRIND=1 make -j"$jobs" check TESTS="$vgtests" >valgrind.out 2>&1) || rc=1
	[ $rc -eq 0 ] || show_failures build
	end "valgrind" $rc
fi

# 3. libFuzzer: each target for a bounded time, from a copy of its corpus.
if want fuzz; then
	begin "libFuzzer: every target for ${fuzz_seconds}s"
	rc=0
	mkdir -p build-fuzz
	(
		cd build-fuzz &&
		{ [ -f Makefile ] || "$top/configure" CC=clang --enable-fuzzing --disable-hardening \
		    CFLAGS='-g -O1 -fsanitize=fuzzer-no-link,address,undefined' >configure.out 2>&1; } &&
		make -j"$jobs" >make.out 2>&1
	) || { rc=1; tail -30 build-fuzz/make.out; }
	# fuzz_one TARGET: fuzz it from a copy of its corpus; prints one line and
	# returns non-zero on a finding.
	fuzz_one() {
		name=${1##*/fuzz_}
		corpus="$top/fuzz/corpus/$name"
		work=$(mktemp -d)
		[ -d "$corpus" ] && cp -r "$corpus/." "$work/"
		if ASAN_OPTIONS=detect_leaks=1 "$1" -max_total_time="$fuzz_seconds" \
		    -print_final_stats=1 "$work" >"build-fuzz/fuzz-$name.log" 2>&1; then
			echo "  $name: $(grep -m1 'stat::number_of_executed_units' "build-fuzz/fuzz-$name.log" |
			    awk '{print $2}') runs, no finding"
			r=0
		else
			echo "  $name: FINDING (build-fuzz/fuzz-$name.log)"
			r=1
		fi
		rm -rf "$work"
		return $r
	}
	# The targets are dealt round-robin into one lane per core; each lane fuzzes
	# its targets one after the other and records its findings in a file.
	if [ $rc -eq 0 ]; then
		lane=0
		while [ $lane -lt "$jobs" ]; do
			(
				i=0 lr=0
				for f in build-fuzz/fuzz/fuzz_*; do
					[ -x "$f" ] || continue
					if [ $((i % jobs)) -eq $lane ]; then
						fuzz_one "$f" || lr=1
					fi
					i=$((i + 1))
				done
				echo $lr >"build-fuzz/lane-$lane.rc"
			) &
			lane=$((lane + 1))
		done
		wait
		lane=0
		while [ $lane -lt "$jobs" ]; do
			[ "$(cat "build-fuzz/lane-$lane.rc" 2>/dev/null)" = 0 ] || rc=1
			lane=$((lane + 1))
		done
		if [ $rc -ne 0 ]; then
			for l in build-fuzz/fuzz-*.log; do
				grep -q '^==[0-9]*==ERROR\|^SUMMARY\|deadly signal\|Test unit written' "$l" &&
				    { echo "---- $l"; tail -40 "$l"; }
			done
		fi
	fi
	end "libFuzzer" $rc
fi

# 4. Fault sweeps with every fault kind the test module can inject.
if want sweeps; then
	begin "fault sweeps: every call, every fault kind"
	rc=0
	(cd build && NKHSM_SWEEP_MORE="CKR_TOKEN_NOT_PRESENT CKR_GENERAL_ERROR CKR_PIN_INCORRECT \
	CKR_PIN_LOCKED CKR_SESSION_HANDLE_INVALID CKR_BUFFER_TOO_SMALL CKR_DEVICE_ERROR \
	CKR_HOST_MEMORY CKR_USER_NOT_LOGGED_IN CKR_FUNCTION_FAILED" make check \
	    TESTS="tests/integration/pam-sweep.sh tests/integration/sweep-sshca.sh tests/integration/sweep-tool.sh" \
	    >sweeps.out 2>&1) || rc=1
	[ $rc -eq 0 ] || show_failures build
	grep -h 'at each' build/tests/integration/*sweep*.log 2>/dev/null | sed 's/^/  /'
	end "fault sweeps" $rc
fi

echo "hardening: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
