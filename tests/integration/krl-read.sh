#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# krl-read.sh - lib/krl.c, the KRL reader pam_nkhsm uses, against the real
# peer: ssh-keygen -Q on the same files must give the same answer, file by
# file and key by key. The KRLs come from ssh-keygen -k (serial lists,
# ranges and bitmaps, key ids, a wildcard CA, explicit keys, SHA-1 and
# SHA-256), from nkhsm-sshca's encoder (tests/unit/krlgen), from
# krlcraft.py (what no tool writes: every refusal OpenSSH makes), and from
# every truncation and 300 one-byte changes of a KRL with every section.
# Where lib/krl.c is stricter on purpose (krlcraft.py marks those), it must
# refuse what ssh-keygen loads; it may never load what ssh-keygen refuses.
. "${top_srcdir:-.}/tests/integration/common.sh"

KC="$top_builddir/tests/unit/revcheck"
KRLGEN="$top_builddir/tests/unit/krlgen"
CRAFT="$top_srcdir/tests/integration/krlcraft.py"
[ -x "$KC" ] || { echo "revcheck not built"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "skip: ssh-keygen missing"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }

mkdir "$T/k" "$T/q"
cd "$T/k" || exit 99
key() { ssh-keygen -q -t "$1" ${3:+-b $3} -N '' -C "$2" -f "$2" || exit 99; }
# cert KEY CA SERIAL ID: KEY-cert.pub
cert() {
	ssh-keygen -q -s "$2" -I "$4" -n x -z "$3" -V +1h "$1.pub" 2>/dev/null || exit 99
}
key ecdsa ca
key ed25519 edca
key rsa rsaca 2048
key ecdsa other
key ed25519 u_ed25519
key ecdsa u_ecdsa256 256
key ecdsa u_ecdsa384 384
key ecdsa u_ecdsa521 521
key rsa u_rsa2048 2048
# Serials under ca and rsaca: 107 (ecdsa256), 114, 121, 128 (ed25519),
# 135 (rsa2048); under edca one more.
USERS="u_ecdsa256 u_ecdsa384 u_ecdsa521 u_ed25519 u_rsa2048"
n=100
for u in $USERS; do
	n=$((n + 7))
	cert "$u" ca $n "id-$u"
	cp "$u-cert.pub" "$u-ca.pub"
	cert "$u" edca $((n + 1)) "id-$u"
	mv "$u-cert.pub" "$u-edca.pub"
	cert "$u" rsaca $n "id-$u"
	mv "$u-cert.pub" "$u-rsaca.pub"
done
key ecdsa dense
for s in 1 9 40 41 45 63 64 65 66 200 18446744073709551615; do
	cert dense ca "$s" "dense-$s"
	mv dense-cert.pub "dense-$s.pub"
done
cert other rsaca 0 zero-serial
mv other-cert.pub zero.pub
KEYS=$(ls *.pub | grep -v '^ca\.pub$\|^edca\.pub$\|^rsaca\.pub$')
KEYS="$KEYS ca.pub edca.pub"

# verdicts KRL: "file: ok|REVOKED" lines from each reader, or REFUSED.
verdicts() {
	# ssh-keygen adds " (comment)" after the file name.
	ssh-keygen -Q -f "$1" $KEYS 2>/dev/null | sed 's/ ([^)]*):/:/' > "$T/ours.sk"
	[ "$(wc -l < "$T/ours.sk")" -eq "$(echo $KEYS | wc -w)" ] || echo REFUSED > "$T/ours.sk"
	"$KC" krl "$1" $KEYS > "$T/ours.kc" 2> "$T/kc.err"
	[ $? -le 1 ] || echo REFUSED > "$T/ours.kc"
}
# same KRL DESC: both readers agree, and something was revoked or refused
# unless ALLOW_NONE is set.
same() {
	verdicts "$1"
	if cmp -s "$T/ours.sk" "$T/ours.kc"; then
		pass "$2"
	else
		fail "$2: ssh-keygen -Q and lib/krl.c disagree"
		diff "$T/ours.sk" "$T/ours.kc" | head -6 | sed 's/^/  | /'
		sed 's/^/  | /' "$T/kc.err" | head -2
	fi
}
# revoked KRL FILE...: the last verdicts say REVOKED for exactly these.
revoked() {
	krl=$1
	shift
	want=$(for f in "$@"; do echo "$f"; done | sort)
	got=$(grep ': REVOKED$' "$T/ours.kc" | sed 's/: REVOKED$//' | sort)
	if [ "$want" = "$got" ]; then
		pass "$krl: revokes exactly $*"
	else
		fail "$krl: revokes '$(echo $got)', wanted '$(echo $want)'"
	fi
}

