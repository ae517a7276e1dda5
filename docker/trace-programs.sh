#!/bin/bash
# trace-programs.sh: the program table. Real programs, traced as dave (no
# rule names him) by both methods: the capability gocap trace finds, its
# suggestion applied (the capability.conf line, the setcap commands) and
# the program run again through the real module and su, where it must
# work. Then the same traces with an mmap-heavy program on every CPU: each
# gives the quiet answer, or says it lost events and suggests nothing.
# Run in a container with kernel addresses (SYSLOG) and in one without.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/checks.sh"
METHODS="bpf tracepoint"
if [ "$(head -c 16 /proc/kallsyms)" = 0000000000000000 ]; then where="without kernel addresses"; else where="with kernel addresses"; fi
echo "program table, $where"

# Copies without file capabilities, as an administrator has them before.
for p in ping tcpdump ip chown nice renice cat kill chroot unshare; do
	cp "$(type -P $p)" /usr/local/bin/$p-plain
done
cp /usr/bin/cat /usr/local/bin/catraw-plain
cp /usr/local/bin/bind80 /usr/local/bin/bind80-plain
python=$(readlink -f "$(command -v python3)")
cp /etc/security/capability.conf /tmp/capability.conf.programs
# su run by root stops at pam_rootok, before common-auth: the module goes
# first in /etc/pam.d/su as well, as scenarios.sh has it.
sed -i '/pam_gocap.so/d' /etc/pam.d/su
sed -i '1i auth optional pam_gocap.so' /etc/pam.d/su
install -o dave -m 0644 /dev/null /tmp/dave-owned
su carol -c 'exec sleep 600' >/dev/null 2>&1 &
disown
victim=$(pid_of carol sleep)

# The table: the command dave runs, the capability it needs, and what
# shows that it worked, when its exit code does not (nice runs the
# command whether or not it could set the niceness).
ROWS="ping tcpdump ip-link ip-addr bind80-c bind80-py chown nice renice shadow shadow-union kill chroot unshare"
declare -A CMD=(
	[ping]="ping-plain -c1 -W1 127.0.0.1"
	[tcpdump]="tcpdump-plain -i lo -c1 -w /dev/null"
	[ip-link]="ip-plain link set lo mtu 65536"
	[ip-addr]="ip-plain addr add 192.0.2.21/32 dev lo"
	[bind80-c]="bind80-plain"
	[bind80-py]="python3 -c 'import socket; socket.socket().bind((\"127.0.0.1\", 80))'"
	[chown]="chown-plain carol /tmp/dave-owned"
	[nice]="nice-plain -n -5 nice"
	[renice]="renice-plain -n -5 -u dave"
	[shadow]="cat-plain /etc/shadow"
	[shadow-union]="catraw-plain /etc/shadow"
	[kill]="kill-plain -0 $victim"
	[chroot]="chroot-plain / true"
	[unshare]="unshare-plain -n true"
)
declare -A CAP=(
	[ping]=cap_net_raw [tcpdump]=cap_net_raw [ip-link]=cap_net_admin [ip-addr]=cap_net_admin
	[bind80-c]=cap_net_bind_service [bind80-py]=cap_net_bind_service [chown]=cap_chown
	[nice]=cap_sys_nice [renice]=cap_sys_nice [shadow]=cap_dac_read_search [shadow-union]=cap_dac_read_search [kill]=cap_kill
	[chroot]=cap_sys_chroot [unshare]=cap_sys_admin
)
declare -A PROGRAM=([bind80-py]=$python)
declare -A OUTPUT=([nice]=-5)
# What is undone after a row worked, for the next method.
declare -A UNDO=([ip-addr]="ip addr del 192.0.2.21/32 dev lo" [chown]="chown dave /tmp/dave-owned")
# Traffic for tcpdump to capture one packet of.
declare -A BEFORE=([tcpdump]="ping -c 20 -i 0.2 127.0.0.1")
# File capabilities a program has before: the setcap line must keep them.
declare -A FILECAPS=([shadow-union]=cap_net_raw=ep)
# Programs that run whatever they are given (python3): no setcap, but an
# Ambient rule with the module arguments keepcaps defer, which su carries
# into the session.
declare -A AMBIENT=([bind80-py]=1)

trace() { # trace METHOD ROW: trace the row's command as dave into /tmp/prog.json
	local m=$1
	eval "set -- ${CMD[$2]}"
	rm -f /tmp/prog.json
	gocap trace --via "$m" --user dave --format json -o /tmp/prog.json -- "$@" >/tmp/prog.out 2>&1
	code=$?
}
q() { jq -r "$1" /tmp/prog.json; }
# The answer a loaded run must give, unless it lost events.
answer() { jq -c '{denied, conf: .suggest.capability_conf_line, setcap: [.suggest.setcap[]?.for_user]}' /tmp/prog.json; }

