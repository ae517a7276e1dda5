#!/bin/bash
# trace-hostile.sh: gocap trace run by root on programs of dave's that try
# to reach what is root's: root's terminal (TIOCSTI, output that conceals
# the report, and what they leave running, setsid included), descriptors
# root's shell left open, root's environment and directory, the report
# file (swapped for a symlink, or under a symlinked directory), root's
# paste buffer (paths with ; and with ESC bytes), a FIFO in place of the
# program after it ran; setcap commands steered to root's programs (a swap
# after the run, a name BPF cuts, a relative path, /dev/fd/N, a directory
# of the user's, a symlink to a FIFO) and events forged by a newline in an
# exec'd name; and gocap where BPF is
# forbidden and when it is SIGKILLed. Each asserts that root's side is
# untouched. Run by trace-scenarios.sh in the trace container; ends with
# "N passed, N failed".
set -u
. "$(dirname "$0")/checks.sh"
D=$(dirname "$0")
install -m 0755 "$D/tiocsti" "$D/nobpf" /usr/local/bin/
H=/home/dave
T=/sys/kernel/tracing

# under_pty SCRIPT: runs bash SCRIPT with a pseudo-terminal of this test's
# as its terminal (script's), standing for root's; its input stays open,
# empty, for 5 s.
under_pty() { sleep 5 | timeout 30 script -qec "bash $1" /dev/null; }
no_tracefs() { # what is left mounted or made by gocap's tracefs
	awk '$9 == "tracefs"' /proc/self/mountinfo
	ls -d /tmp/gocap-tracefs-* 2>/dev/null
}
instances() { # gocap's tracefs instances of this pid namespace (tracefs
	# is the kernel's: others may be tracing), seen through a mount of ours
	mount -t tracefs tracefs $T && ls $T/instances | grep "^gocap-trace-[0-9]*-$(stat -L -c %i /proc/self/ns/pid)\$"
	umount $T
}

# TIOCSTI: the command pushes a command line into its terminal's input.
# Root's shell, reading its terminal after gocap, must get none of it.
rm -f /tmp/pwned
cat >/tmp/tiocsti.sh <<'EOF'
before=$(stty -g)
gocap trace --user dave -o /tmp/hostile.txt -- tiocsti 'touch /tmp/pwned'
[ "$(stty -g)" = "$before" ] && echo "root's terminal: as it was"
read -t 3 -r line && eval "$line"
echo "root read: [$line]"
EOF
out=$(under_pty /tmp/tiocsti.sh | tr -d '\r')
check "TIOCSTI: root's shell reads nothing" "$(grep '^root read:' <<<"$out")" "root read: []"
check "TIOCSTI: nothing ran as root" "$(ls /tmp/pwned 2>&1)" "ls: cannot access '/tmp/pwned': No such file or directory"
if [ "$(cat /proc/sys/dev/tty/legacy_tiocsti)" = 1 ]; then
	# Not a vacuous pass: the push worked, on the command's own pty, and
	# gocap relayed what the command wrote.
	check "TIOCSTI: the push reached the command's own terminal" "$(grep -c '^stdin: 17 bytes$' <<<"$out")" 1
fi
check "TIOCSTI: root's terminal's settings put back" "$(grep -c "root's terminal: as it was$" <<<"$out")" 1

