# SPDX-License-Identifier: BSD-2-Clause
# pg-common.sh - sourced after common.sh by the tests of nkhsm-sshca's
# PostgreSQL ledger (sshca-pg*.sh) and by bench/sshca-pg.sh: a throwaway
# PostgreSQL cluster from Debian's postgresql package, made with initdb and
# run with pg_ctl as an unprivileged user (nobody when the test runs as
# root), listening on a Unix socket in the test's directory only (no TCP),
# stopped and removed at exit. A server that cannot start fails the test:
# it is never skipped.
#
# Two sites: site NAME makes a SoftHSM token store of its own (another CA
# host), and the same CA key, made in software once (ca_key), is imported
# into each site's token, as a SmartCard-HSM clone would hold it.

# pg_find: the newest server's bin directory in $PG_BIN.
pg_find() {
	PG_BIN=
	for _d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$_d/initdb" ] && [ -x "$_d/pg_ctl" ]; then
			PG_BIN=$_d
			return 0
		fi
	done
	return 1
}

# pg_as CMD...: run as the cluster's owner.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		"$@"
	fi
}

# pg_start [DURABLE]: initdb and start; sets PGS (the socket directory),
# PGURL (the ledger URL of database nkca) and PG_ADMIN (this user, the
# cluster's superuser, logged in by peer). Tests run with fsync off (a
# crash of the whole machine is not what they test); DURABLE keeps it on.
pg_start() {
	if ! pg_find; then
		echo "FAIL - no PostgreSQL server found (initdb, pg_ctl): install" \
		    "Debian's postgresql package (tools/install-deps.sh)"
		exit 99
	fi
	PGD="$T/pg/data" PGS="$T/pg/s" PGLOG="$T/pg/server.log"
	PG_ADMIN=$(id -un)
	mkdir -p "$T/pg/s" || exit 99
	if [ "$(id -u)" -eq 0 ]; then
		command -v setpriv >/dev/null 2>&1 || {
			echo "FAIL - setpriv (util-linux) is needed to run the server as nobody"; exit 99; }
		chmod 711 "$T"
		chown -R nobody "$T/pg"
	fi
	if ! pg_as "$PG_BIN/initdb" -D "$PGD" -U "$PG_ADMIN" -E UTF8 --locale=C \
	    --auth-local=peer --auth-host=reject --no-sync > "$T/pg/initdb.log" 2>&1; then
		echo "FAIL - initdb failed:"
		tail -20 "$T/pg/initdb.log"
		exit 99
	fi
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$PGS'"
		echo "max_connections = 40"
		echo "shared_buffers = 16MB"
		echo "synchronous_commit = on"
		if [ -z "${1:-}" ]; then
			echo "fsync = off"
			echo "full_page_writes = off"
		fi
	} | pg_as sh -c "cat >> '$PGD/postgresql.conf'"
	# The superuser by peer; every other role by password (scram-sha-256).
	printf 'local all %s peer\nlocal all all scram-sha-256\n' "$PG_ADMIN" |
	    pg_as sh -c "cat > '$PGD/pg_hba.conf'"
	CLEANUP="pg_stop; $CLEANUP"
	pg_up || exit 99
	pg_sql postgres "CREATE DATABASE nkca" >/dev/null || {
		echo "FAIL - cannot create the test database"; exit 99; }
	PGURL="postgresql:///nkca?host=$PGS"
}

# pg_up: start the cluster made by pg_start (again, after pg_down).
pg_up() {
	if ! pg_as "$PG_BIN/pg_ctl" -D "$PGD" -l "$PGLOG" -w -t 60 start \
	    > "$T/pg/pg_ctl.log" 2>&1; then
		echo "FAIL - the PostgreSQL server does not start:"
		tail -20 "$PGLOG" "$T/pg/pg_ctl.log" 2>/dev/null
		return 1
	fi
}

# pg_down: stop it as an administrator would (fast: sessions are ended).
pg_down() {
	pg_as "$PG_BIN/pg_ctl" -D "$PGD" -m fast -w -t 60 stop > "$T/pg/pg_ctl.log" 2>&1
}

pg_stop() {
	[ -f "$PGD/postmaster.pid" ] &&
	    pg_as "$PG_BIN/pg_ctl" -D "$PGD" -m immediate -w -t 30 stop >/dev/null 2>&1
	rm -rf "$T/pg"
}

# pg_sql DB SQL: psql as the superuser; rows as a|b|c lines.
pg_sql() {
	"$PG_BIN/psql" -h "$PGS" -U "$PG_ADMIN" -d "$1" -X -q -A -t -v ON_ERROR_STOP=1 \
	    -c "$2"
}

