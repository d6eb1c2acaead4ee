package suspendcheck_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// knownFindings are the reports the analyzer makes on the repository today, as
// "path:line: message" relative to the repository's root: waits kept on purpose and not
// silenced. There are none; one that appears must be fixed, silenced or listed here.
var knownFindings = []string{}

// TestRepository builds the command and runs it on the repository's examples and
// benchmarks (a module of their own), alone and as go vet's tool, and checks that it
// reports what knownFindings lists, and nothing else.
func TestRepository(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not available: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if mod, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !bytes.Contains(mod, []byte("module github.com/gosuspend/suspend\n")) {
		t.Fatalf("the repository is not at %s (../ of the test's directory): %v", root, err)
	}
	bin := filepath.Join(t.TempDir(), "suspendcheck")
	if out, err := exec.Command(goCmd, "build", "-o", bin, "./cmd/suspendcheck").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	runs := []struct {
		name string
		dir  string // relative to root
		args []string
	}{
		{"standalone/examples", ".", []string{bin, "./examples/..."}},
		{"standalone/bench", "bench", []string{bin, "./..."}},
		{"vet/examples", ".", []string{goCmd, "vet", "-vettool=" + bin, "./examples/..."}},
		{"vet/bench", "bench", []string{goCmd, "vet", "-vettool=" + bin, "./..."}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			cmd := exec.Command(r.args[0], r.args[1:]...)
			cmd.Dir = filepath.Join(root, r.dir)
			out, err := cmd.CombinedOutput()
			got := findings(t, root, cmd.Dir, out)
			want := knownIn(r.dir)
			if !slices.Equal(got, want) {
				t.Errorf("findings in %s:\ngot  %q\nwant %q\noutput:\n%s", r.dir, got, want, out)
			}
			if len(want) == 0 && err != nil {
				t.Errorf("%v: %v\n%s", r.args, err, out)
			}
		})
	}
}

var diagLine = regexp.MustCompile(`^(\S+\.go):(\d+):\d+: (.*)$`)

// findings returns the reports in out, as "path:line: message" relative to root, sorted.
// Any other line but go vet's package headers fails t.
func findings(t *testing.T, root, dir string, out []byte) []string {
	t.Helper()
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := diagLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("unexpected output line: %s", line)
			continue
		}
		file := m[1]
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		rel, err := filepath.Rel(root, file)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, filepath.ToSlash(rel)+":"+m[2]+": "+m[3])
	}
	slices.Sort(got)
	return slices.Compact(got)
}

// knownIn returns the known findings in the packages run in dir, sorted.
func knownIn(dir string) []string {
	var want []string
	for _, k := range knownFindings {
		if dir == "." && !strings.HasPrefix(k, "examples/") || dir != "." && !strings.HasPrefix(k, dir+"/") {
			continue
		}
		want = append(want, k)
	}
	slices.Sort(want)
	return want
}
