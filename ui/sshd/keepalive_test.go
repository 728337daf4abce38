package sshd

import (
	"net"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/influencegen/influencegen/app"
)

// A client that stops answering (a laptop shut without logging out) is
// cut off by the keep-alives, and its session slot is freed.
func TestAClientThatStopsAnsweringKeepAlivesIsDisconnected(t *testing.T) {
	r := newRig(t, func(o *Options) { o.KeepAlive = 250 * time.Millisecond })
	key := r.addUser("mia", app.RoleStaff)
	tcp, err := net.Dial("tcp", r.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	conn, chans, _, err := gossh.NewClientConn(tcp, r.srv.Addr(), &gossh.ClientConfig{User: "mia",
		Auth: []gossh.AuthMethod{gossh.PublicKeys(key)}, HostKeyCallback: gossh.InsecureIgnoreHostKey()})
	if err != nil {
		t.Fatal(err)
	}
	// nil: the server's global requests (its keep-alives) are never read,
	// so never answered.
	client := gossh.NewClient(conn, chans, nil)
	tm := openTerminal(t, client, 100, 30)
	// The dashboard's first frame shows the session is up; its list may
	// still be loading on a busy machine when the keep-alives give up.
	tm.waitFor("InfluenceGen")
	deadline := time.Now().Add(20 * time.Second)
	for r.srv.Sessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions still open 20s after the client stopped answering", r.srv.Sessions())
		}
		time.Sleep(10 * time.Millisecond) // polling a counter the server owns
	}
}