# row METHOD ROW: trace, check the capability found, apply the suggestion,
# run the program as dave through su.
row() {
	local m=$1 r=$2 want=${CAP[$2]} prog pfx="$1: $2" had=${FILECAPS[$2]:-}
	local -a problems=()
	eval "set -- ${CMD[$r]}"
	prog=${PROGRAM[$r]:-$(readlink -f "$(type -P "$1")")}
	[ -z "$had" ] || setcap "$had" "$prog"
	trace $m $r
	answer >/tmp/quiet.$m.$r
	[ "$(q '.denied | join(",")')" = "$want" ] || problems+=("denied $(q '.denied | join(",")'), want $want")
	[ "$(q .lost_events)" = 0 ] || problems+=("lost $(q .lost_events) events on a quiet machine")
	[ "$(q .suggest.capability_conf_line)" = "$want dave" ] ||
		problems+=("capability.conf line '$(q .suggest.capability_conf_line)', want '$want dave'")
	local wantset="setcap $want=ie $prog"
	[ -z "$had" ] || wantset="setcap '$had $want=ie' $prog"
	if [ -n "${AMBIENT[$r]:-}" ]; then
		wantset=
		[ "$(q '.suggest.setcap[0].general_purpose') $(q .suggest.ambient.capability_conf_line) $(q .suggest.ambient.module_args)" = \
			"true ^$want dave keepcaps defer" ] ||
			problems+=("for $prog, general purpose: $(q '.suggest.setcap[0].general_purpose'), Ambient rule '$(q .suggest.ambient.capability_conf_line)' with '$(q .suggest.ambient.module_args)', want '^$want dave' with 'keepcaps defer'")
	fi
	[ "$(q '[.suggest.setcap[]?.for_user] | join(";")')" = "$wantset" ] ||
		problems+=("setcap '$(q '[.suggest.setcap[]?.for_user] | join(";")')', want '$wantset'")
	# Apply what it suggested, whatever it was, and run the program: the
	# capability.conf line and the setcap commands, or the Ambient rule
	# and its module arguments.
	local line setcaps out suggestion
	line=$(q '.suggest.capability_conf_line // empty')
	setcaps=$(q '.suggest.setcap[]?.for_user')
	suggestion=$(q '[.suggest.setcap[]?.for_user] | join("; ")')
	if [ "$(q '.suggest.ambient // empty')" != "" ]; then
		line=$(q .suggest.ambient.capability_conf_line)
		sed -i "s/^auth optional pam_gocap.so\$/& $(q .suggest.ambient.module_args)/" /etc/pam.d/su
		suggestion="$line, with $(q .suggest.ambient.module_args)"
	fi
	[ -n "$line" ] && sed -i "1i $line" /etc/security/capability.conf
	[ -n "$setcaps" ] && (eval "$setcaps")
	local traffic=
	if [ -n "${BEFORE[$r]:-}" ]; then
		${BEFORE[$r]} >/dev/null 2>&1 &
		traffic=$!
	fi
	out=$(timeout 20 su dave -c "${CMD[$r]}" 2>&1)
	local ran=$?
	[ -z "$traffic" ] || { kill $traffic 2>/dev/null; wait $traffic 2>/dev/null; }
	if [ -n "${OUTPUT[$r]:-}" ]; then
		[ "$ran $out" = "0 ${OUTPUT[$r]}" ] || problems+=("after applying: exit $ran, '$out', want '${OUTPUT[$r]}'")
	else
		[ "$ran" = 0 ] || problems+=("after applying: exit $ran: $out")
	fi
	if [ -n "$had" ] && ! getcap "$prog" | grep -q "${had%%=*}"; then
		problems+=("after applying: $prog lost ${had%%=*}: $(getcap "$prog")")
	fi
	[ $ran = 0 ] && [ -n "${UNDO[$r]:-}" ] && ${UNDO[$r]}
	cp /tmp/capability.conf.programs /etc/security/capability.conf
	sed -i 's/^auth optional pam_gocap.so .*/auth optional pam_gocap.so/' /etc/pam.d/su
	for p in $(q '.suggest.setcap[]?.program') $prog; do setcap -r "$p" 2>/dev/null; done
	if [ ${#problems[@]} -eq 0 ]; then
		ok "$pfx: $want found; applied, the program works"
	else
		bad "$pfx: ${problems[*]}"
	fi
	printf '%s\t%s\t%s\t%s\n' "$r" "$(q '.denied | join(",")')" "$suggestion" \
		"$([ $ran = 0 ] && echo works || echo fails)" >>/tmp/table.$m
}

for m in $METHODS; do
	: >/tmp/table.$m
	for r in $ROWS; do
		row $m $r
	done
	echo "table ($m, $where): program, found, suggestion, after applying"
	sed 's/^/  /' /tmp/table.$m
done

# Loaded: an mmap-heavy program on every CPU, each trace bounded. A row
# either gives its quiet answer or says it lost events and suggests
# nothing.
busy=
for _ in $(seq "$(nproc)"); do
	mmapload 1000000000 &
	busy="$busy $!"
done
# Another probe on capability:cap_capable, in a tracefs instance of ours.
# Instances are the kernel's: named after our pid namespace, as gocap's
# are, so that another container's run neither takes nor removes it.
probe_fs=$(mktemp -d)
probe_name=gocap-programs-probe-$(stat -L -c %i /proc/self/ns/pid)
mount -t tracefs nodev "$probe_fs"
mkdir "$probe_fs/instances/$probe_name"
probe_on=$probe_fs/instances/$probe_name/events/capability/cap_capable/enable
for m in $METHODS; do
	lost=0 uncalibrated=0
	for r in $ROWS; do
		eval "set -- ${CMD[$r]}"
		prog=${PROGRAM[$r]:-$(readlink -f "$(type -P "$1")")}
		[ -z "${FILECAPS[$r]:-}" ] || setcap "${FILECAPS[$r]}" "$prog"
		trace $m $r
		[ -z "${FILECAPS[$r]:-}" ] || setcap -r "$prog"
		if [ "$(q .lost_events)" != 0 ]; then
			lost=$((lost + 1))
			check "$m: $r under load: lost $(q .lost_events) events, suggests nothing" "$(q .suggest)" null
		elif [ "$(q .uncalibrated)" != null ]; then
			# Without kernel addresses, a calibration the load defeated:
			# said so, and none of its capabilities denied.
			uncalibrated=$((uncalibrated + 1))
			check "$m: $r under load: uncalibrated $(q '.uncalibrated | join(",")'), none of them denied" \
				"$(q '[.denied[] as $d | select(.uncalibrated | index($d))] | length')" 0
		else
			check "$m: $r under load: the quiet answer" "$(answer)" "$(cat /tmp/quiet.$m.$r)"
		fi
	done
	echo "$m under load: $lost of $(echo $ROWS | wc -w) traces lost events, $uncalibrated uncalibrated"
	# Another trace's probe on the tracepoint (a tracefs instance with the
	# event on) attached, or removed, between gocap's calibration and the
	# command's checks: with BPF, every stack then has one frame more, or
	# one less, than the calibration's. chown still gets its quiet answer.
	# The command, started once gocap calibrated, waits for the change
	# (10 s at most), as no fixed sleep outlasts a calibration under load.
	for probe in attached removed; do
		[ $probe = attached ] && echo 0 >"$probe_on" || echo 1 >"$probe_on"
		rm -f /tmp/probe.started /tmp/probe.changed
		(wait_for /tmp/probe.started && { [ $probe = attached ] && echo 1 >"$probe_on" || echo 0 >"$probe_on"; } &&
			echo changed >/tmp/probe.changed) &
		gocap trace --via $m --user dave --format json -o /tmp/prog.json -- \
			sh -c 'echo started >/tmp/probe.started; i=0; while [ ! -s /tmp/probe.changed ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
				exec chown-plain carol /tmp/dave-owned' >/dev/null 2>&1
		wait $!
		check "$m: another probe $probe while the command ran" "$(cat /tmp/probe.changed 2>/dev/null)" changed
		echo 0 >"$probe_on"
		check "$m: chown, another probe $probe after the calibration: cap_chown, lost $(q .lost_events), uncalibrated $(q .uncalibrated)" \
			"$(q '.denied | join(",")')" cap_chown
	done
	# The traced command itself busy too: two mmap-heavy programs beside
	# the port-80 bind, 100,000 checks.
	gocap trace --via $m --user dave --format json -o /tmp/prog.json -- \
		sh -c 'mmapload 50000 & mmapload 50000 & bind80-plain; wait' >/dev/null 2>&1
	if [ "$(q .lost_events)" != 0 ]; then
		check "$m: two mmap-heavy programs and a bind: lost $(q .lost_events) events, suggests nothing" "$(q .suggest)" null
	else
		check "$m: two mmap-heavy programs and a bind: cap_net_bind_service for bind80-plain" \
			"$(q '.denied | join(",")') $(q '[.suggest.setcap[]?.for_user] | join(";")')" \
			"cap_net_bind_service setcap cap_net_bind_service=ie /usr/local/bin/bind80-plain"
	fi
	echo "$m: two mmap-heavy programs and a bind: $(q '[.capabilities[] | select(.name == "cap_sys_admin") | .checks][0]') cap_sys_admin checks seen, $(q .lost_events) events lost"
done
kill $busy
wait $busy 2>/dev/null
rmdir "$probe_fs/instances/$probe_name"
umount "$probe_fs"

kill "$victim" 2>/dev/null
cp /tmp/capability.conf.programs /etc/security/capability.conf
summary
