# SPDX-License-Identifier: BSD-2-Clause
# sshd-common.sh - sourced after common.sh by the tests that run a real
# sshd on 127.0.0.1: it trusts $T/ca.pub (TrustedUserCAKeys) and reads
# $T/revoked.krl (RevokedKeys), with no authorized keys files and no PAM.
# Needs root and /usr/sbin/sshd (the caller checks).

SSHD=/usr/sbin/sshd
mkdir -p /run/sshd
SSHD_PID=
stop_sshd() {
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null
		i=0
		while kill -0 "$SSHD_PID" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
		SSHD_PID=
	fi
}
CLEANUP="stop_sshd; $CLEANUP"

# start_sshd HOSTKEY [HOSTCERT]: sshd -D on a free port in 20000-60000,
# its port in $PORT, its log in $T/sshd.log.
start_sshd() {
	tries=0
	while [ $tries -lt 10 ]; do
		tries=$((tries + 1))
		PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40001))
		if command -v ss >/dev/null 2>&1 &&
		    ss -Htan | awk '{print $4}' | grep -q ":$PORT\$"; then
			continue
		fi
		cat > "$T/sshd_config" <<EOC
Port $PORT
ListenAddress 127.0.0.1
HostKey $1
${2:+HostCertificate $2}
PidFile $T/sshd.pid
AuthorizedKeysFile none
TrustedUserCAKeys $T/ca.pub
RevokedKeys $T/revoked.krl
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
PermitRootLogin no
LogLevel VERBOSE
EOC
		: > "$T/sshd.log"
		"$SSHD" -D -f "$T/sshd_config" -E "$T/sshd.log" &
		SSHD_PID=$!
		i=0
		while [ $i -lt 100 ]; do
			grep -q "Server listening on 127.0.0.1 port $PORT" "$T/sshd.log" && return 0
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.05
			i=$((i + 1))
		done
		stop_sshd
		sed 's/^/  sshd: /' "$T/sshd.log" | tail -3
	done
	echo "cannot start sshd"
	exit 99
}
