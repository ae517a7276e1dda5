package launch

import (
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// terminal is what the command gets for its standard streams. When any of
// gocap's is a terminal, the command gets a pseudo-terminal of its own in
// its place, as its controlling terminal, and gocap relays between the
// two, as su --pty and sudo's use_pty do: root's terminal is never the
// command's, so TIOCSTI on its terminal only reaches its own input, and
// what it leaves running holds a terminal that is gone when gocap ends.
// Streams that are not terminals (a pipe, a file) it gets as they are.
type terminal struct {
	files [3]*os.File // the command's standard input, output and error
	pty   *os.File    // the pty's master side; nil without a terminal
	slave *os.File    // its other side, until the command has it
	ctty  int         // which of the command's streams is the pty
	out   *os.File    // where what the command writes to the pty goes
	// With gocap's input a terminal: its settings, put back at close,
	// and what stops the relay of its input.
	saved              *unix.Termios
	in                 int // gocap's standard input
	stopIn, stoppedIn  *os.File
	outDone, inDone    chan struct{}
	lastOut            byte // the last byte relayed to out, once outDone
	winch              chan os.Signal
	finishing, closing sync.Once
}

func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// openTerminal makes the command's streams; with a pty, one owned by the
// user the command runs as, with the size and settings of gocap's
// terminal, which is put in raw mode when it is gocap's input.
func openTerminal(s *Spec) (*terminal, error) {
	std := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	if s.StdoutToStderr {
		std[1] = os.Stderr
	}
	var fds [3]int
	for i, f := range std {
		fds[i] = int(f.Fd())
	}
	t := &terminal{files: std, ctty: -1, in: fds[0]}
	src := -1 // a terminal of gocap's, for settings and size
	for _, i := range []int{1, 2, 0} {
		if src < 0 && isTerminal(fds[i]) {
			src, t.out = fds[i], std[i]
		}
	}
	if src < 0 {
		return t, nil
	}
	master, slave, err := openPTY()
	if err != nil {
		return nil, err
	}
	t.pty, t.slave = master, slave
	if s.AsUser {
		if err := slave.Chown(s.UID, -1); err != nil {
			t.close()
			return nil, err
		}
	}
	if tios, err := unix.IoctlGetTermios(src, unix.TCGETS); err == nil {
		unix.IoctlSetTermios(int(slave.Fd()), unix.TCSETS, tios)
	}
	t.resize(src)
	for i, fd := range fds {
		if isTerminal(fd) {
			t.files[i] = slave
			if t.ctty < 0 {
				t.ctty = i
			}
		}
	}
	if t.files[0] == slave {
		saved, err := unix.IoctlGetTermios(t.in, unix.TCGETS)
		if err == nil {
			err = unix.IoctlSetTermios(t.in, unix.TCSETS, rawMode(*saved))
		}
		if err != nil {
			t.close()
			return nil, err
		}
		t.saved = saved
	}
	t.winch = make(chan os.Signal, 1)
	signal.Notify(t.winch, syscall.SIGWINCH)
	go func() {
		for range t.winch {
			t.resize(src)
		}
	}()
	return t, nil
}

// openPTY opens a new pty; its other side is opened from the master
// (TIOCGPTPEER), never by a name in /dev/pts that could be another's.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	rc, err := master.SyscallConn()
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	sfd := -1
	cerr := rc.Control(func(fd uintptr) {
		if err = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); err != nil {
			return
		}
		r, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
		if errno != 0 {
			err = errno
			return
		}
		sfd = int(r)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, os.NewFile(uintptr(sfd), "pty"), nil
}

// rawMode is cfmakeraw's settings: every byte typed goes to the command's
// pty as it is, whose own settings then decide what it means (Ctrl-C
// there interrupts the command, not gocap).
func rawMode(t unix.Termios) *unix.Termios {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return &t
}

// resize gives the pty the size of gocap's terminal src.
func (t *terminal) resize(src int) {
	ws, err := unix.IoctlGetWinsize(src, unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	if rc, err := t.pty.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) })
	}
}