# --- KRLs written by ssh-keygen -k -----------------------------------------------
fp() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }
printf 'serial: 107\nserial: 121-128\nid: id-u_ed25519\n' > s1
ssh-keygen -q -k -f s1.krl -s ca.pub s1 || exit 99
same s1.krl "ssh-keygen -k: serials, a range and a key id under an ECDSA CA"
revoked s1.krl u_ecdsa256-ca.pub u_ecdsa521-ca.pub u_ed25519-ca.pub
seq 40 70 | sed 's/^/serial: /' > s2	# dense: ssh-keygen writes a bitmap
echo 'serial: 18446744073709551615' >> s2
ssh-keygen -q -k -f s2.krl -s ca.pub s2 || exit 99
same s2.krl "ssh-keygen -k: a bitmap of serials and serial 2^64-1"
revoked s2.krl dense-40.pub dense-41.pub dense-45.pub dense-63.pub dense-64.pub \
    dense-65.pub dense-66.pub dense-18446744073709551615.pub
printf '%s\n' 9 45 64 200 | sed 's/^/serial: /' > s3
printf 'serial: 1-8\n' >> s3
ssh-keygen -q -k -f s3.krl -s ca.pub s3 || exit 99
same s3.krl "ssh-keygen -k: a sparse list after a range"
revoked s3.krl dense-1.pub dense-9.pub dense-45.pub dense-64.pub dense-200.pub
printf 'serial: 108\nid: id-u_rsa2048\n' > s4
ssh-keygen -q -k -f s4.krl -s edca.pub s4 || exit 99
same s4.krl "ssh-keygen -k: serial and key id under an Ed25519 CA"
revoked s4.krl u_ecdsa256-edca.pub u_rsa2048-edca.pub
printf 'serial: 114\nid: zero-serial\n' > s5
ssh-keygen -q -k -f s5.krl -s rsaca.pub s5 || exit 99
same s5.krl "ssh-keygen -k: under an RSA CA; serial 0 matched by key id only"
revoked s5.krl u_ecdsa384-rsaca.pub zero.pub
printf 'serial: 107\nid: id-u_rsa2048\n' > s6
ssh-keygen -q -k -f s6.krl -s none s6 || exit 99
same s6.krl "ssh-keygen -k -s none: a wildcard CA covers every CA"
revoked s6.krl u_ecdsa256-ca.pub u_ecdsa256-rsaca.pub u_rsa2048-ca.pub \
    u_rsa2048-edca.pub u_rsa2048-rsaca.pub
printf 'key: %s\nsha1: %s\nsha256: %s\nhash: %s\n' "$(cat u_ecdsa521.pub)" \
    "$(cat u_ed25519.pub)" "$(cat u_rsa2048.pub)" "$(fp u_ecdsa384.pub)" > s7
ssh-keygen -q -k -f s7.krl s7 other.pub || exit 99
same s7.krl "ssh-keygen -k: explicit keys, SHA-1, SHA-256 and hash: lines"
revoked s7.krl $(ls u_ecdsa384*.pub u_ecdsa521*.pub u_ed25519*.pub \
    u_rsa2048*.pub) other.pub zero.pub
