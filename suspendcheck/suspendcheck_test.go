package suspendcheck_test

import (
	"testing"

	"github.com/gosuspend/suspend/suspendcheck"
	"go.uber.org/goleak"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestAnalyzer runs the analyzer on the test data's packages, loaded once, over stubs of
// the library's packages (testdata/src/github.com/gosuspend/suspend) and of x/sync's:
//
//   - helper: the facts a package exports, for the others to import;
//   - blocking: bodies that block, each wait with the report it must get;
//   - correct: bodies that wait the right way, or not at all: no report;
//   - escape: *continuation.C that escape their body, and some that do not.
func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), suspendcheck.Analyzer, "helper", "blocking", "correct", "escape")
}

// TestFixes applies the fixes of package fixes and compares the result with
// fixes.go.golden.
func TestFixes(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), suspendcheck.Analyzer, "fixes")
}
