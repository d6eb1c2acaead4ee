// Command suspendcheck reports the waits that hold a continuation's pool slot (see package
// suspendcheck). Run it alone or as go vet's tool:
//
//	suspendcheck ./...
//	go vet -vettool=$(which suspendcheck) ./...
package main

import (
	"github.com/gosuspend/suspend/suspendcheck"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() { singlechecker.Main(suspendcheck.Analyzer) }
