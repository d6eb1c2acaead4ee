package suspendcheck_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A diagnostic expectation of a want comment: a pattern not keyed by an object's name
// (those are facts).
var wantDiag = regexp.MustCompile("(?:^|\\s)(?:`[^`]*`|\"(?:[^\"\\\\]|\\\\.)*\")")

// TestCorpus counts the cases of the test data: the waits marked with a want comment
// (which the tests above require to be reported) and those marked missed (known not to
// be), and the functions of package correct (none of which may be reported). It holds the
// analyzer to finding 95% of the waits.
func TestCorpus(t *testing.T) {
	fset := token.NewFileSet()
	found, missed, correct := 0, 0, 0
	byPkg := make(map[string]int)
	for _, pkg := range []string{"blocking", "escape", "fixes", "correct"} {
		files, err := filepath.Glob(filepath.Join("testdata", "src", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no files in %s: %v", pkg, err)
		}
		for _, name := range files {
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					if text, ok := strings.CutPrefix(c.Text, "// want "); ok {
						n := len(wantDiag.FindAllString(text, -1))
						found += n
						byPkg[pkg] += n
					}
					if c.Text == "// missed" {
						missed++
					}
				}
			}
			if pkg != "correct" {
				continue
			}
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Doc != nil {
					correct++
				}
			}
		}
	}
	t.Logf("reports expected: %d (blocking %d, escape %d, fixes %d), found %d, missed %d; correct cases: %d, reported 0",
		found+missed, byPkg["blocking"], byPkg["escape"], byPkg["fixes"], found, missed, correct)
	// The floors are the corpus's size: a case removed must be replaced.
	if found+missed < 127 || correct < 28 {
		t.Errorf("got %d cases to report and %d correct cases, want at least 127 and 28", found+missed, correct)
	}
	if float64(found) < 0.95*float64(found+missed) {
		t.Errorf("found %d of %d cases, want 95%%", found, found+missed)
	}
}