// started is called once the command has its side of the pty: gocap
// closes its own and starts relaying.
func (t *terminal) started() {
	if t.pty == nil {
		return
	}
	t.slave.Close()
	t.slave = nil
	t.outDone = make(chan struct{})
	go func() {
		t.lastOut = relay(t.out, t.pty)
		close(t.outDone)
	}()
	if t.saved != nil {
		var err error
		if t.stoppedIn, t.stopIn, err = os.Pipe(); err == nil {
			t.inDone = make(chan struct{})
			go t.copyInput()
		}
	}
}

// relay copies what the command writes to its pty to gocap's terminal
// until the pty is closed or gone, and returns the last byte copied.
func relay(out io.Writer, pty io.Reader) byte {
	var last byte
	buf := make([]byte, 32*1024)
	for {
		n, err := pty.Read(buf)
		if n > 0 {
			last = buf[n-1]
			if _, err := out.Write(buf[:n]); err != nil {
				return last
			}
		}
		if err != nil {
			return last
		}
	}
}

// terminalReset undoes what a command may leave set in the terminal it
// wrote to, so that what gocap writes after it shows as written: CAN
// ends an escape sequence left open, then the character set (SI, G0
// ASCII), the normal screen (1047: without moving the cursor to one the
// command saved, as 1049 would), the text's attributes (the conceal of \e[8m
// among them), a visible cursor, the scroll region (with the cursor kept
// where it is), autowrap, insert, origin, cursor-key and keypad modes,
// and mouse, focus and bracketed-paste reporting, which would otherwise
// type into root's shell.
const terminalReset = "\x18\x0f\x1b(B\x1b[?1047l\x1b[0m\x1b[?25h\x1b7\x1b[r\x1b8\x1b[?7h\x1b[4l\x1b[?6l\x1b[?1l\x1b>" +
	"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1004l\x1b[?2004l"

// copyInput relays gocap's input to the pty until told to stop; it waits
// with poll, so that no key typed after the command ended is taken.
func (t *terminal) copyInput() {
	defer close(t.inDone)
	buf := make([]byte, 4096)
	fds := []unix.PollFd{{Fd: int32(t.in), Events: unix.POLLIN}, {Fd: int32(t.stoppedIn.Fd()), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		if fds[1].Revents != 0 || fds[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
			return
		}
		n, err := unix.Read(t.in, buf)
		if n <= 0 || err != nil {
			return
		}
		if _, err := t.pty.Write(buf[:n]); err != nil {
			return
		}
	}
}

// finish is called when the command has ended: what it wrote is relayed
// for a moment more, then the pty is closed, so that anything it left
// running that still holds it reads and writes a terminal that is gone,
// and cannot keep gocap waiting.
func (t *terminal) finish() {
	t.finishing.Do(func() {
		if t.pty == nil || t.outDone == nil {
			return
		}
		t.pty.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		<-t.outDone
		// The relay has ended: the command's output can no longer
		// reach the terminal, and what it left set there is undone,
		// on a line of its own, before gocap writes anything.
		end := "\r"
		if t.lastOut != 0 && t.lastOut != '\n' {
			end = "\r\n"
		}
		io.WriteString(t.out, terminalReset+end)
	})
}

// close puts gocap's terminal back as it was and lets go of the pty.
func (t *terminal) close() {
	t.closing.Do(func() {
		if t.pty != nil {
			t.pty.Close() // ends a relay blocked writing to it
		}
		if t.stopIn != nil {
			t.stopIn.Close()
			<-t.inDone
			t.stoppedIn.Close()
		}
		if t.saved != nil {
			unix.IoctlSetTermios(t.in, unix.TCSETS, t.saved)
		}
		if t.winch != nil {
			signal.Stop(t.winch)
			close(t.winch)
		}
		if t.slave != nil {
			t.slave.Close()
		}
	})
}
