package launch

import (
	"reflect"
	"strings"
	"testing"
)

func TestLoginEnv(t *testing.T) {
	alice := Account{Name: "alice", Home: "/home/alice", Shell: "/bin/bash"}
	login := []string{"HOME=/home/alice", "USER=alice", "LOGNAME=alice", "SHELL=/bin/bash", "PATH=" + LoginPath}
	root := []string{"HOME=/root", "PWD=/root", "USER=root", "PATH=/usr/sbin:/usr/bin:/sbin:/bin:/root/bin",
		"AWS_SECRET_ACCESS_KEY=s3cr3t", "GOCAP_SECRET=x", "TERM=xterm-256color", "LANG=C.UTF-8", "SSH_AUTH_SOCK=/tmp/ssh-x/agent"}
	for _, tc := range []struct {
		name   string
		caller []string
		keep   []string
		want   []string
	}{
		{"nothing of root's but TERM", root, nil, append(login, "TERM=xterm-256color")},
		{"no TERM", []string{"PWD=/root"}, nil, login},
		{"a TERM that is a path", []string{"TERM=../../tmp/x"}, nil, login},
		{"a TERM with ESC", []string{"TERM=xterm\x1b[2J"}, nil, login},
		{"kept", root, []string{"LANG", "SSH_AUTH_SOCK"}, append(login, "TERM=xterm-256color", "LANG=C.UTF-8", "SSH_AUTH_SOCK=/tmp/ssh-x/agent")},
		{"kept but unset", root, []string{"NOT_SET"}, append(login, "TERM=xterm-256color")},
		{"kept PATH replaces the plain one", root, []string{"PATH"},
			[]string{"HOME=/home/alice", "USER=alice", "LOGNAME=alice", "SHELL=/bin/bash", "PATH=/usr/sbin:/usr/bin:/sbin:/bin:/root/bin", "TERM=xterm-256color"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LoginEnv(alice, tc.caller, tc.keep); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoginEnv:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"LANG": true, "_x1": true, "": false, "1A": false, "A=B": false, "A B": false, "Ä": false} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v", name, got)
		}
	}
}

func TestCredentialsRoundTrip(t *testing.T) {
	s := &Spec{AsUser: true, UID: 1001, GID: 1002, Groups: []int{1002, 27}, Inh: 1 << 13, Amb: 1 << 23, BoundDrop: 1 << 8}
	enc := s.encode()
	if enc != "1001:1002:1002,27:2000:800000:100" {
		t.Errorf("encode: %q", enc)
	}
	back, err := decodeCredentials(enc)
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("decode %q: %+v, %v", enc, back, err)
	}
	if got := (&Spec{}).encode(); got != "caller" {
		t.Errorf("caller: %q", got)
	}
	if s, err := decodeCredentials("1:1::0:0:0"); err != nil || s.Groups != nil {
		t.Errorf("no groups: %+v, %v", s, err)
	}
	for _, bad := range []string{"", "1:2:3", "x:1::0:0:0", "1:1:a:0:0:0", "1:1::zz:0:0"} {
		if _, err := decodeCredentials(bad); err == nil || !strings.Contains(err.Error(), "bad launch spec") {
			t.Errorf("decode %q: %v", bad, err)
		}
	}
}
