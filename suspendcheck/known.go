package suspendcheck

import (
	"go/ast"
	"go/types"
	"strings"
)

// knownWait reports whether call, of fn (nil for a dynamic call), is a wait the analyzer
// knows: one of the standard library's, x/sync's or the library's, or I/O on a net.Conn.
// The standard library is not analyzed; this list is what it knows of it.
func knownWait(info *types.Info, call *ast.CallExpr, fn *types.Func) (hop, bool) {
	if fn == nil || fn.Pkg() == nil {
		// An interface method: the Read and Write of a net.Conn are known.
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
			if s, ok := info.Selections[sel]; ok && s.Kind() == types.MethodVal &&
				hasPrefix(sel.Sel.Name, "Read", "Write") && connLike(s.Recv()) {
				return hop{Name: "(net.Conn)." + sel.Sel.Name + " (network I/O)"}, true
			}
		}
		return hop{}, false
	}
	path, name := fn.Pkg().Path(), fn.Name()
	recv := ""
	if r := fn.Signature().Recv(); r != nil {
		t := r.Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := types.Unalias(t).(*types.Named); ok {
			recv = n.Obj().Name()
		}
	}
	// Name a method by the type it is called on: (*net.TCPConn).Write, not the
	// (*net.conn).Write it promotes.
	h := funcHop(fn)
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && recv != "" {
		if s, ok := info.Selections[sel]; ok {
			t := s.Recv()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			_, ptr := fn.Signature().Recv().Type().(*types.Pointer)
			if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil {
				h.PkgName, h.Name = n.Obj().Pkg().Name(), n.Obj().Name()+"."+name
				if ptr {
					h.Name = "(*" + h.Name[:len(n.Obj().Name())] + ")." + name
				}
			}
		}
	}
	qualified := h.PkgName + "." + h.Name
	if strings.HasPrefix(h.Name, "(*") {
		qualified = "(*" + h.PkgName + "." + h.Name[2:]
	}
	wait := func(what string) (hop, bool) { return hop{Name: qualified + " (" + what + ")"}, true }
	switch path {
	case "time":
		if recv == "" && name == "Sleep" {
			return wait("sleep")
		}
	case "net/http":
		switch {
		case recv == "" && oneOf(name, "Get", "Post", "Head", "PostForm"),
			recv == "Client" && oneOf(name, "Do", "Get", "Post", "Head", "PostForm"),
			recv == "Transport" && name == "RoundTrip":
			return wait("net/http client call")
		}
	case "database/sql":
		switch {
		case oneOf(recv, "DB", "Tx", "Conn", "Stmt") && hasPrefix(name, "Query", "Exec", "Begin", "Prepare", "Ping"),
			recv == "DB" && name == "Conn",
			recv == "Tx" && oneOf(name, "Commit", "Rollback"),
			recv == "Row" && name == "Scan":
			return wait("database/sql call")
		}
	case "net":
		switch {
		case recv == "" && hasPrefix(name, "Dial", "Lookup"),
			oneOf(recv, "Dialer", "Resolver") && hasPrefix(name, "Dial", "Lookup"):
			return wait("network call")
		case strings.HasSuffix(recv, "Conn") && hasPrefix(name, "Read", "Write"),
			strings.HasSuffix(recv, "Listener") && hasPrefix(name, "Accept"):
			return wait("network I/O")
		}
	case "os":
		switch {
		case recv == "File" && oneOf(name, "Read", "ReadAt", "Write", "WriteAt", "WriteString", "ReadFrom", "WriteTo", "Sync"),
			recv == "" && oneOf(name, "ReadFile", "WriteFile"):
			return wait("file I/O")
		}
	case "os/exec":
		if recv == "Cmd" && oneOf(name, "Run", "Wait", "Output", "CombinedOutput") {
			return wait("waits for a process")
		}
	case "sync":
		if oneOf(recv, "WaitGroup", "Cond") && name == "Wait" {
			return wait("waits for other goroutines")
		}
	case "golang.org/x/sync/semaphore":
		if recv == "Weighted" && name == "Acquire" {
			return wait("semaphore wait")
		}
	case "golang.org/x/sync/errgroup":
		if recv == "Group" && name == "Wait" {
			return wait("waits for other goroutines")
		}
	case "golang.org/x/sync/singleflight":
		if recv == "Group" && name == "Do" {
			return wait("waits for another caller")
		}
	case futurePath:
		switch {
		case recv == "Future" && name == "Await":
			return hop{Name: "(*future.Future).Await", Kind: kindFuture}, true
		case recv == "" && name == "Completed":
			// The call makes the iterator; the loop that ranges over it waits.
			return hop{Name: "future.Completed (waits for the futures as it is ranged over)", Kind: kindIter}, true
		}
	case continuationPath:
		switch {
		case recv == "" && name == "Run":
			return wait("waits for a slot while the body holds one")
		case recv == "Scheduler" && name == "Shutdown":
			return wait("waits for the continuations to end")
		}
	case httpadapterPath:
		if recv == "" && name == "Shutdown" {
			return wait("waits for the server and the continuations to end")
		}
	case poolPath:
		switch {
		case recv == "Pool" && oneOf(name, "Acquire", "AcquireAt", "Reacquire"):
			return wait("waits for a slot while the body holds one")
		case recv == "Pool" && name == "Shutdown":
			return wait("waits for the pool to drain")
		}
	}
	if r := fn.Signature().Recv(); r != nil && hasPrefix(name, "Read", "Write") && connLike(r.Type()) {
		return wait("network I/O") // a net.Conn of another package: *tls.Conn, a wrapper
	}
	return hop{}, false
}

// notWait reports whether fn is a call the analyzer knows not to wait, though its code
// may: (*errgroup.Group).Go and TryGo start a goroutine. (Go waits for a goroutine to end
// when the group's limit, set by SetLimit, is reached: a limit of the analyzer.)
func notWait(fn *types.Func) bool {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "golang.org/x/sync/errgroup" {
		return false
	}
	r := fn.Signature().Recv()
	if r == nil {
		return false
	}
	t := r.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Name() == "Group" && oneOf(fn.Name(), "Go", "TryGo")
}

// slotFree reports whether fn is a function of the library that a body calls without
// waiting on its slot. The library's packages are not analyzed: what they do is known.
func slotFree(fn *types.Func) bool {
	if fn.Pkg() == nil {
		return false
	}
	return libPackage(fn.Pkg().Path())
}

// libPackage reports whether path is one of the library's packages (not its examples,
// benchmarks or tools).
func libPackage(path string) bool {
	rest, ok := strings.CutPrefix(path, libPath+"/")
	if !ok {
		return false
	}
	first, _, _ := strings.Cut(rest, "/")
	return oneOf(first, "continuation", "future", "httpadapter", "pool", "internal")
}

// connLike reports whether t has the method set of a net.Conn: its Read and Write are
// network I/O, whatever its type.
func connLike(t types.Type) bool {
	for _, m := range []string{"Read", "Write", "Close", "LocalAddr", "RemoteAddr", "SetDeadline", "SetReadDeadline", "SetWriteDeadline"} {
		obj, _, _ := types.LookupFieldOrMethod(t, true, nil, m)
		if _, ok := obj.(*types.Func); !ok {
			return false
		}
	}
	return true
}

func oneOf(s string, list ...string) bool {
	for _, l := range list {
		if s == l {
			return true
		}
	}
	return false
}

func hasPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