# Output that conceals what follows (\e[8m) and fakes a report: the real
# report follows a reset of the terminal and a line that ends the
# command's output.
cat >/tmp/conceal.sh <<'EOF'
gocap trace --user dave -- printf 'FAKE: nothing needed was denied\r\n\033[8m'
EOF
out=$(under_pty /tmp/conceal.sh)
rest=${out##*$'\033[8m'}
[[ $rest == $'\030'*$'\033[0m'*"gocap's report follows"*'gocap trace: printf '* ]] &&
	ok "concealed output: the report follows a reset and a separator" ||
	bad "concealed output: after \\e[8m came $(printf %q "${rest:0:200}")"

# What the command leaves running (deaf to the hangup its terminal gets
# when the command ends, its standard input kept from sh's /dev/null)
# holds the command's pty, which is gone once gocap is, not root's
# terminal; it has no controlling terminal left and no session of root's.
cat >/tmp/left.sh <<'EOF'
tty >/tmp/root.tty
gocap trace --user dave -o /tmp/hostile.txt -- sh -c 'trap "" HUP; exec 3<&0; sleep 30 <&3 & echo $! >/tmp/left.pid'
pid=$(cat /tmp/left.pid)
runuser -u dave -- readlink /proc/$pid/fd/0 /proc/$pid/fd/1 /proc/$pid/fd/2 >/tmp/left.fds
echo "/dev/$(ps -o tty= -p $pid | tr -d " ")" >/tmp/left.tty
echo "$(ps -o sid= -p $pid) $(ps -o sid= -p $$)" >/tmp/left.sid
kill $pid
EOF
under_pty /tmp/left.sh >/dev/null
check "left running: holds nothing of root's terminal" "$(grep -c -x -F "$(cat /tmp/root.tty)" /tmp/left.fds /tmp/left.tty | tr '\n' ' ')" \
	"/tmp/left.fds:0 /tmp/left.tty:0 "
check "left running: on a pty of its own, gone with gocap" "$(grep -c '^/dev/pts/[0-9]* (deleted)$' /tmp/left.fds)" 3
check "left running: no controlling terminal" "$(cat /tmp/left.tty)" "/dev/?"
read -r left_sid root_sid </tmp/left.sid
[ "$left_sid" != "$root_sid" ] && ok "left running: in a session of its own" || bad "left running: in root's session $root_sid"

# What the command leaves running out of its session (setsid) is named
# as still running, as what stays in it is, and nothing else is.
gocap trace --user dave -o /tmp/hostile.txt -- sh -c 'setsid sleep 30 & sleep 30 & exit 0' </dev/null >/dev/null 2>&1
left=$(sed -n 's/^still running when the trace stopped: pid \([0-9]*\) (\(.*\)); .*/\2 \1/p' /tmp/hostile.txt)
check "left running with setsid: named, as the one in the session" "$(cut -d' ' -f1 <<<"$left" | tr '\n' ' ')" "sleep sleep "
[ -n "$left" ] && kill $(cut -d' ' -f2 <<<"$left")

# No terminal: the command gets none (no controlling terminal), in a
# session of its own.
gocap trace --user dave -o /tmp/hostile.txt -- sh -c 'ps -o tty=,sid= -p $$ >/tmp/noterm' </dev/null >/dev/null 2>&1
read -r tty sid </tmp/noterm
check "no terminal: the command has none" "$tty" "?"
[ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ] && ok "no terminal: a session of its own" || bad "no terminal: in our session"

# Descriptors root's shell left open: fd 7 reads a file only root may
# read, fd 8 appends to one of root's. The command has 0, 1 and 2 only.
# The shell lists its own descriptors with builtins alone: a pipeline
# or a command substitution would open pipes of its own in it while the
# list is read, and those are the command's, not gocap's.
echo "root's secret" >/root/fd7 && echo "root's log" >/root/fd8 && chmod 600 /root/fd7 /root/fd8
rm -f /tmp/fds.dave /tmp/fd7.dave
(
	exec 7</root/fd7 8>>/root/fd8
	gocap trace --user dave -o /tmp/hostile.txt -- bash -c \
		'l=; for n in {0..1023}; do [ -L /proc/$$/fd/$n ] && l="$l$n "; done
		printf %s "$l" >/tmp/fds.dave; head -c 60 <&7 >/tmp/fd7.dave; echo pwned >&8'
) </dev/null >/dev/null 2>&1
check "inherited descriptors: the command has 0, 1 and 2 only" "$(cat /tmp/fds.dave)" "0 1 2 "
check "inherited descriptors: root's files unread and untouched" "$(cat /tmp/fd7.dave /root/fd8 2>/dev/null)" "root's log"

# Root's environment and directory: a secret in root's environment, root
# in /root; the command reads its environment and /proc's.
(
	export GOCAP_SECRET=hunter2 AWS_SECRET_ACCESS_KEY=s3cr3t TERM=xterm
	cd /root
	gocap trace --user dave -o /tmp/hostile.txt -- sh -c 'tr "\0" "\n" </proc/$$/environ >/tmp/env.dave; pwd >/tmp/pwd.dave'
	gocap trace --user dave --keep-env GOCAP_SECRET -o /tmp/hostile.txt -- sh -c 'echo "$GOCAP_SECRET" >/tmp/kept.dave'
) </dev/null >/dev/null 2>&1
check "environment: no secret of root's" "$(grep -c -e hunter2 -e s3cr3t -e /root /tmp/env.dave)" 0
check "environment: a login's" "$(grep -v '^_=' /tmp/env.dave | sort | tr '\n' ' ')" \
	"HOME=/home/dave LOGNAME=dave PATH=/usr/local/bin:/usr/bin:/bin SHELL=/bin/bash TERM=xterm USER=dave "
check "environment: in dave's home" "$(cat /tmp/pwd.dave)" "$H"
check "environment: --keep-env keeps the one named" "$(cat /tmp/kept.dave)" hunter2

# The report file: the command swaps it for a symlink to a file of
# root's; one planted before is refused and the command does not run.
echo "root's secret" >/root/secret
chmod 600 /root/secret
rm -f $H/report.txt $H/planted.txt /tmp/ran
gocap trace --user dave -o $H/report.txt -- sh -c 'rm -f $HOME/report.txt; ln -s /root/secret $HOME/report.txt' </dev/null >/dev/null 2>&1
check "report swapped for a symlink: gocap's exit" "$?" 0
check "report swapped for a symlink: root's file untouched" "$(cat /root/secret)" "root's secret"
ln -s /root/secret $H/planted.txt
out=$(gocap trace --user dave -o $H/planted.txt -- touch /tmp/ran 2>&1 </dev/null)
check "a symlink planted as the report: exit 125" "$?" 125
check "a symlink planted as the report: said" "$out" \
	"gocap trace: $H/planted.txt: a symlink on the path; the report is written to a file, never through a link"
check "a symlink planted as the report: root's file untouched, the command not run" "$(cat /root/secret) $(ls /tmp/ran 2>/dev/null)" \
	"root's secret "
# A directory on the path planted as a symlink to a directory of root's.
mkdir -p /root/reports && echo "root's report" >/root/reports/r.txt
ln -s /root/reports $H/reports
out=$(gocap trace --user dave -o $H/reports/r.txt -- touch /tmp/ran 2>&1 </dev/null)
check "a symlinked directory on the report's path: exit 125" "$?" 125
check "a symlinked directory on the report's path: one line" "$out" \
	"gocap trace: $H/reports/r.txt: a symlink on the path; the report is written to a file, never through a link"
check "a symlinked directory on the report's path: root's file untouched, the command not run" \
	"$(cat /root/reports/r.txt) $(ls /tmp/ran 2>/dev/null)" "root's report "

# A path with ; (root's, so that it gets a setcap command): the suggested
# command, pasted, runs setcap on that path and nothing else.
semi="/opt/x;chmod u+s /bin/bash;#"
mkdir -p "$semi" && install -m 0755 /usr/local/bin/rawprobe "$semi/raw"
gocap trace --user dave -o /tmp/hostile.txt -- "$semi/raw" </dev/null >/dev/null 2>&1
line=$(grep -m1 '^  setcap .*=ie ' /tmp/hostile.txt | sed 's/^  //')
check "a path with ;: the setcap command quotes it" "$line" "setcap cap_net_raw=ie '$semi/raw'"
bash_mode=$(stat -c %a /bin/bash)
sh -c "$line"
check "a path with ;: pasted, bash stays as it was" "$(stat -c %a /bin/bash)" "$bash_mode"
check "a path with ;: pasted, the program has its capability" "$(getcap "$semi/raw" | sed 's/.* //')" "cap_net_raw=ei"
chmod u-s /bin/bash

# A path with ESC and BEL bytes: none reaches the terminal, in text or
# JSON, and no setcap command is suggested for it.
esc=$(printf '%s/e\033]0;owned\007\033[2J' $H)
mkdir -p "$esc" && cp /usr/local/bin/rawprobe "$esc/raw" && chown -R dave: "$esc"
gocap trace --user dave -- "$esc/raw" </dev/null >/dev/null 2>/tmp/hostile.txt
gocap trace --user dave --format json -- "$esc/raw" </dev/null >/dev/null 2>/tmp/hostile.json
check "ESC: no ESC or BEL byte in the text report" "$(tr -d -c '\033\007' </tmp/hostile.txt | wc -c)" 0
check "ESC: nor in the JSON report" "$(tr -d -c '\033\007' </tmp/hostile.json | wc -c)" 0
check "ESC: the path escaped" "$(grep -c -F "$H/e\\x1b]0;owned\\x07\\x1b[2J/raw (inet_create)" /tmp/hostile.txt)" 1
check "ESC: no setcap command" "$(grep -c '^  setcap ' /tmp/hostile.txt)" 0
check "ESC: the report says why" "$(grep -c "^no setcap command for $H/e.*no quoting makes safe" /tmp/hostile.txt)" 1
check "ESC: JSON has the path" "$(jq -r --arg p "$esc/raw" '.suggest.setcap[0].program == $p' /tmp/hostile.json)" true

# A FIFO in place of the program once it ran: gocap, reading its #! line
# and file capabilities, must not wait on it, and suggests no setcap
# for what is no longer a program.
cp /usr/local/bin/rawprobe $H/fifoprog && chown dave: $H/fifoprog
timeout -s KILL 20 gocap trace --user dave -o /tmp/hostile.txt -- \
	sh -c "$H/fifoprog; rm $H/fifoprog; mkfifo $H/fifoprog" </dev/null >/dev/null 2>&1
check "FIFO in the program's place: gocap ends by itself, as the command" "$?" 0
check "FIFO in the program's place: no setcap command, and why" \
	"$(grep -c '^  setcap ' /tmp/hostile.txt) $(grep -c "^no setcap command for $H/fifoprog: it is not provably the file that ran, one that only root can change: $H belongs to uid 2004" /tmp/hostile.txt)" "0 1"

# setcap commands name only the file that ran, one only root can change.
# No setcap (other than one the check names) in the report of each way a
# user steers it elsewhere; SAYS is what the report says instead.
no_setcap() { # no_setcap NAME SAYS
	check "$1: no setcap command" "$(grep '^  setcap ' /tmp/hostile.txt)" ""
	check "$1: the report says why" "$(grep -c -F "$2" /tmp/hostile.txt)" 1
}
rm -rf $H/tool $H/bin $H/rawprobe $H/dev5
install -o dave -g dave -m 0755 /usr/local/bin/rawprobe $H/tool
# (a) swapped for a symlink to root's program once it ran
gocap trace --user dave -o /tmp/hostile.txt -- sh -c "$H/tool; rm $H/tool; ln -s /usr/local/bin/rawprobe $H/tool" </dev/null >/dev/null 2>&1
no_setcap "F3a: swapped for a symlink after the run" "no setcap command for $H/tool: it is not provably the file that ran"
# (b) a name of 256 bytes, which BPF's record cuts to 255: the cut name
# is a symlink to root's program
long=$H/$(printf "%0$((255 - ${#H} - 1))d" 0)
ln -s /usr/local/bin/rawprobe "$long" && install -o dave -g dave -m 0755 /usr/local/bin/rawprobe "${long}b"
gocap trace --via bpf --user dave -o /tmp/hostile.txt -- "${long}b" </dev/null >/dev/null 2>&1
no_setcap "F3b: a name cut at the record's size" "as long as a trace record holds"
rm -f "$long" "${long}b"
# (c) a relative path, where gocap's own directory holds root's program
install -o dave -g dave -m 0755 /usr/local/bin/rawprobe $H/rawprobe
(cd /usr/local/bin && gocap trace --user dave -o /tmp/hostile.txt -- sh -c "cd $H && ./rawprobe") </dev/null >/dev/null 2>&1
no_setcap "F3c: a relative path" "no setcap command for ./rawprobe: the path is relative"
# (d) fexecve-like: /dev/fd/N names a file of gocap's in gocap
gocap trace --user dave -o /tmp/hostile.txt -- sh -c "exec 5<$H/rawprobe; exec /dev/fd/5" </dev/null >/dev/null 2>&1
no_setcap "F3d: /dev/fd/N" "the path is under /dev"
# F4: a directory of the user's on the way: the user can swap it for a
# symlink to /usr/local/bin before root pastes; a copy to install instead
mkdir $H/bin && install -o dave -g dave -m 0755 /usr/local/bin/rawprobe $H/bin/rawprobe && chown dave: $H/bin
gocap trace --user dave -o /tmp/hostile.txt -- $H/bin/rawprobe </dev/null >/dev/null 2>&1
no_setcap "F4: a directory of the user's" "$H belongs to uid 2004, who can replace it"
check "F4: a copy to install" "$(grep -c -x -F "    install -o root -g root -m 0755 $H/bin/rawprobe /usr/local/bin/rawprobe" /tmp/hostile.txt)" 1
# F6: the program swapped for a symlink to a FIFO of root's, whose writer
# waits for a reader: gocap opens nothing through it
rm -f /tmp/f6.fifo /tmp/f6.flag $H/tool && mkfifo -m 0666 /tmp/f6.fifo && install -o dave -g dave -m 0755 /usr/local/bin/rawprobe $H/tool
(exec 3>/tmp/f6.fifo; echo opened >/tmp/f6.flag) &
writer=$!
gocap trace --user dave -o /tmp/hostile.txt -- sh -c "$H/tool; rm $H/tool; ln -s /tmp/f6.fifo $H/tool" </dev/null >/dev/null 2>&1
sleep 0.5
check "F6: a symlink to a FIFO or device: gocap opens nothing through it" "$(cat /tmp/f6.flag 2>/dev/null)" ""
timeout 5 cat /tmp/f6.fifo >/dev/null; wait $writer
no_setcap "F6: a symlink to a FIFO" "no setcap command for $H/tool: it is not provably the file that ran"
rm -f $H/tool

# F2: --via tracepoint reads the kernel's text, where an exec'd name is
# printed raw: a name with newlines that forges the exec of root's program
# and a denied check of it, and a bare newline. The trace is not trusted
# and suggests nothing; it never fails.
forge="$H/f pid=1 old_pid=1
  x-4242 [000] ..... 1.000000: sched_process_exec: filename=/usr/local/bin/rawprobe pid=4242 old_pid=4242
  x-4242 [000] ..... 1.000001: cap_capable: cred 0, target_ns 0, capable_ns 0, cap 1, ret -1
  x-4242 [000] ..... 1.000002: <stack trace>
 => cap_capable
 => generic_permission
Z"
bare="$H/a
b"
for p in "$forge" "$bare"; do
	mkdir -p "${p%/*}" && install -o dave -g dave -m 0755 /usr/local/bin/rawprobe "$p" && chown -R dave: "$H"
	gocap trace --via tracepoint --user dave --format json -o /tmp/hostile.json -- "$p" </dev/null >/dev/null 2>&1
	check "F2: a newline in an exec'd name: the trace runs, untrusted, nothing suggested" \
		"$? $(jq -r '(.untrusted != null) and (.suggest == null)' /tmp/hostile.json)" "1 true"
	gocap trace --via tracepoint --user dave -o /tmp/hostile.txt -- "$p" </dev/null >/dev/null 2>&1
	no_setcap "F2: a newline in an exec'd name" "the trace cannot be trusted"
done
rm -rf "$H/f pid=1 old_pid=1"* "$bare"
# A command name with a newline (prctl PR_SET_NAME), whose first line poses
# as a stack frame of the check before it.
gocap trace --via tracepoint --user dave --format json -o /tmp/hostile.json -- python3 -c \
	'import ctypes, socket; ctypes.CDLL(None).prctl(15, b"=> cap_capable\n", 0, 0, 0); socket.socket(socket.AF_PACKET, socket.SOCK_RAW)' \
	</dev/null >/dev/null 2>&1
check "F2: a newline in a command name: untrusted, nothing suggested" \
	"$(jq -r '(.untrusted != null) and (.suggest == null)' /tmp/hostile.json)" "true"

# BPF forbidden by seccomp: one line, exit 125, nothing left; the
# tracepoint method still works there.
out=$(nobpf gocap trace --via bpf -- true 2>&1 </dev/null)
check "BPF refused: exit 125" "$?" 125
check "BPF refused: one line" "$out" \
	"gocap trace: BPF refused: operation not permitted (needs root, or CAP_BPF and CAP_PERFMON; a lockdown or seccomp may forbid it)"
check "BPF refused: nothing mounted or left" "$(no_tracefs)" ""
nobpf gocap trace --user dave --format json -o /tmp/hostile.json -- rawprobe </dev/null >/dev/null 2>&1
check "BPF refused: the tracepoint method still traces" "$? $(jq -r '.via + " " + (.denied | join(","))' /tmp/hostile.json)" \
	"1 tracepoint cap_net_raw"

# gocap SIGKILLed mid-trace: nothing mounted, even while it traces, and
# no instance left once it is gone.
for m in tracepoint bpf; do
	rm -f /tmp/killed.pid
	gocap trace --via $m --user dave -o /tmp/hostile.txt -- sh -c 'echo $$ >/tmp/killed.pid; exec sleep 10' </dev/null >/dev/null 2>&1 &
	pid=$!
	wait_for /tmp/killed.pid
	check "$m: while tracing, nothing mounted" "$(no_tracefs)" ""
	kill -KILL $pid
	wait $pid 2>/dev/null
	kill "$(cat /tmp/killed.pid)"
	sleep 0.5
	check "$m: SIGKILLed: nothing mounted or left" "$(no_tracefs)" ""
	for _ in $(seq 50); do # its remover may wait for the kernel to let go
		[ -z "$(instances)" ] && break
		sleep 0.1
	done
	check "$m: SIGKILLed: no instance left" "$(instances)" ""
done
summary