# pg_role NAME PASSWORD: a role that may use the ledger's tables (the
# grants nkhsm-sshca(1) documents for a joining site), and a password
# file for it in $T/NAME.pgpass.
pg_role() {
	pg_sql nkca "CREATE ROLE $1 LOGIN PASSWORD '$2';
	    GRANT SELECT, INSERT, UPDATE ON meta, certs, revocations, log TO $1;" ||
	    { echo "FAIL - cannot create role $1"; exit 99; }
	printf '%s:*:nkca:%s:%s\n' "$PGS" "$1" "$2" > "$T/$1.pgpass"
	chmod 600 "$T/$1.pgpass"
}

# pg_hold SERIAL: another session inserts an SSH certificate row with
# SERIAL and keeps its transaction open, so that a site's insert of that
# serial waits inside its own transaction (holding the log's lock) until
# pg_release rolls it back.
pg_hold() {
	rm -f "$T/pg/release"
	{
		printf '%s\n' "BEGIN; INSERT INTO certs VALUES('ssh', '$1', 'ssh-user', 'holder'," \
		    "'x', 0, 0, 'x', 'x', 0, '\\x00', 0, NULL, NULL);"
		while [ ! -e "$T/pg/release" ]; do sleep 0.1; done
		echo "ROLLBACK;"
	} | "$PG_BIN/psql" -h "$PGS" -U "$PG_ADMIN" -d nkca -X -q -v ON_ERROR_STOP=1 \
	    > "$T/pg/hold.out" 2>&1 &
	HOLD_PID=$!
}
pg_release() {
	touch "$T/pg/release"
	wait $HOLD_PID
}
# pg_waiting N: wait (up to 30 s, stretched under valgrind) until N
# nkhsm-sshca sessions wait for a lock.
pg_waiting() {
	_n=0
	while [ "$(pg_sql nkca "SELECT count(*) FROM pg_stat_activity WHERE
	    application_name = 'nkhsm-sshca' AND wait_event_type = 'Lock'")" != "$1" ]; do
		_n=$((_n + 1))
		[ $_n -gt $((300 * ${SLOW:-1})) ] && return 1
		sleep 0.1
	done
}

# ca_key: the CA key, made in software once (P-256), as PKCS#8 DER.
ca_key() {
	[ -f "$T/cakey.p8" ] && return 0
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$T/cakey.pem" 2>/dev/null &&
	    openssl pkcs8 -topk8 -nocrypt -in "$T/cakey.pem" -out "$T/cakey.p8" ||
	    { echo "cannot make the CA key"; exit 99; }
}

# site NAME [KEYFILE]: a CA host: a SoftHSM token store of its own with
# token NAME holding KEYFILE (PKCS#8; default: the CA key) as label ca,
# id 01; its state in $T/NAME.
site() {
	ca_key
	mkdir -p "$T/$1.tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
	    "$T/$1.tokens" > "$T/$1.softhsm2.conf"
	SOFTHSM2_CONF="$T/$1.softhsm2.conf" softhsm2-util --init-token --free \
	    --label "$1" --so-pin "$SO_PIN" --pin "$USER_PIN" >/dev/null &&
	    SOFTHSM2_CONF="$T/$1.softhsm2.conf" softhsm2-util --import "${2:-$T/cakey.p8}" \
	    --token "$1" --label ca --id 01 --pin "$USER_PIN" >/dev/null ||
	    { echo "cannot make site $1's token"; exit 99; }
}

# at NAME ARGS...: nkhsm-sshca at site NAME (its token store and state).
at() {
	_site=$1
	shift
	SOFTHSM2_CONF="$T/$_site.softhsm2.conf" $VG "$SSHCA" --config "$T/nkhsm.conf" \
	    --state "$T/$_site" --module "$SOFTHSM_MODULE" --pin-source env:NK_TEST_PIN "$@"
	_rc=$?
	vg_check "nkhsm-sshca at $_site $*"
	return $_rc
}

# at_bg NAME ARGS...: the same in the background, as a process of its own
# ($AT_PID is nkhsm-sshca itself, for kill -9; not under valgrind).
at_bg() {
	_site=$1
	shift
	(exec env SOFTHSM2_CONF="$T/$_site.softhsm2.conf" "$SSHCA" --config "$T/nkhsm.conf" \
	    --state "$T/$_site" --module "$SOFTHSM_MODULE" --pin-source env:NK_TEST_PIN "$@") &
	AT_PID=$!
}

# The key URI of site NAME's CA key.
site_key() { echo "pkcs11:token=$1;object=ca;type=private"; }
