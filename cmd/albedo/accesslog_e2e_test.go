package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeAccessLogRotation: the access log named by the config gets a
// line per request; after logrotate's rename and SIGUSR1 the new file gets
// the next lines and the renamed one keeps every earlier line, the ones
// still buffered included; the lines after the signal are flushed at
// shutdown. -access-log overrides the config's file.
func TestServeAccessLogRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts albedo as a child process")
	}
	for _, tt := range []struct {
		name string
		flag bool
	}{{"config", false}, {"flag overrides", true}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			listen := freeLoopbackAddr(t)
			_, port, _ := strings.Cut(listen, ":")
			cfgPath, logPath := filepath.Join(dir, "albedo.yaml"), filepath.Join(dir, "albedo.log")
			cfg := fmt.Sprintf(`state_dir: %s
admin: {address: %s}
access_log: {path: ./access.log}
listeners:
  - {port: %s, address: 127.0.0.1, default_action: {fixed_response: {status_code: 200, message_body: ok}}}
`, filepath.Join(dir, "state"), freeLoopbackAddr(t), port)
			writeFile(t, cfgPath, cfg)
			logFile := filepath.Join(dir, "access.log")
			var extra []string
			if tt.flag {
				logFile = filepath.Join(dir, "flag.log")
				extra = []string{"-access-log", logFile}
			}
			c := startAlbedoChild(t, cfgPath, logPath, extra...)
			c.waitListening(t, listen, logPath)
			for _, p := range []string{"/a", "/b", "/c"} {
				get(t, "http://"+listen+p)
			}
			if err := os.Rename(logFile, logFile+".1"); err != nil {
				t.Fatal(err)
			}
			c.cmd.Process.Signal(syscall.SIGUSR1)
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if b, _ := os.ReadFile(logPath); strings.Contains(string(b), "access log reopened") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no reopen after SIGUSR1:\n%s", logTail(logPath))
				}
			}
			for _, p := range []string{"/d", "/e"} {
				get(t, "http://"+listen+p)
			}
			c.cmd.Process.Signal(syscall.SIGTERM)
			<-c.done
			for file, want := range map[string][]string{logFile + ".1": {"/a", "/b", "/c"}, logFile: {"/d", "/e"}} {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
				if len(lines) != len(want) {
					t.Errorf("%s: %d lines, want %d:\n%s", filepath.Base(file), len(lines), len(want), b)
					continue
				}
				for i, p := range want {
					if !strings.Contains(lines[i], ":"+port+p+" HTTP/1.1\"") {
						t.Errorf("%s line %d is not %s: %s", filepath.Base(file), i+1, p, lines[i])
					}
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "access.log")); tt.flag && err == nil {
				t.Error("with -access-log the config's file was written too")
			}
		})
	}
}
