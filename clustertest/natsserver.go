package clustertest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NATSServer is a nats-server process of its own (the machine's binary,
// or the one PARLEY_TEST_NATS_SERVER names), on loopback ports picked at
// random, so that tests can freeze (SIGSTOP) and kill it without touching
// the NATS other tests use.
type NATSServer struct {
	Port, ClusterPort, MonitorPort int

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{}
}

// NATSServerBinary returns the nats-server to run, skipping the test (or
// failing it, with CI=true) when there is none.
func NATSServerBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("PARLEY_TEST_NATS_SERVER")
	if bin == "" {
		bin = "nats-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		if p, err2 := exec.LookPath("/usr/sbin/nats-server"); err2 == nil {
			return p
		}
		unreachable(t, "nats-server", "PARLEY_TEST_NATS_SERVER", bin, err)
	}
	return path
}

// NATSCluster starts n nats-server processes routed into one cluster and
// waits until every server has a route to every other. They are killed
// when the test ends.
func NATSCluster(t testing.TB, n int) []*NATSServer {
	t.Helper()
	bin := NATSServerBinary(t)
	ports := freePorts(t, 3*n)
	servers := make([]*NATSServer, n)
	routes := make([]string, n)
	for i := range servers {
		servers[i] = &NATSServer{Port: ports[3*i], ClusterPort: ports[3*i+1], MonitorPort: ports[3*i+2], t: t}
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", servers[i].ClusterPort)
	}
	dir := t.TempDir()
	for i, s := range servers {
		conf := fmt.Sprintf(`host: 127.0.0.1
port: %d
http: "127.0.0.1:%d"
cluster {
  name: parley-test
  listen: "127.0.0.1:%d"
  routes: [%s]
}
`, s.Port, s.MonitorPort, s.ClusterPort, strings.Join(append(routes[:i:i], routes[i+1:]...), ", "))
		path := filepath.Join(dir, fmt.Sprintf("nats%d.conf", i+1))
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		s.start(bin, path)
	}
	for _, s := range servers {
		s.waitRoutes(n - 1)
	}
	return servers
}

func (s *NATSServer) start(bin, conf string) {
	s.t.Helper()
	s.cmd = exec.Command(bin, "-c", conf)
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		s.cmd.Stderr = os.Stderr
	}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start nats-server: %v", err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	s.t.Cleanup(s.Kill)
}

// waitRoutes waits until the server answers and has n routes.
func (s *NATSServer) waitRoutes(n int) {
	s.t.Helper()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var rz struct {
			NumRoutes int `json:"num_routes"`
		}
		res, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/routez", s.MonitorPort))
		if err == nil {
			json.NewDecoder(res.Body).Decode(&rz)
			res.Body.Close()
			if rz.NumRoutes >= n {
				return
			}
		}
		select {
		case <-s.done:
			s.t.Fatalf("nats-server on port %d exited", s.Port)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server on port %d: %d routes after 20 s, want %d (%v)", s.Port, rz.NumRoutes, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URL is the server's client URL.
func (s *NATSServer) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.Port) }

// Addr is the server's client host:port.
func (s *NATSServer) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// Freeze stops the process (SIGSTOP): its sockets stay open and nothing
// answers, as with a hung server.
func (s *NATSServer) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen process (SIGCONT).
func (s *NATSServer) Thaw() { s.signal(syscall.SIGCONT) }

func (s *NATSServer) signal(sig syscall.Signal) {
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Errorf("nats-server %d: %v: %v", s.Port, sig, err)
	}
}

// Kill kills the process (SIGKILL, which also ends a frozen one) and waits
// for it.
func (s *NATSServer) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}
