package suspendcheck_test

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/gosuspend/suspend/suspendcheck"
)

// A vet tool of your own runs suspendcheck beside your other analyzers: build it, then
// `go vet -vettool=$(which yourtool) ./...`. (Without output, this example is compiled,
// not run.)
func Example() {
	multichecker.Main(
		suspendcheck.Analyzer,
		// your other analyzers
	)
}