printf 'key: %s\n' "$(cat edca.pub)" > s8
ssh-keygen -q -k -f s8.krl s8 || exit 99
same s8.krl "ssh-keygen -k: a revoked CA key revokes every certificate it signed"
revoked s8.krl edca.pub $(ls u_*-edca.pub)
cat s1.krl > s9.krl	# -u: two certificate sections appended by ssh-keygen
ssh-keygen -q -k -u -f s9.krl -s rsaca.pub s5 || exit 99
same s9.krl "ssh-keygen -k -u: sections for two CAs in one KRL"

# --- nkhsm-sshca's encoder read back -------------------------------------------------
if [ -x "$KRLGEN" ]; then
	"$KRLGEN" -o g1.krl -c ca.pub -s 107 -s 114 -s 115 -s 116 -s 117 -s 118 \
	    -i id-u_rsa2048 -k u_ed25519.pub || exit 99
	same g1.krl "sc_krl_encode's KRL: serials, a run, a key id and a key hash"
	revoked g1.krl u_ecdsa256-ca.pub u_ecdsa384-ca.pub u_rsa2048-ca.pub \
	    u_ed25519.pub u_ed25519-ca.pub u_ed25519-edca.pub u_ed25519-rsaca.pub
fi

# --- crafted: the refusals -------------------------------------------------------------
python3 "$CRAFT" crafted "$T/q" ca.pub u_ed25519-ca.pub u_ecdsa256.pub || exit 99
while read -r name expect; do
	verdicts "$T/q/$name.krl"
	if [ "$expect" = stricter ]; then
		if grep -q REFUSED "$T/ours.kc" && ! grep -q REFUSED "$T/ours.sk"; then
			pass "crafted $name: ssh-keygen loads it, lib/krl.c refuses it ($(sed "s/.*: offset [0-9]*: //" "$T/kc.err" | cut -c1-60))"
		else
			fail "crafted $name: wanted ssh-keygen to load and lib/krl.c to refuse"
		fi
	else
		same "$T/q/$name.krl" "crafted $name: $(grep -q REFUSED "$T/ours.sk" && echo refused || echo loaded) by both, same verdicts"
	fi
done < "$T/q/cases"

# --- every truncation and 300 one-byte changes of a KRL with every kind of section ---
cat s1.krl > all.krl
ssh-keygen -q -k -u -f all.krl -s none s6 || exit 99
ssh-keygen -q -k -u -f all.krl s7 other.pub || exit 99
ssh-keygen -q -k -u -f all.krl -s edca.pub s4 || exit 99
same all.krl "the KRL to mutate: both readers agree"
mkdir "$T/m"
python3 "$CRAFT" mutate "$T/m" all.krl 12 300 || exit 99
agree=0 looser=0 differ=0 strict=0
for f in "$T"/m/*.krl; do
	verdicts "$f"
	if cmp -s "$T/ours.sk" "$T/ours.kc"; then
		agree=$((agree + 1))
	elif grep -q REFUSED "$T/ours.sk"; then
		looser=$((looser + 1))
		echo "  lib/krl.c loads what ssh-keygen refuses: $(basename "$f")"
	elif grep -q REFUSED "$T/ours.kc" && grep -q 'not supported\|non-minimal' "$T/kc.err"; then
		strict=$((strict + 1))
	else
		differ=$((differ + 1))
		echo "  verdicts differ: $(basename "$f")"
		diff "$T/ours.sk" "$T/ours.kc" | head -4 | sed 's/^/  | /'
	fi
done
total=$(ls "$T"/m/*.krl | wc -l)
[ $looser -eq 0 ] && pass "mutations: lib/krl.c never loads what ssh-keygen refuses ($total files)" ||
    fail "mutations: lib/krl.c loaded $looser files ssh-keygen refuses"
[ $differ -eq 0 ] && pass "mutations: same verdicts on every file both load ($agree agree, $strict stricter on purpose)" ||
    fail "mutations: $differ files with other verdicts"
finish
