package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the command itself when the test binary is started as it, so that the
// tests can speak both protocols to it without building it.
func TestMain(m *testing.M) {
	if os.Getenv("SUSPENDCHECK_RUN_MAIN") == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// command returns the test binary, run as the command with args.
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "SUSPENDCHECK_RUN_MAIN=1")
	return cmd
}

// go vet asks its tool for its flags, as JSON, and for its version: the command answers
// both, as singlechecker does.
func TestVetProtocol(t *testing.T) {
	out, err := command(t, "-flags").Output()
	if err != nil {
		t.Fatalf("-flags: %v", err)
	}
	var flags []struct{ Name string }
	if err := json.Unmarshal(out, &flags); err != nil {
		t.Fatalf("-flags: %v\n%s", err, out)
	}
	if len(flags) == 0 {
		t.Errorf("-flags: got no flags, want some")
	}
	out, err = command(t, "-V=full").Output()
	if err != nil {
		t.Fatalf("-V=full: %v", err)
	}
	if got := string(out); !strings.Contains(got, "version") {
		t.Errorf("-V=full: got %q, want a version line", got)
	}
}

// The command's usage names the analyzer and what it reports.
func TestUsage(t *testing.T) {
	out, _ := command(t, "-help").CombinedOutput()
	if got := string(out); !strings.Contains(got, "suspendcheck: report waits that hold a continuation's pool slot") {
		t.Errorf("-help: got %q, want the analyzer's name and summary", got)
	}
}
